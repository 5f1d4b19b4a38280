package oauth2_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

// The authorization (browser) flow (reference/auth.md §4.4 and the README's
// "Browser flow"): the request is checked before any page, approval gives
// a single-use code (or, when the tenant allows it, an implicit token in
// the fragment), denial sends access_denied, and a bad request never
// redirects.

func testCheckAuthorize(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	confidentialClient(t, env, "az-cli")
	_, _, err := p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "az-spa", Public: true, CallbackURL: oidcCallback})
	require.NoError(t, err)
	_, _, err = p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "az-gone", CallbackURL: oidcCallback})
	require.NoError(t, err)
	_, err = p.DeleteClient(ctx, devUser("testuser1"), "az-gone")
	require.NoError(t, err)
	good := oauth2.AuthorizeRequest{TenantID: "dev", ClientID: "az-cli", RedirectURI: oidcCallback, ResponseType: oauth2.ResponseCode}
	c, err := p.CheckAuthorize(ctx, good)
	require.NoError(t, err)
	assert.Equal(t, "az-cli", c.ClientID)
	challenge := s256(oidcVerifier)

	cases := []struct {
		name, code, want string
		edit             func(*oauth2.AuthorizeRequest)
	}{
		{"no client", "invalid_request", "client_id missing", func(r *oauth2.AuthorizeRequest) { r.ClientID = "" }},
		{"an unknown client", "invalid_client", "Invalid client.", func(r *oauth2.AuthorizeRequest) { r.ClientID = "nosuch" }},
		{"a deactivated client", "invalid_client", "Invalid client.", func(r *oauth2.AuthorizeRequest) { r.ClientID = "az-gone" }},
		{"no response type", "unsupported_response_type", "response_type missing", func(r *oauth2.AuthorizeRequest) { r.ResponseType = "" }},
		{"the implicit grant, off by default", "unsupported_response_type", "The implicit grant type is not allowed",
			func(r *oauth2.AuthorizeRequest) { r.ResponseType = oauth2.ResponseToken }},
		{"a redirect URI with a trailing slash", "invalid_request", "does not match the registered callback_url",
			func(r *oauth2.AuthorizeRequest) { r.RedirectURI += "/" }},
		{"a redirect URI in another case", "invalid_request", "does not match", func(r *oauth2.AuthorizeRequest) { r.RedirectURI = strings.ToUpper(r.RedirectURI) }},
		{"a redirect URI with a longer path", "invalid_request", "does not match", func(r *oauth2.AuthorizeRequest) { r.RedirectURI += "/more" }},
		{"no redirect URI", "invalid_request", "does not match", func(r *oauth2.AuthorizeRequest) { r.RedirectURI = "" }},
		{"PKCE plain", "invalid_request", "code_challenge_method must be S256", func(r *oauth2.AuthorizeRequest) {
			r.CodeChallenge, r.CodeChallengeMethod = challenge, "plain"
		}},
		{"a method without a challenge", "invalid_request", "without code_challenge", func(r *oauth2.AuthorizeRequest) { r.CodeChallengeMethod = "S256" }},
		{"a challenge without a method", "invalid_request", "code_challenge_method=S256 is required", func(r *oauth2.AuthorizeRequest) { r.CodeChallenge = challenge }},
		{"a short challenge", "invalid_request", "43-character", func(r *oauth2.AuthorizeRequest) {
			r.CodeChallenge, r.CodeChallengeMethod = challenge[:42], "S256"
		}},
		{"a public client without PKCE", "invalid_request", "PKCE (code_challenge with code_challenge_method=S256) is required",
			func(r *oauth2.AuthorizeRequest) { r.ClientID = "az-spa" }},
		{"a long scope", "invalid_scope", "scope must be at most", func(r *oauth2.AuthorizeRequest) { r.Scope = strings.Repeat("s", 2000) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := good
			tc.edit(&req)
			_, err := p.CheckAuthorize(ctx, req)
			refusedGrant(t, err, tc.code, tc.want)
			_, err = p.Deny(ctx, req)
			assert.Equal(t, tc.code, grantCode(err), "a bad request is never redirected, not even to deny")
			_, err = p.Approve(ctx, req, "testuser1", time.Time{})
			assert.Equal(t, tc.code, grantCode(err))
		})
	}
	spa := good
	spa.ClientID, spa.CodeChallenge, spa.CodeChallengeMethod = "az-spa", challenge, "S256"
	_, err = p.CheckAuthorize(ctx, spa)
	assert.NoError(t, err, "a public client with PKCE")
}

func testApproveAndDeny(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	const callback = "https://app.example.org/cb?app=1"
	_, _, err := p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "ad-cli", CallbackURL: callback})
	require.NoError(t, err)
	req := oauth2.AuthorizeRequest{TenantID: "dev", ClientID: "ad-cli", RedirectURI: callback, ResponseType: oauth2.ResponseCode,
		State: "a b&c=d#e"}

	to, err := p.Approve(ctx, req, "testuser2", time.Time{})
	require.NoError(t, err)
	u, err := url.Parse(to)
	require.NoError(t, err)
	assert.Equal(t, "app.example.org", u.Host)
	assert.Equal(t, "/cb", u.Path)
	assert.Equal(t, "1", u.Query().Get("app"), "the callback's own parameters stay")
	assert.Equal(t, "a b&c=d#e", u.Query().Get("state"), "the state comes back intact (URL-encoded)")
	assert.Empty(t, u.Fragment)
	code := u.Query().Get("code")
	assert.GreaterOrEqual(t, len(code), 43, "256-bit codes")
	_, err = env.Store.RedeemAuthCode(ctx, "dev", code, time.Now())
	assert.ErrorIs(t, err, oauth2.ErrNotFound, "the code is not stored in clear")
	sum := sha256.Sum256([]byte(code))
	stored, err := env.Store.RedeemAuthCode(ctx, "dev", hex.EncodeToString(sum[:]), time.Now())
	require.NoError(t, err, "it is stored as its SHA-256")
	assert.Equal(t, "testuser2", stored.Username)
	assert.Equal(t, callback, stored.RedirectURI)
	assert.Equal(t, "ad-cli", stored.ClientID)

	to, err = p.Deny(ctx, req)
	require.NoError(t, err)
	u, err = url.Parse(to)
	require.NoError(t, err)
	assert.Equal(t, "access_denied", u.Query().Get("error"))
	assert.Equal(t, "a b&c=d#e", u.Query().Get("state"))
	assert.Empty(t, u.Query().Get("code"))
}
