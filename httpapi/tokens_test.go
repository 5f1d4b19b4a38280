package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

func basic(user, pw string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}
}

// decode returns the header and claims of a JWT without verifying it.
func decode(t *testing.T, raw string) (map[string]any, map[string]any) {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	var h, c map[string]any
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(hb, &h))
	require.NoError(t, json.Unmarshal(cb, &c))
	return h, c
}

func serviceBody(user string) map[string]any {
	return map[string]any{"account_type": "service", "token_tenant_id": "admin", "token_username": user, "target_site_id": "local"}
}

func accessOf(r testenv.Response) map[string]any {
	m, _ := r.Result()["access_token"].(map[string]any)
	return m
}

func TestCreateServiceTokenWithBasic(t *testing.T) {
	env := testenv.New(t)
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", testenv.ServicePassword), Body: serviceBody("tokens")})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Equal(t, "Token generation successful.", r.Message())
	at := accessOf(r)
	assert.Equal(t, float64(300), at["expires_in"], "the Tapis default access TTL")
	assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$`, at["expires_at"])
	assert.NotContains(t, r.Result(), "refresh_token")
	hdr, c := decode(t, at["access_token"].(string))
	assert.Equal(t, "RS256", hdr["alg"])
	assert.NotEmpty(t, hdr["kid"])
	assert.Equal(t, at["jti"], c["jti"])
	assert.Equal(t, "http://admin.tapis.test", c["iss"], "the issuer is the tenant's base URL")
	assert.Equal(t, "tokens@admin", c["sub"])
	assert.Equal(t, "admin", c["tapis/tenant_id"])
	assert.Equal(t, "access", c["tapis/token_type"])
	assert.Equal(t, false, c["tapis/delegation"])
	assert.Contains(t, c, "tapis/delegation_sub")
	assert.Nil(t, c["tapis/delegation_sub"])
	assert.Equal(t, "tokens", c["tapis/username"])
	assert.Equal(t, "service", c["tapis/account_type"])
	assert.Equal(t, "local", c["tapis/target_site"])
	assert.NotContains(t, c, "iat", "Tapis tokens carry no iat")

	// The minted token works.
	tok := at["access_token"].(string)
	ok := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tenants/dev", Body: map[string]any{"description": "x"},
		Headers: map[string]string{"X-Tapis-Token": tok}})
	assert.Equal(t, 200, ok.Code, "tokens@admin updates tenants of its site: %s", ok.Raw)
}

func TestCreateTokenRefusals(t *testing.T) {
	env := testenv.New(t)
	wrong := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", "wrong-password"), Body: serviceBody("tokens")})
	assertRefused(t, wrong, 401, "Invalid service account/password combination.")
	assert.NotContains(t, string(wrong.Raw), "wrong-password", "no credential is echoed")
	unknown := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("ghost", "whatever-pw"), Body: serviceBody("ghost")})
	assert.Equal(t, wrong.Message(), unknown.Message(), "an unknown account looks like a wrong password")
	assert.Equal(t, wrong.Code, unknown.Code)

	assertRefused(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", testenv.ServicePassword), Body: serviceBody("files")}),
		400, "username does not match auth header")
	both := basic("tokens", testenv.ServicePassword)
	both["X-Tapis-Token"] = env.ServiceToken(t, "tokens")
	assertRefused(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: both, Body: serviceBody("tokens")}), 400, "both X-Tapis-Token and HTTP Basic")
	noSite := serviceBody("tokens")
	delete(noSite, "target_site_id")
	assertRefused(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", testenv.ServicePassword), Body: noSite}),
		400, "target_site_id required for creating tokens of type 'service'.")
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", testenv.ServicePassword), Body: map[string]any{}})
	assertRefused(t, r, 400, "account_type is required")
	assert.Contains(t, r.Message(), "token_tenant_id is required")
	assert.Contains(t, r.Message(), "token_username is required")
	assertRefused(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Body: serviceBody("tokens")}), 401, "No credentials")

	claims := serviceBody("tokens")
	claims["claims"] = map[string]any{"sub": "x", "tapis/username": "root", "test_claim": "ok"}
	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", testenv.ServicePassword), Body: claims})
	assertRefused(t, r, 400, "passing claim sub as an extra_claim is not allowed")
	assert.Contains(t, r.Message(), "passing claim tapis/username as an extra_claim is not allowed", "namespaced names are guarded too")
}

func TestTokenGeneratorsMintUserTokens(t *testing.T) {
	env := testenv.New(t)
	authn := map[string]string{"X-Tapis-Token": env.ServiceToken(t, "authenticator")}
	body := map[string]any{"account_type": "user", "token_tenant_id": "dev", "token_username": "testuser1",
		"generate_refresh_token": true, "claims": map[string]any{"tapis/client_id": "cli", "test_claim": "here it is!"}}
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: authn, Body: body})
	require.Equal(t, 201, r.Code, "authenticator is in dev's token_gen_services: %s", r.Raw)
	_, c := decode(t, accessOf(r)["access_token"].(string))
	assert.Equal(t, "testuser1@dev", c["sub"])
	assert.Equal(t, "user", c["tapis/account_type"])
	assert.Equal(t, "here it is!", c["test_claim"])
	assert.Equal(t, "cli", c["tapis/client_id"])
	assert.NotContains(t, c, "tapis/target_site")
	refresh := r.Result()["refresh_token"].(map[string]any)
	_, rc := decode(t, refresh["refresh_token"].(string))
	assert.Equal(t, "refresh", rc["tapis/token_type"])
	assert.Equal(t, float64(600), rc["tapis/initial_ttl"])
	nested := rc["tapis/access_token"].(map[string]any)
	assert.Equal(t, float64(300), nested["ttl"])
	assert.NotContains(t, nested, "exp")
	assert.NotContains(t, rc, "tapis/username", "refresh tokens carry the user only in the nested claims")

	// Refresh: new pair, every claim kept, TTLs kept.
	rr := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tokens", Body: map[string]any{"refresh_token": refresh["refresh_token"]}})
	require.Equal(t, 201, rr.Code, "body: %s", rr.Raw)
	_, c2 := decode(t, accessOf(rr)["access_token"].(string))
	assert.NotEqual(t, c["jti"], c2["jti"])
	assert.Equal(t, "here it is!", c2["test_claim"])
	assert.Equal(t, "testuser1", c2["tapis/username"])
	assert.Equal(t, float64(300), accessOf(rr)["expires_in"])
	assert.Equal(t, float64(600), rr.Result()["refresh_token"].(map[string]any)["expires_in"])
	assertRefused(t, env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tokens", Body: map[string]any{"refresh_token": accessOf(r)["access_token"]}}),
		401, `token type "access" was given where "refresh" is required`)
	assertRefused(t, env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tokens", Body: map[string]any{"refresh_token": "bad"}}), 401, "not a well-formed JWT")

	// Not a generator for this tenant / not a generator at all / site-admin tenant / service tokens.
	for name, tc := range map[string]struct {
		hdr  map[string]string
		body map[string]any
		want string
	}{
		"files is no generator":     {map[string]string{"X-Tapis-Token": env.ServiceToken(t, "files")}, body, "Not authorized to generate tokens in tenant dev."},
		"user token mints for peer": {map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")}, body, "Not authorized to generate tokens in tenant dev."},
		"generator mints service": {authn, map[string]any{"account_type": "service", "token_tenant_id": "dev", "token_username": "x", "target_site_id": "local"},
			"mint user tokens only"},
		"self mint changes type": {map[string]string{"X-Tapis-Token": env.ServiceToken(t, "files")},
			map[string]any{"account_type": "user", "token_tenant_id": "admin", "token_username": "files"}, "keeps the holder's account type"},
		"user self mint": {map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")},
			map[string]any{"account_type": "user", "token_tenant_id": "dev", "token_username": "testadmin"}, "a user token cannot mint tokens"},
	} {
		t.Run(name, func(t *testing.T) {
			assertRefused(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: tc.hdr, Body: tc.body}), 403, tc.want)
		})
	}
}

func TestTTLCaps(t *testing.T) {
	env := testenv.New(t)
	authn := map[string]string{"X-Tapis-Token": env.ServiceToken(t, "authenticator")}
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: authn, Body: map[string]any{
		"account_type": "user", "token_tenant_id": "dev", "token_username": "testuser2",
		"access_token_ttl": int64((10 * 365 * 24 * time.Hour).Seconds()), "generate_refresh_token": true, "refresh_token_ttl": 7776000}})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Equal(t, float64(24*3600), accessOf(r)["expires_in"], "capped at the maximum access TTL")
	assert.Equal(t, float64(7776000), r.Result()["refresh_token"].(map[string]any)["expires_in"])
	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", testenv.ServicePassword), Body: map[string]any{
		"account_type": "service", "token_tenant_id": "admin", "token_username": "tokens", "target_site_id": "local",
		"access_token_ttl": 14400, "generate_refresh_token": true, "refresh_token_ttl": 0}})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Equal(t, float64(14400), accessOf(r)["expires_in"])
	assert.Equal(t, float64(600), r.Result()["refresh_token"].(map[string]any)["expires_in"], "0 means the default")
}
