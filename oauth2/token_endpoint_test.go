package oauth2_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Service-level tests of the token endpoint (Provider.Token): the
// password, refresh_token and authorization_code grants, each rule with a
// refused and an accepted case, the RFC 6749 code of each refusal and the
// Tapis message. OpenID Connect details are oidc_test.go's.

// passwordReq is a password grant of testuser1 by client id with key.
func passwordReq(id, key string) oauth2.TokenRequest {
	return oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, ClientID: id, ClientKey: key,
		Username: "testuser1", Password: "testuser1"}
}

func testUnknownGrantTypes(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev"})
	refusedGrant(t, err, "invalid_request", "Missing the required grant_type parameter.")
	for _, g := range []string{"client_credentials", oauth2.GrantImplicit, "PASSWORD"} {
		_, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: g})
		refusedGrant(t, err, "unsupported_grant_type", "Invalid grant_type ("+g+")")
	}
}

func testPasswordGrant(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, key := confidentialClient(t, env, "pw-cli")

	// Without a client (as tapipy asks): an access token only.
	pair, err := p.Token(ctx, passwordReq("", ""))
	require.NoError(t, err)
	assert.Nil(t, pair.Refresh)
	c := claimsOf(t, pair.Access.Raw)
	assert.Nil(t, c["tapis/client_id"])
	assert.Equal(t, "password", c["tapis/grant_type"])
	assert.Equal(t, "testuser1", c["tapis/username"])
	assert.InDelta(t, (4 * time.Hour).Seconds(), float64(pair.Access.ExpiresIn), 1, "the tenant's default access TTL")

	// With a client: a refresh token too.
	pair, err = p.Token(ctx, passwordReq("pw-cli", key))
	require.NoError(t, err)
	require.NotNil(t, pair.Refresh)
	assert.Equal(t, "pw-cli", claimsOf(t, pair.Access.Raw)["tapis/client_id"])
	claims, err := env.Server.Tokens().Validate(ctx, pair.Access.Raw, "access")
	require.NoError(t, err)
	assert.Equal(t, tenancy.AccountUser, claims.AccountType)

	for name, req := range map[string]oauth2.TokenRequest{
		"a wrong password":      {Username: "testuser1", Password: "nope"},
		"an unknown user":       {Username: "nobody", Password: "nobody"},
		"a service account":     {Username: "jobs", Password: testenv.ServicePassword, TenantID: "admin"},
		"another tenant's user": {Username: "testuser2", Password: "testuser2", TenantID: "other"},
	} {
		if req.TenantID == "" {
			req.TenantID = "dev"
		}
		req.GrantType = oauth2.GrantPassword
		_, err := p.Token(ctx, req)
		refusedGrant(t, err, "invalid_grant", "Invalid username/password combination.")
		assert.NotContains(t, err.Error(), req.Password, name)
	}
	_, err = p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, Username: "testuser1"})
	refusedGrant(t, err, "invalid_request", "username and password are required")
	_, err = p.Token(ctx, passwordReq("pw-cli", "wrong-key-wrong-key"))
	refusedGrant(t, err, "invalid_client", "Invalid client credentials.")
	assert.NotContains(t, err.Error(), "wrong-key")
	_, err = p.Token(ctx, passwordReq("pw-cli", ""))
	refusedGrant(t, err, "invalid_client", "Invalid client credentials.") // a confidential client needs its key
	_, err = p.Token(ctx, passwordReq("nosuch", "some-key-some-key"))
	refusedGrant(t, err, "invalid_client", "Invalid client credentials.")
}

// testAuthenticatorSpellsTheUser: tokens carry the authenticator's
// spelling of the user name, not what was typed.
func testAuthenticatorSpellsTheUser(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	id, err := p.CheckPassword(context.Background(), "dev", "testuser1", "testuser1", "")
	require.NoError(t, err)
	assert.Equal(t, "testuser1", id.Username)
}

func testRefreshGrant(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, key := confidentialClient(t, env, "rt-cli")
	_, otherKey := confidentialClient(t, env, "rt-other")
	refresh := func(id, k, rt string) (oauth2.TokenPair, error) {
		return p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantRefreshToken, ClientID: id, ClientKey: k, RefreshToken: rt})
	}
	first, err := p.Token(ctx, passwordReq("rt-cli", key))
	require.NoError(t, err)

	second, err := refresh("rt-cli", key, first.Refresh.Raw)
	require.NoError(t, err)
	assert.Equal(t, float64(1), claimsOf(t, second.Access.Raw)["tapis/refresh_count"])
	assert.Equal(t, "refresh_token", claimsOf(t, second.Access.Raw)["tapis/grant_type"])
	assert.NotEqual(t, first.Refresh.Raw, second.Refresh.Raw, "refresh tokens rotate")
	third, err := refresh("rt-cli", key, second.Refresh.Raw)
	require.NoError(t, err)
	assert.Equal(t, float64(2), claimsOf(t, third.Access.Raw)["tapis/refresh_count"])

	_, err = refresh("rt-other", otherKey, third.Refresh.Raw)
	refusedGrant(t, err, "invalid_grant", "does not match the client_id in the token claim (rt-cli)")
	_, err = refresh("rt-cli", "wrong-key-wrong-key", third.Refresh.Raw)
	refusedGrant(t, err, "invalid_client", "Invalid client credentials.")
	_, err = refresh("rt-cli", key, third.Access.Raw)
	refusedGrant(t, err, "invalid_grant", "a token of type access was passed")
	_, err = refresh("rt-cli", key, "garbage")
	refusedGrant(t, err, "invalid_grant", "Invalid refresh_token.")
	_, err = refresh("rt-cli", key, "")
	refusedGrant(t, err, "invalid_request", "Required refresh_token parameter missing.")
	foreign := env.Token(t, oauth2.MintRequest{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser,
		GenerateRefresh: true, Claims: map[string]any{"tapis/client_id": "rt-cli"}})
	_, err = refresh("rt-cli", key, foreign.Refresh.Raw)
	refusedGrant(t, err, "invalid_grant", "it was not issued by this authenticator")
	other := env.Token(t, oauth2.MintRequest{TenantID: "other", Username: "testuser1", AccountType: tenancy.AccountUser,
		GenerateRefresh: true, Claims: map[string]any{"tapis/client_id": "rt-cli"}})
	_, err = refresh("rt-cli", key, other.Refresh.Raw)
	refusedGrant(t, err, "invalid_grant", "it belongs to another tenant")

	// A replayed refresh token revokes its whole family.
	_, err = refresh("rt-cli", key, first.Refresh.Raw)
	refusedGrant(t, err, "invalid_grant", "it was already used, so every token of its family has been revoked")
	for name, raw := range map[string]string{"the newest access token": third.Access.Raw, "an older one": second.Access.Raw} {
		_, err := env.Server.Tokens().Validate(ctx, raw, "access")
		assert.ErrorIs(t, err, oauth2.ErrInvalidToken, name)
	}
	_, err = refresh("rt-cli", key, third.Refresh.Raw)
	refusedGrant(t, err, "invalid_grant", "")
	assert.Contains(t, []string{"Invalid refresh_token: its token family has been revoked.", "Invalid refresh_token."}, err.Error())

	// Another family is untouched.
	fresh, err := p.Token(ctx, passwordReq("rt-cli", key))
	require.NoError(t, err)
	_, err = refresh("rt-cli", key, fresh.Refresh.Raw)
	assert.NoError(t, err)
}

func testAuthorizationCodeGrant(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, key := confidentialClient(t, env, "code-cli")
	_, otherKey := confidentialClient(t, env, "code-other")
	redeem := func(id, k, code, redirect, verifier string) (oauth2.TokenPair, error) {
		return p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantAuthorizationCode, ClientID: id, ClientKey: k,
			Code: code, RedirectURI: redirect, CodeVerifier: verifier})
	}
	plainCode := func() string { // no PKCE
		to, err := p.Approve(ctx, oauth2.AuthorizeRequest{TenantID: "dev", ClientID: "code-cli", RedirectURI: oidcCallback,
			ResponseType: oauth2.ResponseCode}, "testuser1", time.Time{})
		require.NoError(t, err)
		u, err := url.Parse(to)
		require.NoError(t, err)
		return u.Query().Get("code")
	}

	code := plainCode()
	pair, err := redeem("code-cli", key, code, oidcCallback, "")
	require.NoError(t, err)
	require.NotNil(t, pair.Refresh)
	c := claimsOf(t, pair.Access.Raw)
	assert.Equal(t, "testuser1", c["tapis/username"])
	assert.Equal(t, "authorization_code", c["tapis/grant_type"])
	assert.Equal(t, oidcCallback, c["tapis/redirect_uri"])

	// A second redemption fails and revokes what the first produced.
	_, err = redeem("code-cli", key, code, oidcCallback, "")
	refusedGrant(t, err, "invalid_grant", "authorization code not valid.")
	_, err = env.Server.Tokens().Validate(ctx, pair.Access.Raw, "access")
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken)
	_, err = p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantRefreshToken, ClientID: "code-cli", ClientKey: key,
		RefreshToken: pair.Refresh.Raw})
	refusedGrant(t, err, "invalid_grant", "")

	cases := []struct {
		name                    string
		id, key, redirect, want string
		code                    string
	}{
		{"another client", "code-other", otherKey, oidcCallback, "authorization code not valid.", "invalid_grant"},
		{"another redirect URI", "code-cli", key, oidcCallback + "/", "does not match callback URL", "invalid_grant"},
		{"no redirect URI", "code-cli", key, "", "Required redirect_uri parameter missing.", "invalid_request"},
		{"no client", "", "", oidcCallback, "Invalid client credentials.", "invalid_client"},
		{"a wrong client key", "code-cli", "wrong-key-wrong-key", oidcCallback, "Invalid client credentials.", "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := redeem(tc.id, tc.key, plainCode(), tc.redirect, "")
			refusedGrant(t, err, tc.code, tc.want)
		})
	}
	_, err = redeem("code-cli", key, "", oidcCallback, "")
	refusedGrant(t, err, "invalid_request", "Required authorization_code parameter missing.")
	_, err = redeem("code-cli", key, "made-up-code", oidcCallback, "")
	refusedGrant(t, err, "invalid_grant", "authorization code not valid.")

	// PKCE: a code with a challenge needs its verifier; a code without
	// one refuses a verifier (no downgrade).
	pkce := codeFor(t, p, "code-cli", "", "", time.Time{})
	_, err = redeem("code-cli", key, pkce, oidcCallback, "")
	refusedGrant(t, err, "invalid_grant", "code_verifier is required")
	pkce = codeFor(t, p, "code-cli", "", "", time.Time{})
	_, err = redeem("code-cli", key, pkce, oidcCallback, oidcVerifier+"x")
	refusedGrant(t, err, "invalid_grant", "code_verifier does not match the code_challenge.")
	pkce = codeFor(t, p, "code-cli", "", "", time.Time{})
	_, err = redeem("code-cli", key, pkce, oidcCallback, oidcVerifier)
	require.NoError(t, err)
	_, err = redeem("code-cli", key, plainCode(), oidcCallback, oidcVerifier)
	refusedGrant(t, err, "invalid_grant", "the authorization request had no code_challenge")

	// A public client redeems with PKCE and no key.
	_, _, err = p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "code-spa", Public: true, CallbackURL: oidcCallback})
	require.NoError(t, err)
	pkce = codeFor(t, p, "code-spa", "", "", time.Time{})
	_, err = redeem("code-spa", "", pkce, oidcCallback, oidcVerifier)
	assert.NoError(t, err)
}

// testCodesExpire: a code lives ten minutes (and a few seconds of skew).
func testCodesExpire(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, key := confidentialClient(t, env, "ce-cli")
	code := codeFor(t, p, "ce-cli", "", "", time.Time{})
	env.Clock.Advance(10*time.Minute + 7*time.Second)
	_, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantAuthorizationCode, ClientID: "ce-cli", ClientKey: key,
		Code: code, RedirectURI: oidcCallback, CodeVerifier: oidcVerifier})
	refusedGrant(t, err, "invalid_grant", "authorization code has expired.")
}
