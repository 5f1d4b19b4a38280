package interop_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/tapis-go/tapis/internal/testenv"
	tapisoauth2 "github.com/tapis-go/tapis/oauth2"
)

// go-oidc as a relying party with its default (strict) settings: discovery
// at the issuer, then the code flow with nonce and PKCE through our pages;
// the id_token passes issuer, audience, expiry and signature checks, its
// nonce and at_hash match, userinfo names the same subject, and a refresh
// gives a new id_token that passes too.
func TestGoOIDCRelyingParty(t *testing.T) {
	env, issuer := testenv.Serve(t)
	key := confidentialClient(t, env, "go-oidc-rp")
	ctx := context.Background()

	provider, err := oidc.NewProvider(ctx, issuer)
	require.NoError(t, err, "discovery at <issuer>/.well-known/openid-configuration, issuer checked")
	conf := oauth2.Config{ClientID: "go-oidc-rp", ClientSecret: key, RedirectURL: callback, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	verifier := provider.Verifier(&oidc.Config{ClientID: "go-oidc-rp"})

	state, nonce, pkce := "state-"+oauth2.GenerateVerifier()[:8], "nonce-"+oauth2.GenerateVerifier()[:12], oauth2.GenerateVerifier()
	cb := newBrowser(t).authorize(conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(pkce)))
	require.Equal(t, state, cb.Get("state"))
	tok, err := conf.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(pkce))
	require.NoError(t, err)
	rawID, _ := tok.Extra("id_token").(string)
	require.NotEmpty(t, rawID, "scope openid: an id_token")

	id, err := verifier.Verify(ctx, rawID)
	require.NoError(t, err, "issuer, audience, expiry and signature")
	assert.Equal(t, nonce, id.Nonce)
	require.NoError(t, id.VerifyAccessToken(tok.AccessToken), "at_hash")
	assert.Equal(t, user+"@dev", id.Subject)
	assert.Equal(t, issuer, id.Issuer)
	var idClaims struct {
		PreferredUsername string `json:"preferred_username"`
		AuthTime          int64  `json:"auth_time"`
		AZP               string `json:"azp"`
	}
	require.NoError(t, id.Claims(&idClaims))
	assert.Equal(t, user, idClaims.PreferredUsername)
	assert.Equal(t, "go-oidc-rp", idClaims.AZP)
	assert.InDelta(t, time.Now().Unix(), idClaims.AuthTime, 60, "auth_time is the sign-in's")

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	require.NoError(t, err)
	assert.Equal(t, id.Subject, info.Subject, "userinfo names the id_token's subject")

	// A wrong nonce, audience or issuer is caught by the same checks.
	assert.NotEqual(t, "another-nonce", id.Nonce)
	_, err = provider.Verifier(&oidc.Config{ClientID: "someone-else"}).Verify(ctx, rawID)
	assert.ErrorContains(t, err, "audience", "the audience check is on")
	_, err = verifier.Verify(ctx, tok.AccessToken)
	assert.Error(t, err, "an access token is not an id_token for this client (aud is the issuer)")
	late := provider.Verifier(&oidc.Config{ClientID: "go-oidc-rp", Now: func() time.Time { return time.Now().Add(5 * time.Hour) }})
	_, err = late.Verify(ctx, rawID)
	assert.ErrorContains(t, err, "expired")

	// Refresh through the library: a new id_token that verifies, without nonce.
	old := *tok
	old.Expiry = time.Now().Add(-time.Minute)
	fresh, err := conf.TokenSource(ctx, &old).Token()
	require.NoError(t, err)
	assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken, "rotated")
	rawFresh, _ := fresh.Extra("id_token").(string)
	require.NotEmpty(t, rawFresh)
	again, err := verifier.Verify(ctx, rawFresh)
	require.NoError(t, err)
	assert.Equal(t, id.Subject, again.Subject)
	assert.Empty(t, again.Nonce, "OIDC Core §12.2: no nonce on refresh")
	require.NoError(t, again.VerifyAccessToken(fresh.AccessToken))
}

// A resource server verifies our access tokens with go-oidc's verifier and
// every check on: the tenant's issuer, its JWKS, the audience (the issuer,
// for tokens asked with a scope), expiry and signature.
func TestGoOIDCResourceServerVerifiesAccessTokens(t *testing.T) {
	env, issuer := testenv.Serve(t)
	key := confidentialClient(t, env, "api-client")
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, issuer)
	require.NoError(t, err)
	var meta struct {
		JWKS string `json:"jwks_uri"`
	}
	require.NoError(t, provider.Claims(&meta))
	rs := oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, meta.JWKS), &oidc.Config{ClientID: issuer})

	conf := oauth2.Config{ClientID: "api-client", ClientSecret: key, Endpoint: provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID}}
	tok, err := conf.PasswordCredentialsToken(ctx, user, user)
	require.NoError(t, err)
	at, err := rs.Verify(ctx, tok.AccessToken)
	require.NoError(t, err, "issuer, audience, expiry, signature")
	var claims struct {
		Username string `json:"tapis/username"`
		Tenant   string `json:"tapis/tenant_id"`
		ClientID string `json:"client_id"`
	}
	require.NoError(t, at.Claims(&claims))
	assert.Equal(t, user, claims.Username)
	assert.Equal(t, "dev", claims.Tenant)
	assert.Equal(t, "api-client", claims.ClientID)
	assert.Equal(t, user+"@dev", at.Subject)

	_, err = oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, meta.JWKS), &oidc.Config{ClientID: "https://elsewhere.example.org"}).Verify(ctx, tok.AccessToken)
	assert.ErrorContains(t, err, "audience")
	_, err = oidc.NewVerifier(issuer, oidc.NewRemoteKeySet(ctx, meta.JWKS), &oidc.Config{ClientID: issuer,
		Now: func() time.Time { return time.Now().Add(5 * time.Hour) }}).Verify(ctx, tok.AccessToken)
	assert.ErrorContains(t, err, "expired")
	parts := strings.Split(tok.AccessToken, ".")
	sig := []byte(parts[2])
	sig[10] ^= 1
	_, err = rs.Verify(ctx, parts[0]+"."+parts[1]+"."+string(sig))
	assert.Error(t, err, "a changed signature")

	// A token of another tenant (its own issuer and keys) is refused.
	other, err := env.Server.OAuth2().Token(ctx, tapisoauth2.TokenRequest{TenantID: "other", GrantType: tapisoauth2.GrantPassword,
		Username: user, Password: user, Scope: "openid"})
	require.NoError(t, err)
	_, err = rs.Verify(ctx, other.Access.Raw)
	assert.Error(t, err, "another tenant's token")

	// Without a scope (as tapipy asks) the token stays Tapis-shaped: no aud,
	// so a strict verifier refuses it; documented in the README.
	plain, err := env.Server.OAuth2().Token(ctx, tapisoauth2.TokenRequest{TenantID: "dev", GrantType: tapisoauth2.GrantPassword,
		Username: user, Password: user})
	require.NoError(t, err)
	_, err = rs.Verify(ctx, plain.Access.Raw)
	assert.ErrorContains(t, err, "audience")
}
