package httpapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// protected is an operation that needs a valid token: the dev tenant admin
// updating the dev tenant's description.
func protected(token string, extra map[string]string) testenv.Request {
	h := map[string]string{"X-Tapis-Token": token}
	for k, v := range extra {
		h[k] = v
	}
	return testenv.Request{Method: "PUT", Path: "/v3/tenants/dev", Body: map[string]any{"description": "updated"}, Headers: h}
}

func devClaims(exp time.Time) jwt.MapClaims {
	return jwt.MapClaims{"jti": uuid.NewString(), "iss": "http://dev.tapis.test/v3/tokens", "sub": "testadmin@dev",
		"tapis/tenant_id": "dev", "tapis/token_type": "access", "tapis/delegation": false, "tapis/delegation_sub": nil,
		"tapis/username": "testadmin", "tapis/account_type": "user", "exp": exp.Unix()}
}

func sign(t *testing.T, method jwt.SigningMethod, claims jwt.MapClaims, key any, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	raw, err := tok.SignedString(key)
	require.NoError(t, err)
	return raw
}

func assertRefused(t *testing.T, r testenv.Response, status int, want string) {
	t.Helper()
	assert.Equal(t, status, r.Code, "body: %s", r.Raw)
	assert.Equal(t, "error", r.Body["status"], "Tapis envelope")
	assert.Contains(t, r.Body, "version")
	assert.Nil(t, r.Body["result"])
	assert.Contains(t, r.Message(), want)
}

func TestValidTokenOpensProtectedEndpoint(t *testing.T) {
	env := testenv.New(t)
	r := env.Do(t, protected(env.UserToken(t, "dev", "testadmin"), nil))
	require.Equal(t, 200, r.Code, "body: %s", r.Raw)
	assert.Equal(t, "success", r.Body["status"])
	assert.Equal(t, "updated", r.Result()["description"])
	assert.Equal(t, "testadmin@dev", r.Result()["last_updated_by"])
}

func TestTokenRefusals(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	devKey, devKID := env.SigningKey(t, "dev")
	otherKey, otherKID := env.SigningKey(t, "other")
	pubPEM := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/dev"}).Result()["public_key"].(string)
	now := time.Now()

	revoked := env.UserToken(t, "dev", "testadmin")
	_, err := env.Server.Tokens().Revoke(ctx, revoked)
	require.NoError(t, err)

	pair := env.Token(t, oauth2.MintRequest{TenantID: "dev", Username: "testadmin", AccountType: tenancy.AccountUser, GenerateRefresh: true})
	noExp := devClaims(now)
	delete(noExp, "exp")
	wrongType := devClaims(now.Add(time.Hour))
	wrongType["tapis/token_type"] = "refresh"
	strangerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"tapis/tenant_id":"dev","tapis/token_type":"access","tapis/username":"testadmin","tapis/account_type":"user","exp":9999999999}`)) + "."

	cases := []struct {
		name, token, want string
	}{
		{"revoked", revoked, "has been revoked"},
		{"expired", sign(t, jwt.SigningMethodRS256, devClaims(now.Add(-time.Hour)), devKey, devKID), "expired"},
		{"alg none", none, `"none" is not accepted`},
		{"HS256 with the public key", sign(t, jwt.SigningMethodHS256, devClaims(now.Add(time.Hour)), []byte(pubPEM), ""), `"HS256" is not accepted`},
		{"RS384 with the real key", sign(t, jwt.SigningMethodRS384, devClaims(now.Add(time.Hour)), devKey, devKID), `"RS384" is not accepted`},
		{"PS256 with the real key", sign(t, jwt.SigningMethodPS256, devClaims(now.Add(time.Hour)), devKey, devKID), `"PS256" is not accepted`},
		{"another tenant's key, its kid", sign(t, jwt.SigningMethodRS256, devClaims(now.Add(time.Hour)), otherKey, otherKID), "is not a key of tenant dev"},
		{"another tenant's key, no kid", sign(t, jwt.SigningMethodRS256, devClaims(now.Add(time.Hour)), otherKey, ""), "does not verify"},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, devClaims(now.Add(time.Hour)), strangerKey, "no-such-kid"), "is not a key of tenant dev"},
		{"stranger key without kid", sign(t, jwt.SigningMethodRS256, devClaims(now.Add(time.Hour)), strangerKey, ""), "does not verify"},
		{"missing exp", sign(t, jwt.SigningMethodRS256, noExp, devKey, devKID), "exp claim is required"},
		{"refresh token", pair.Refresh.Raw, `token type "refresh"`},
		{"refresh type claim", sign(t, jwt.SigningMethodRS256, wrongType, devKey, devKID), `token type "refresh"`},
		{"9 KiB token", strings.Repeat("a", 9*1024), "longer than"},
		{"100k dots", strings.Repeat(".", 100_000), "longer than"},
		{"garbage", "not-a-jwt", "not a well-formed JWT"},
		{"unknown tenant", sign(t, jwt.SigningMethodRS256, jwt.MapClaims{"tapis/tenant_id": "nope", "exp": now.Add(time.Hour).Unix()}, devKey, devKID), "unexpected tenant_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assertRefused(t, env.Do(t, protected(tc.token, nil)), 401, tc.want)
		})
	}
	got, err := env.Server.Tenancy().GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.NotEqual(t, "updated", got.Description, "no refused request changed anything")
}

func TestMissingTokenOnProtectedEndpoint(t *testing.T) {
	env := testenv.New(t)
	assertRefused(t, env.Do(t, protected("", nil)), 401, "No Tapis access token")
}

func TestExpiryAfterTheFact(t *testing.T) {
	env := testenv.New(t)
	tok := env.UserToken(t, "dev", "testadmin") // default TTL 300 s
	require.Equal(t, 200, env.Do(t, protected(tok, nil)).Code)
	env.Clock.Advance(10 * time.Minute)
	assertRefused(t, env.Do(t, protected(tok, nil)), 401, "expired")
}

func TestRevocationBeatsTheCache(t *testing.T) {
	env := testenv.New(t)
	tok := env.UserToken(t, "dev", "testadmin")
	require.Equal(t, 200, env.Do(t, protected(tok, nil)).Code, "first use caches the token")
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens/revoke", Body: map[string]string{"token": tok}})
	require.Equal(t, 200, r.Code, "body: %s", r.Raw)
	assert.Contains(t, r.Message(), "has been revoked")
	assertRefused(t, env.Do(t, protected(tok, nil)), 401, "has been revoked")
}

func TestOnBehalfOfHeaders(t *testing.T) {
	env := testenv.New(t)
	user := env.UserToken(t, "dev", "testadmin")
	assertRefused(t, env.Do(t, protected(user, map[string]string{"X-Tapis-Tenant": "dev"})), 401, "cannot set OBO headers with a user token")
	assertRefused(t, env.Do(t, protected(user, map[string]string{"X-Tapis-User": "testadmin"})), 401, "cannot set OBO headers with a user token")

	svc := env.ServiceToken(t, "tokens") // tokens@admin: an updater service
	r := env.Do(t, protected(svc, map[string]string{"X-Tapis-Tenant": "dev", "X-Tapis-User": "testadmin"}))
	assert.Equal(t, 200, r.Code, "admin tenant of the primary site may act for dev: %s", r.Raw)
	assertRefused(t, env.Do(t, protected(svc, map[string]string{"X-Tapis-Tenant": "dev"})), 401, "X-Tapis-User header missing")
	assertRefused(t, env.Do(t, protected(svc, map[string]string{"X-Tapis-Tenant": "nosuch", "X-Tapis-User": "x"})), 403, "may not act for tenant nosuch")

	// A service of the dev tenant (not a site-admin tenant) may act for dev only.
	devSvc := env.Token(t, oauth2.MintRequest{TenantID: "dev", Username: "abaco", AccountType: tenancy.AccountService, TargetSite: "local"}).Access.Raw
	assertRefused(t, env.Do(t, protected(devSvc, map[string]string{"X-Tapis-Tenant": "other", "X-Tapis-User": "testuser1"})), 403, "may not act for tenant other")
	wrongSite := env.Token(t, oauth2.MintRequest{TenantID: "admin", Username: "tokens", AccountType: tenancy.AccountService, TargetSite: "elsewhere"}).Access.Raw
	assertRefused(t, env.Do(t, protected(wrongSite, nil)), 401, "target_site claim does not match")
}

func TestUserTokenMustMatchHostTenant(t *testing.T) {
	env := testenv.New(t)
	otherUser := env.UserToken(t, "other", "otheradmin")
	req := protected(otherUser, nil)
	req.Path = "/v3/tenants/other"
	assertRefused(t, env.Do(t, req), 401, "does not match the URL tenant, dev")
	req.Host = "other." + testenv.Host
	r := env.Do(t, req)
	assert.Equal(t, 200, r.Code, "on its own tenant's host the token works: %s", r.Raw)
	devAdmin := protected(env.UserToken(t, "dev", "testadmin"), nil)
	devAdmin.Path, devAdmin.Host = "/v3/tenants/other", "other."+testenv.Host
	assertRefused(t, env.Do(t, devAdmin), 401, "does not match the URL tenant, other")
}

func TestKeyRotationKeepsOldTokensValid(t *testing.T) {
	env := testenv.New(t)
	old := env.UserToken(t, "dev", "testadmin")
	oldJWKS := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/dev/jwks"})
	require.Equal(t, 200, oldJWKS.Code)
	require.Len(t, oldJWKS.Body["keys"], 1)

	r := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tokens/keys", Body: map[string]string{"tenant_id": "dev"},
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")}})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	newPub := r.Result()["public_key"].(string)
	assert.True(t, strings.HasPrefix(newPub, "-----BEGIN PUBLIC KEY-----\n"))
	assert.Len(t, strings.Split(newPub, "\n"), 3, "one unbroken base64 line")

	assert.Equal(t, 200, env.Do(t, protected(old, nil)).Code, "a token signed by the previous key still verifies")
	fresh := env.UserToken(t, "dev", "testadmin")
	assert.Equal(t, 200, env.Do(t, protected(fresh, nil)).Code)
	jwks := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/dev/jwks"})
	assert.Len(t, jwks.Body["keys"], 2, "both keys are published while the old one verifies")
	tenant := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/dev"})
	assert.Equal(t, newPub, tenant.Result()["public_key"], "the tenant record carries the new public key")
	hist := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/dev/history"})
	assert.Contains(t, string(hist.Raw), "public_key")

	env.Clock.Advance(91 * 24 * time.Hour) // past the maximum refresh TTL
	env.Server.Tokens().ForgetCachedTokens()
	jwks = env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/dev/jwks"})
	assert.Len(t, jwks.Body["keys"], 1, "the retired key stops verifying once its tokens have expired")

	other := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tokens/keys", Body: map[string]string{"tenant_id": "other"},
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")}})
	assertRefused(t, other, 403, "Not authorized")
}
