package httpapi_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/tenancy"
)

// Every door that checks a secret gives one answer for every failure and is
// counted by the same limiter (issue: hardening 1 and 3).

func basicBody(tenant, user string) map[string]any {
	return map[string]any{"account_type": "service", "token_tenant_id": tenant, "token_username": user, "target_site_id": "local"}
}

// assertLimited checks a 429 and its Retry-After.
func assertLimited(t *testing.T, r testenv.Response, what string) {
	t.Helper()
	require.Equal(t, 429, r.Code, "%s: %s", what, r.Raw)
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err, "%s: Retry-After is whole seconds, got %q", what, r.Header.Get("Retry-After"))
	assert.Positive(t, secs, what)
}

func TestBasicAuthIsNoPasswordOracle(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	// A service account in a tenant that is then deactivated.
	require.NoError(t, env.Server.Tokens().Accounts.Set(ctx, "other", "svc9", tenancy.AccountService, "svc9-password-ok"))
	off := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tenants/other", Body: map[string]any{"status": "inactive"},
		Headers: map[string]string{"X-Tapis-Token": env.ServiceToken(t, "tenants")}})
	require.Equal(t, 200, off.Code, "body: %s", off.Raw)

	wrong := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("files", "not-the-password"), Body: basicBody("admin", "files")})
	require.Equal(t, 401, wrong.Code, "body: %s", wrong.Raw)
	for name, r := range map[string]testenv.Request{
		"a user account with its right password": {Headers: basic("testuser1", "testuser1"), Body: basicBody("dev", "testuser1")},
		"an unknown account":                     {Headers: basic("ghost", "any-password"), Body: basicBody("dev", "ghost")},
		"an unknown tenant":                      {Headers: basic("files", "x"), Body: basicBody("nosuch", "files")},
		"an inactive tenant, right password":     {Headers: basic("svc9", "svc9-password-ok"), Body: basicBody("other", "svc9")},
		"a malformed header":                     {Headers: map[string]string{"Authorization": "Basic !!!"}, Body: basicBody("admin", "files")},
	} {
		t.Run(name, func(t *testing.T) {
			r.Method, r.Path = "POST", "/v3/tokens"
			got := env.Do(t, r)
			assert.Equal(t, wrong.Code, got.Code, "body: %s", got.Raw)
			assert.Equal(t, wrong.Message(), got.Message(), "the same answer as a wrong password")
		})
	}
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("files", testenv.ServicePassword),
		Body: map[string]any{"account_type": "user", "token_tenant_id": "admin", "token_username": "files"}})
	assert.Equal(t, 400, r.Code, "Basic mints service tokens only, refused before any password check: %s", r.Raw)
}

func TestOneLockHoldsOnEveryDoor(t *testing.T) {
	env := testenv.New(t)
	const attacker, owner = "203.0.113.50:4000", "198.51.100.60:4000"
	// Ten wrong passwords at the password grant...
	for i := range 10 {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", RemoteAddr: attacker,
			Body: map[string]any{"grant_type": "password", "username": "testuser2", "password": "wrong"}})
		require.Equal(t, 400, r.Code, "failure %d: %s", i+1, r.Raw)
	}
	assertLimited(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", RemoteAddr: attacker,
		Body: map[string]any{"grant_type": "password", "username": "testuser2", "password": "wrong"}}), "Tapis endpoint")
	// ... hold at HTTP Basic for the same name and at the RFC endpoint.
	assertLimited(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", RemoteAddr: attacker,
		Headers: basic("testuser2", "testuser2"), Body: basicBody("dev", "testuser2")}), "HTTP Basic")
	rfc := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/token", RemoteAddr: attacker,
		Headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		Body:    url.Values{"grant_type": {"password"}, "username": {"testuser2"}, "password": {"testuser2"}}.Encode()})
	assertLimited(t, rfc, "RFC endpoint")
	assert.Equal(t, "temporarily_unavailable", rfc.Body["error"])
	// The owner at another address is not locked out.
	ok := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", RemoteAddr: owner,
		Body: map[string]any{"grant_type": "password", "username": "testuser2", "password": "testuser2"}})
	assert.Equal(t, 201, ok.Code, "the owner from another address: %s", ok.Raw)

	// Service passwords are counted at HTTP Basic: ten failures, then 429
	// even with the right password, from that address only.
	for i := range 10 {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", RemoteAddr: attacker,
			Headers: basic("files", "guess"), Body: basicBody("admin", "files")})
		require.Equal(t, 401, r.Code, "failure %d: %s", i+1, r.Raw)
	}
	assertLimited(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", RemoteAddr: attacker,
		Headers: basic("files", testenv.ServicePassword), Body: basicBody("admin", "files")}), "service password after ten failures")
	assert.Equal(t, 201, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", RemoteAddr: owner,
		Headers: basic("files", testenv.ServicePassword), Body: basicBody("admin", "files")}).Code)
	env.Clock.Advance(2 * time.Second)
	assert.Equal(t, 201, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", RemoteAddr: attacker,
		Headers: basic("files", testenv.ServicePassword), Body: basicBody("admin", "files")}).Code, "a delay, not a wall")
}

func TestClientSecretsAreRateLimited(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	const addr = "203.0.113.77:1"
	pw := url.Values{"grant_type": {"password"}, "username": {"testuser1"}, "password": {"testuser1"}}
	rfc := func(secret string) testenv.Response {
		r := formRequest("/v3/oauth2/token", pw, basic(testClientID, secret))
		r.RemoteAddr = addr
		return env.Do(t, r)
	}
	for i := range 10 {
		r := rfc("wrong-secret")
		require.Equal(t, 401, r.Code, "failure %d: %s", i+1, r.Raw)
	}
	assertLimited(t, rfc(key), "the client's right secret after ten failures")
	dev := formRequest("/v3/oauth2/device_authorization", url.Values{"client_id": {testClientID}, "client_secret": {key}}, nil)
	dev.RemoteAddr = addr
	assertLimited(t, env.Do(t, dev), "the device endpoint checks the same counter")
	rv := formRequest("/v3/oauth2/revoke", url.Values{"token": {"x.y.z"}}, basic(testClientID, key))
	rv.RemoteAddr = addr
	assertLimited(t, env.Do(t, rv), "the revocation endpoint checks the same counter")
	rv = formRequest("/v3/oauth2/revoke", url.Values{"token": {"x.y.z"}, "client_id": {testClientID}, "client_secret": {"wrong"}}, nil)
	rv.RemoteAddr = "198.51.100.3:3"
	rr := env.Do(t, rv)
	assert.Equal(t, 401, rr.Code, "a wrong secret at the revocation endpoint: %s", rr.Raw)
	assert.Equal(t, "invalid_client", rr.Body["error"])
	tapis := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", RemoteAddr: addr, Headers: basic(testClientID, key),
		Body: map[string]any{"grant_type": "password", "username": "testuser1", "password": "testuser1"}})
	assertLimited(t, tapis, "the Tapis token endpoint")

	other := formRequest("/v3/oauth2/token", pw, basic(testClientID, key))
	other.RemoteAddr = "198.51.100.1:2"
	assert.Equal(t, 200, env.Do(t, other).Code, "another address is not affected")
	unknown := formRequest("/v3/oauth2/token", pw, basic("no-such-client", "x"))
	inactiveOrUnknown := env.Do(t, unknown)
	wrong := formRequest("/v3/oauth2/token", pw, basic(testClientID, "wrong"))
	wrong.RemoteAddr = "198.51.100.2:2"
	w := env.Do(t, wrong)
	assert.Equal(t, w.Code, inactiveOrUnknown.Code)
	assert.Equal(t, w.Body["error_description"], inactiveOrUnknown.Body["error_description"], "one answer for an unknown client and a wrong secret")
}
