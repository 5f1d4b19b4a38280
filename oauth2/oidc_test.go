package oauth2_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

const (
	oidcCallback = "http://localhost:5000/oidc-callback"
	oidcVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXkdBjftJeZ4CVP"
)

// claimsOf decodes a JWT's payload without verifying it.
func claimsOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3, "not a JWT: %q", raw)
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(b, &c))
	return c
}

// confidentialClient registers a client of testuser1 in dev and returns
// its id and key.
func confidentialClient(t *testing.T, env *testenv.Env, id string) (oauth2.Client, string) {
	t.Helper()
	owner := tenancy.Principal{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: "testuser1"}
	c, key, err := env.Server.OAuth2().CreateClient(context.Background(), owner,
		oauth2.NewClient{ClientID: id, CallbackURL: oidcCallback})
	require.NoError(t, err)
	return c, key
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// codeFor approves an authorization request of testuser1 and returns the code.
func codeFor(t *testing.T, p *oauth2.Provider, clientID, scope, nonce string, authTime time.Time) string {
	t.Helper()
	to, err := p.Approve(context.Background(), oauth2.AuthorizeRequest{TenantID: "dev", ClientID: clientID,
		RedirectURI: oidcCallback, ResponseType: oauth2.ResponseCode, State: "st", Scope: scope, Nonce: nonce,
		CodeChallenge: s256(oidcVerifier), CodeChallengeMethod: "S256"}, "testuser1", authTime)
	require.NoError(t, err)
	u, err := url.Parse(to)
	require.NoError(t, err)
	return u.Query().Get("code")
}

func TestIssuerIsTheTenantBaseURLOnEveryToken(t *testing.T) {
	env := testenv.New(t)
	pair := env.Token(t, oauth2.MintRequest{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser, GenerateRefresh: true})
	assert.Equal(t, "http://dev.tapis.test", claimsOf(t, pair.Access.Raw)["iss"])
	assert.Equal(t, "http://dev.tapis.test", claimsOf(t, pair.Refresh.Raw)["iss"])
	assert.NotContains(t, claimsOf(t, pair.Access.Raw), "aud", "Tokens API tokens stay as Tapis shapes them")
	assert.NotContains(t, claimsOf(t, pair.Access.Raw), "iat")

	fresh, err := env.Server.Tokens().Refresh(context.Background(), pair.Refresh.Raw)
	require.NoError(t, err)
	assert.Equal(t, "http://dev.tapis.test", claimsOf(t, fresh.Access.Raw)["iss"], "PUT /v3/tokens keeps the issuer")

	svc := env.ServiceToken(t, "tokens")
	assert.Equal(t, "http://admin.tapis.test", claimsOf(t, svc)["iss"])
	assert.Equal(t, "http://dev.tapis.test", oauth2.IssuerOf(tenancy.Tenant{BaseURL: "http://dev.tapis.test/"}), "no trailing slash")
}

func TestGrantedScopeKeepsKnownScopesOnce(t *testing.T) {
	assert.Equal(t, "openid profile email", oauth2.GrantedScope("email  profile openid unknown openid"))
	assert.Equal(t, "", oauth2.GrantedScope("read write"))
	assert.True(t, oauth2.HasScope("openid email", "email"))
	assert.False(t, oauth2.HasScope("openid emails", "email"))
}

// Standard clients (they ask for a scope) get the RFC 9068 claims; a
// request without scope, as tapipy sends it, gets a Tapis-shaped token.
func TestStandardClaimsOnlyForStandardRequests(t *testing.T) {
	env := testenv.New(t)
	p := env.Server.OAuth2()
	_, key := confidentialClient(t, env, "rfc9068-client")
	ctx := context.Background()
	plain, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, ClientID: "rfc9068-client",
		ClientKey: key, Username: "testuser1", Password: "testuser1"})
	require.NoError(t, err)
	c := claimsOf(t, plain.Access.Raw)
	for _, name := range []string{"aud", "iat", "client_id", "scope"} {
		assert.NotContains(t, c, name, "no scope asked: no %s", name)
	}
	assert.Equal(t, "rfc9068-client", c["tapis/client_id"])
	assert.Empty(t, plain.Scope)

	std, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, ClientID: "rfc9068-client",
		ClientKey: key, Username: "testuser1", Password: "testuser1", Scope: "profile openid bogus"})
	require.NoError(t, err)
	c = claimsOf(t, std.Access.Raw)
	assert.Equal(t, "http://dev.tapis.test", c["aud"], "aud defaults to the tenant's issuer")
	assert.Equal(t, "rfc9068-client", c["client_id"])
	assert.Equal(t, "openid profile", c["scope"])
	assert.Equal(t, "openid profile", std.Scope)
	assert.InDelta(t, float64(time.Now().Unix()), c["iat"], 5)
	assert.Equal(t, "testuser1@dev", c["sub"])
	assert.Equal(t, "testuser1", c["tapis/username"], "the Tapis claims stay")
	assert.Empty(t, std.IDToken, "OpenID Connect defines no id_token for the password grant")

	// Reserved: a Tokens API caller cannot forge the standard claims.
	v := &tenancy.ValidationError{}
	oauth2.CheckExtraClaims(v, map[string]any{"client_id": "x", "scope": "openid", "auth_time": 1, "aud": "y"})
	require.Error(t, v.Err())
	for _, name := range []string{"client_id", "scope", "auth_time", "aud"} {
		assert.Contains(t, v.Error(), "passing claim "+name)
	}
}

func TestAccessTokenAudienceIsConfigurable(t *testing.T) {
	env := testenv.New(t, func(c *tapis.Config) {
		c.AccessTokenAudience = func(tenantID, clientID string) []string {
			if clientID == "" {
				return nil
			}
			return []string{"https://api.example.org", tenantID + "/" + clientID}
		}
	})
	p := env.Server.OAuth2()
	_, key := confidentialClient(t, env, "aud-client")
	ctx := context.Background()
	pair, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, ClientID: "aud-client",
		ClientKey: key, Username: "testuser1", Password: "testuser1"})
	require.NoError(t, err)
	c := claimsOf(t, pair.Access.Raw)
	assert.Equal(t, []any{"https://api.example.org", "dev/aud-client"}, c["aud"], "configured: even without a scope")
	assert.Equal(t, "aud-client", c["client_id"])
	assert.Contains(t, c, "iat")

	noClient, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword,
		Username: "testuser1", Password: "testuser1"})
	require.NoError(t, err)
	c = claimsOf(t, noClient.Access.Raw)
	assert.NotContains(t, c, "aud", "an empty answer means no aud")
	assert.NotContains(t, c, "client_id")
}

// The code carries the scope, nonce and sign-in time of its request into
// the token endpoint, which answers scope=openid with an id_token.
func TestCodeGrantIssuesIDToken(t *testing.T) {
	env := testenv.New(t)
	p := env.Server.OAuth2()
	_, key := confidentialClient(t, env, "oidc-client")
	ctx := context.Background()
	signedIn := time.Now().Add(-time.Minute).Truncate(time.Second)
	code := codeFor(t, p, "oidc-client", "openid email profile", "n-0S6_WzA2Mj", signedIn)
	assert.Contains(t, code, ".", "an OIDC code carries its sealed details")
	assert.NotContains(t, code, "n-0S6_WzA2Mj", "the nonce is sealed, not readable in the code")

	pair, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantAuthorizationCode, ClientID: "oidc-client",
		ClientKey: key, RedirectURI: oidcCallback, Code: code, CodeVerifier: oidcVerifier})
	require.NoError(t, err)
	require.NotEmpty(t, pair.IDToken)
	assert.Equal(t, "openid profile email", pair.Scope)
	id := claimsOf(t, pair.IDToken)
	access := claimsOf(t, pair.Access.Raw)
	assert.Equal(t, "http://dev.tapis.test", id["iss"])
	assert.Equal(t, "testuser1@dev", id["sub"])
	assert.Equal(t, access["sub"], id["sub"], "one sub for id_token and access token")
	assert.Equal(t, "oidc-client", id["aud"])
	assert.Equal(t, "oidc-client", id["azp"])
	assert.Equal(t, "n-0S6_WzA2Mj", id["nonce"])
	assert.Equal(t, float64(signedIn.Unix()), id["auth_time"])
	assert.Equal(t, float64(signedIn.Unix()), access["auth_time"])
	assert.Equal(t, access["exp"], id["exp"])
	sum := sha256.Sum256([]byte(pair.Access.Raw))
	assert.Equal(t, base64.RawURLEncoding.EncodeToString(sum[:16]), id["at_hash"])
	assert.Equal(t, "testuser1", id["preferred_username"])
	for name := range id {
		assert.False(t, strings.HasPrefix(name, "tapis/"), "no Tapis claim in the id_token: %s", name)
	}
	_, err = env.Server.Tokens().Validate(ctx, pair.IDToken, "")
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken, "an id_token is never accepted as a Tapis token")

	// A code whose sealed part was altered is not a code of ours.
	code = codeFor(t, p, "oidc-client", "openid", "n2", signedIn)
	random, sealed, _ := strings.Cut(code, ".")
	forged := random + "." + sealed[:len(sealed)-2] + "AA"
	_, err = p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantAuthorizationCode, ClientID: "oidc-client",
		ClientKey: key, RedirectURI: oidcCallback, Code: forged, CodeVerifier: oidcVerifier})
	var ge *oauth2.GrantError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "invalid_grant", ge.Code)

	// Without openid there is no id_token, and no nonce is kept.
	code = codeFor(t, p, "oidc-client", "", "", signedIn)
	assert.NotContains(t, code, ".", "a plain OAuth2 code has no details")
	plain, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantAuthorizationCode, ClientID: "oidc-client",
		ClientKey: key, RedirectURI: oidcCallback, Code: code, CodeVerifier: oidcVerifier})
	require.NoError(t, err)
	assert.Empty(t, plain.IDToken)
	assert.NotContains(t, claimsOf(t, plain.Access.Raw), "aud")

	// An oversized nonce is refused before any page.
	_, err = p.CheckAuthorize(ctx, oauth2.AuthorizeRequest{TenantID: "dev", ClientID: "oidc-client", RedirectURI: oidcCallback,
		ResponseType: oauth2.ResponseCode, Nonce: strings.Repeat("n", 600)})
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, "invalid_request", ge.Code)
}

// A refresh keeps scope, audience and auth_time, and gives a new id_token
// without nonce (OIDC Core §12.2); a narrower scope narrows it.
func TestRefreshKeepsTheOIDCGrant(t *testing.T) {
	env := testenv.New(t)
	p := env.Server.OAuth2()
	_, key := confidentialClient(t, env, "oidc-refresh")
	ctx := context.Background()
	signedIn := time.Now().Add(-time.Hour).Truncate(time.Second)
	code := codeFor(t, p, "oidc-refresh", "openid profile", "nonce-1", signedIn)
	first, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantAuthorizationCode, ClientID: "oidc-refresh",
		ClientKey: key, RedirectURI: oidcCallback, Code: code, CodeVerifier: oidcVerifier})
	require.NoError(t, err)
	require.NotNil(t, first.Refresh)

	again, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantRefreshToken, ClientID: "oidc-refresh",
		ClientKey: key, RefreshToken: first.Refresh.Raw})
	require.NoError(t, err)
	require.NotEmpty(t, again.IDToken)
	id := claimsOf(t, again.IDToken)
	assert.NotContains(t, id, "nonce")
	assert.Equal(t, float64(signedIn.Unix()), id["auth_time"], "auth_time is the sign-in's")
	assert.Equal(t, claimsOf(t, first.IDToken)["sub"], id["sub"])
	assert.Equal(t, "oidc-refresh", id["aud"])
	a := claimsOf(t, again.Access.Raw)
	assert.Equal(t, "openid profile", a["scope"])
	assert.Equal(t, "http://dev.tapis.test", a["aud"])
	assert.Equal(t, float64(1), a["tapis/refresh_count"])

	narrow, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantRefreshToken, ClientID: "oidc-refresh",
		ClientKey: key, RefreshToken: again.Refresh.Raw, Scope: "profile email"})
	require.NoError(t, err)
	assert.Equal(t, "profile", narrow.Scope, "a refresh cannot widen the scope; it may narrow it")
	assert.Empty(t, narrow.IDToken, "without openid, no id_token")

	// The Tapis refresh path (PUT /v3/tokens) keeps the claims, with a new iat.
	env.Clock.Advance(2 * time.Second)
	tapis, err := env.Server.Tokens().Refresh(ctx, narrow.Refresh.Raw)
	require.NoError(t, err)
	tc := claimsOf(t, tapis.Access.Raw)
	assert.Equal(t, "profile", tc["scope"])
	assert.Equal(t, "oidc-refresh", tc["client_id"])
	assert.Greater(t, tc["iat"], claimsOf(t, narrow.Access.Raw)["iat"])
}

func TestIntrospection(t *testing.T) {
	env := testenv.New(t)
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, key := confidentialClient(t, env, "resource-server")
	owner := tenancy.Principal{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser, TokenTenantID: "dev", TokenUsername: "testuser1"}
	_, _, err := p.CreateClient(ctx, owner, oauth2.NewClient{ClientID: "public-app", Public: true, CallbackURL: oidcCallback})
	require.NoError(t, err)

	pair, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, ClientID: "resource-server",
		ClientKey: key, Username: "testuser1", Password: "testuser1", Scope: "openid"})
	require.NoError(t, err)
	in, err := p.Introspect(ctx, "dev", "resource-server", key, "", pair.Access.Raw)
	require.NoError(t, err)
	require.True(t, in.Active)
	assert.Equal(t, true, in.Claims["active"])
	assert.Equal(t, "testuser1", in.Claims["username"])
	assert.Equal(t, "testuser1@dev", in.Claims["sub"])
	assert.Equal(t, "resource-server", in.Claims["client_id"])
	assert.Equal(t, "openid", in.Claims["scope"])
	assert.Equal(t, "Bearer", in.Claims["token_type"])

	inactive := map[string]string{
		"refresh token":       pair.Refresh.Raw,
		"garbage":             "not-a-token",
		"other tenant":        env.UserToken(t, "other", "testuser1"),
		"service token (adm)": env.ServiceToken(t, "tokens"),
	}
	for name, tok := range inactive {
		in, err := p.Introspect(ctx, "dev", "resource-server", key, "", tok)
		require.NoError(t, err, name)
		assert.False(t, in.Active, name)
		assert.Empty(t, in.Claims, "%s: nothing is said about an inactive token", name)
	}
	_, err = p.Tokens().Revoke(ctx, pair.Access.Raw)
	require.NoError(t, err)
	in, err = p.Introspect(ctx, "dev", "resource-server", key, "", pair.Access.Raw)
	require.NoError(t, err)
	assert.False(t, in.Active, "revoked")

	short := env.UserToken(t, "dev", "testuser2")
	env.Clock.Advance(10 * time.Minute)
	in, err = p.Introspect(ctx, "dev", "resource-server", key, "", short)
	require.NoError(t, err)
	assert.False(t, in.Active, "expired")

	for name, c := range map[string][2]string{
		"no client":     {"", ""},
		"wrong key":     {"resource-server", "wrong-secret-value"},
		"public client": {"public-app", ""},
		"unknown":       {"ghost", "whatever-key-1234"},
	} {
		_, err := p.Introspect(ctx, "dev", c[0], c[1], "", env.UserToken(t, "dev", "testuser1"))
		var ge *oauth2.GrantError
		require.ErrorAs(t, err, &ge, name)
		assert.Equal(t, "invalid_client", ge.Code, name)
	}
}
