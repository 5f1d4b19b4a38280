package httpapi_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
)

// The authenticator acceptance cases of reference/auth.md §5 (numbers in
// the test names), with the unsafe behaviours replaced by the safe ones.

func passwordGrant(t *testing.T, env *testenv.Env, key string) testenv.Response {
	t.Helper()
	return env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
		Body: map[string]any{"grant_type": "password", "username": "testuser1", "password": "testuser1"}})
}

func TestAuthnCase01CreateClientNeedsToken(t *testing.T) {
	env := testenv.New(t)
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/clients"})
	assert.Equal(t, 401, r.Code, "no token: 401 (the original answered 400)")
	assert.Equal(t, "error", r.Body["status"])
}

func TestAuthnCases02to06TokenErrors(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	cases := []struct {
		name    string
		headers map[string]string
		body    map[string]any
		code    int
		msg     string
	}{
		{"02 bad client", basic("bad_client_id", "bad_client_key"), map[string]any{"grant_type": "password", "username": "testuser1", "password": "testuser1"}, 400, "Invalid client credentials"},
		{"03 bad grant", basic(testClientID, key), map[string]any{"grant_type": "passw0rd"}, 400, "Invalid grant_type"},
		{"04 no username", basic(testClientID, key), map[string]any{"grant_type": "password", "password": "abcd"}, 400, "username and password are required"},
		{"05 no password", basic(testClientID, key), map[string]any{"grant_type": "password", "username": "abcd"}, 400, "username and password are required"},
		{"06 wrong password", basic(testClientID, key), map[string]any{"grant_type": "password", "username": "testuser1", "password": "nope"}, 400, "Invalid username/password combination."},
		{"27 upper-case username", basic(testClientID, key), map[string]any{"grant_type": "password", "username": "TESTUSER1", "password": "testuser1"}, 400, "Invalid username/password combination."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: c.headers, Body: c.body})
			assert.Equal(t, c.code, r.Code, "body: %s", r.Raw)
			assert.Contains(t, r.Message(), c.msg)
			assert.NotContains(t, string(r.Raw), "bad_client_key", "the presented key is never echoed")
		})
	}
}

func TestAuthnCases07to09PasswordGrantWithClient(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	r := passwordGrant(t, env, key)
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Equal(t, "Token created successfully.", r.Message())
	at := accessOf(r)
	for _, f := range []string{"access_token", "expires_at", "expires_in", "jti"} {
		assert.Contains(t, at, f)
	}
	_, c := decode(t, at["access_token"].(string))
	assert.Equal(t, "dev", c["tapis/tenant_id"])
	assert.Equal(t, "testuser1", c["tapis/username"])
	assert.Equal(t, "testuser1@dev", c["sub"])
	assert.Equal(t, testClientID, c["tapis/client_id"])
	assert.Equal(t, "password", c["tapis/grant_type"])
	assert.Equal(t, float64(4*3600), at["expires_in"], "the tenant config's default access TTL")
	rt, _ := r.Result()["refresh_token"].(map[string]any)
	require.NotNil(t, rt, "a client gets a refresh token")
	_, rc := decode(t, rt["refresh_token"].(string))
	assert.Equal(t, "refresh", rc["tapis/token_type"])
	nested, _ := rc["tapis/access_token"].(map[string]any)
	require.NotNil(t, nested)
	assert.Equal(t, "testuser1@dev", nested["sub"])
	assert.Equal(t, testClientID, nested["tapis/client_id"])
	assert.Equal(t, "password", nested["tapis/grant_type"])
	// The token opens a protected endpoint.
	u := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo", Headers: map[string]string{"X-Tapis-Token": at["access_token"].(string)}})
	require.Equal(t, 200, u.Code, "body: %s", u.Raw)
	assert.Equal(t, "testuser1", u.Result()["username"])
}

func TestAuthnCase10PasswordGrantWithoutClient(t *testing.T) {
	env := testenv.New(t)
	for _, enc := range []string{"json", "form"} {
		t.Run(enc, func(t *testing.T) {
			req := testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens",
				Body: map[string]any{"grant_type": "password", "username": "testuser1", "password": "testuser1"}}
			if enc == "form" {
				req = formRequest("/v3/oauth2/tokens", url.Values{"grant_type": {"password"}, "username": {"testuser1"}, "password": {"testuser1"}}, nil)
			}
			r := env.Do(t, req)
			require.Equal(t, 201, r.Code, "body: %s", r.Raw)
			_, c := decode(t, accessOf(r)["access_token"].(string))
			assert.Nil(t, c["tapis/client_id"])
			assert.Contains(t, c, "tapis/client_id", "present and null, as tapipy expects")
			assert.Equal(t, "password", c["tapis/grant_type"])
			assert.NotContains(t, r.Result(), "refresh_token")
		})
	}
}

func TestAuthnCases11to13And45CodeFlow(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	b := newBrowser(t, env)
	p := b.authorize(authQuery(testClientID), "testuser1", "approve")
	require.Equal(t, 303, p.code, "body: %s", p.body)
	loc, err := url.Parse(p.location)
	require.NoError(t, err)
	assert.Equal(t, "localhost:5000", loc.Host)
	assert.Equal(t, "/testsuite", loc.Path)
	assert.Equal(t, "xyz 1/2&3", loc.Query().Get("state"), "state round-trips URL-encoded")
	code := loc.Query().Get("code")
	assert.GreaterOrEqual(t, len(code), 40, "at least 160 bits")

	exchange := func() testenv.Response {
		return env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
			Body: map[string]any{"grant_type": "authorization_code", "code": code, "redirect_uri": testCallback}})
	}
	r := exchange()
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	access := accessOf(r)["access_token"].(string)
	_, c := decode(t, access)
	assert.Equal(t, testClientID, c["tapis/client_id"])
	assert.Equal(t, "authorization_code", c["tapis/grant_type"])
	assert.Equal(t, testCallback, c["tapis/redirect_uri"])
	assert.Equal(t, float64(0), c["tapis/refresh_count"])
	rt, _ := r.Result()["refresh_token"].(map[string]any)
	require.NotNil(t, rt)
	_, rc := decode(t, rt["refresh_token"].(string))
	nested := rc["tapis/access_token"].(map[string]any)
	assert.Equal(t, testCallback, nested["tapis/redirect_uri"])

	// 13 + 45: single use; the replay fails AND revokes what the first produced.
	again := exchange()
	assert.Equal(t, 400, again.Code)
	assert.Equal(t, "authorization code not valid.", again.Message())
	u := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo", Headers: map[string]string{"X-Tapis-Token": access}})
	assert.Equal(t, 401, u.Code, "the first exchange's access token is revoked after a replay")
	rr := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
		Body: map[string]any{"grant_type": "refresh_token", "refresh_token": rt["refresh_token"]}})
	assert.Equal(t, 400, rr.Code, "and so is its refresh token: %s", rr.Raw)
}

func TestAuthnCases14to15RefreshCounts(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	r := passwordGrant(t, env, key)
	require.Equal(t, 201, r.Code)
	refresh := r.Result()["refresh_token"].(map[string]any)["refresh_token"].(string)
	for want := 1; want <= 2; want++ {
		n := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
			Body: map[string]any{"grant_type": "refresh_token", "refresh_token": refresh}})
		require.Equal(t, 201, n.Code, "body: %s", n.Raw)
		_, c := decode(t, accessOf(n)["access_token"].(string))
		assert.Equal(t, "refresh_token", c["tapis/grant_type"])
		assert.Equal(t, float64(want), c["tapis/refresh_count"])
		refresh = n.Result()["refresh_token"].(map[string]any)["refresh_token"].(string)
	}
}

func TestAuthnCase16ImplicitOnlyWhenAllowedAndInFragment(t *testing.T) {
	env := testenv.New(t)
	testClient(t, env)
	b := newBrowser(t, env)
	q := authQuery(testClientID, "response_type", "token")
	p := b.get("/v3/oauth2/authorize?" + q.Encode())
	assert.Equal(t, 400, p.code, "case 50: implicit is off by default")
	assert.Contains(t, p.body, "The implicit grant type is not allowed for this tenant.")

	admin := env.UserToken(t, "dev", "testadmin")
	c := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/oauth2/admin/config", Headers: map[string]string{"X-Tapis-Token": admin},
		Body: map[string]any{"allowable_grant_types": []string{"password", "implicit", "authorization_code", "refresh_token", "device_code"}}})
	require.Equal(t, 200, c.Code, "body: %s", c.Raw)
	p = b.authorize(q, "testuser1", "approve")
	require.Equal(t, 303, p.code, "body: %s", p.body)
	loc, err := url.Parse(p.location)
	require.NoError(t, err)
	assert.Empty(t, loc.RawQuery, "never in the query string")
	frag, err := url.ParseQuery(loc.EscapedFragment())
	require.NoError(t, err)
	assert.Equal(t, "Bearer", frag.Get("token_type"))
	assert.Equal(t, "xyz 1/2&3", frag.Get("state"))
	_, claims := decode(t, frag.Get("access_token"))
	assert.Equal(t, "testuser1@dev", claims["sub"])
	assert.Equal(t, "implicit", claims["tapis/grant_type"])
}

func TestAuthnCases17to19And52DeviceFlow(t *testing.T) {
	env := testenv.New(t, func(c *tapis.Config) { c.MaxAccessTTL = 72 * time.Hour })
	key := testClient(t, env)
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/device/code", Body: map[string]any{"client_id": testClientID}})
	require.Equal(t, 200, r.Code, "body: %s", r.Raw)
	res := r.Result()
	for _, f := range []string{"device_code", "user_code", "verification_uri", "expires_in", "interval"} {
		assert.NotEmpty(t, res[f], f)
	}
	assert.Equal(t, "http://dev.tapis.test/v3/oauth2/device", res["verification_uri"])
	poll := func() testenv.Response {
		return env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens",
			Body: map[string]any{"grant_type": "device_code", "client_id": testClientID, "device_code": res["device_code"]}})
	}
	p := poll()
	assert.Equal(t, 400, p.Code)
	assert.Equal(t, "device code not ready.", p.Message(), "case 52")

	b := newBrowser(t, env)
	g := b.get("/v3/oauth2/device")
	require.Equal(t, 302, g.code)
	l := b.login("testuser1", "testuser1")
	require.Equal(t, "/v3/oauth2/device", l.location)
	form := b.get("/v3/oauth2/device")
	require.Equal(t, 200, form.code)
	consent := b.post("/v3/oauth2/device", url.Values{"csrf": {csrfOf(t, form)}, "user_code": {res["user_code"].(string)}})
	require.Equal(t, 200, consent.code, "body: %s", consent.body)
	require.Contains(t, consent.body, "Authorize the device")

	env.Clock.Advance(6 * time.Second)
	p = poll()
	assert.Equal(t, "device code not ready.", p.Message(), "entered but not approved: still no token")

	done := b.post("/v3/oauth2/device", url.Values{"csrf": {csrfOf(t, consent)}, "decision": {"approve"}, "ttl": {"2"}})
	require.Equal(t, 200, done.code, "body: %s", done.body)
	assert.Contains(t, done.body, "You may now return to your device.")
	env.Clock.Advance(11 * time.Second)
	p = poll()
	require.Equal(t, 201, p.Code, "body: %s", p.Raw)
	assert.Equal(t, float64(2*86400), accessOf(p)["expires_in"], "the TTL the user chose")
	_, c := decode(t, accessOf(p)["access_token"].(string))
	assert.Equal(t, "testuser1", c["tapis/username"])
	assert.Equal(t, "device_code", c["tapis/grant_type"])
	env.Clock.Advance(20 * time.Second)
	assert.Equal(t, 400, poll().Code, "a device code gives tokens once")
	_ = key
}

func TestAuthnCases20to21Revoke(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	r := passwordGrant(t, env, key)
	require.Equal(t, 201, r.Code)
	access := accessOf(r)["access_token"].(string)
	refresh := r.Result()["refresh_token"].(map[string]any)["refresh_token"].(string)
	for _, tok := range []string{access, refresh} {
		rv := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens/revoke", Body: map[string]any{"token": tok}})
		require.Equal(t, 200, rv.Code, "body: %s", rv.Raw)
		assert.Contains(t, rv.Message(), "has been revoked.")
	}
	u := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo", Headers: map[string]string{"X-Tapis-Token": access}})
	assert.Equal(t, 401, u.Code)
	n := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
		Body: map[string]any{"grant_type": "refresh_token", "refresh_token": refresh}})
	assert.Equal(t, 400, n.Code, "a revoked refresh token is refused (the original did not check): %s", n.Raw)
}

func TestAuthnCases22to26HealthMetadataClients(t *testing.T) {
	env := testenv.New(t)
	for _, p := range []string{"/v3/oauth2/hello", "/v3/oauth2/ready", "/v3/oauth2/.well-known/oauth-authorization-server"} {
		assert.Equal(t, 200, env.Do(t, testenv.Request{Method: "GET", Path: p}).Code, p)
	}
	md := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/.well-known/oauth-authorization-server"}).Result()
	assert.Equal(t, "http://dev.tapis.test", md["issuer"], "one issuer per tenant: its base URL, as the tokens' iss")
	assert.Equal(t, "http://dev.tapis.test/v3/oauth2/token", md["token_endpoint"])
	assert.Equal(t, "http://dev.tapis.test/v3/oauth2/jwks", md["jwks_uri"])
	assert.Equal(t, []any{"password", "authorization_code", "refresh_token", "device_code"}, md["grant_types_supported"])

	tok := map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")}
	assert.Equal(t, 200, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/clients", Headers: tok}).Code)
	testClient(t, env)
	g := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/clients/" + testClientID, Headers: tok})
	require.Equal(t, 200, g.Code)
	assert.Equal(t, "A Test Client", g.Result()["display_name"])
	assert.Equal(t, "This is a client just for testing", g.Result()["description"])
	assert.Equal(t, testCallback, g.Result()["callback_url"])
	assert.NotContains(t, g.Result(), "client_key", "keys are shown once, at creation")
	d := env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/oauth2/clients/" + testClientID, Headers: tok})
	require.Equal(t, 200, d.Code)
	assert.Equal(t, false, d.Result()["active"])
	l := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/clients", Headers: tok})
	assert.Empty(t, l.Body["result"])
	l = env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/clients?show_inactive=true", Headers: tok})
	assert.Len(t, l.Body["result"], 1)
}

func TestAuthnCases46to51Refusals(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	b := newBrowser(t, env)
	code := codeFrom(t, b.authorize(authQuery(testClientID), "testuser1", "approve").location)
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
		Body: map[string]any{"grant_type": "authorization_code", "code": code, "redirect_uri": testCallback + "/"}})
	assert.Equal(t, 400, r.Code)
	assert.Equal(t, "Invalid redirect_uri parameter: does not match callback URL registered with client.", r.Message(), "case 46")

	code = codeFrom(t, b.authorize(authQuery(testClientID), "testuser1", "approve").location)
	env.Clock.Advance(607 * time.Second)
	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
		Body: map[string]any{"grant_type": "authorization_code", "code": code, "redirect_uri": testCallback}})
	assert.Equal(t, "authorization code has expired.", r.Message(), "case 47")

	pw := passwordGrant(t, env, key)
	require.Equal(t, 201, pw.Code)
	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
		Body: map[string]any{"grant_type": "refresh_token", "refresh_token": accessOf(pw)["access_token"]}})
	assert.Equal(t, 400, r.Code)
	assert.Contains(t, r.Message(), "Invalid token type. The refresh_token grant type required a token of type refresh", "case 48")

	otherKey := newClient(t, env, "testuser2", map[string]any{"client_id": "other-client", "callback_url": testCallback})
	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic("other-client", otherKey),
		Body: map[string]any{"grant_type": "refresh_token", "refresh_token": pw.Result()["refresh_token"].(map[string]any)["refresh_token"]}})
	assert.Equal(t, 400, r.Code)
	assert.Contains(t, r.Message(), "client_id from header (other-client) does not match the client_id in the token claim", "case 49")

	p := b.get("/v3/oauth2/authorize?" + authQuery(testClientID, "redirect_uri", testCallback+"/").Encode())
	assert.Equal(t, 400, p.code, "case 51")
	assert.Contains(t, p.body, "redirect_uri query parameter does not match the registered callback_url for the client.")
	assert.Empty(t, p.location, "no redirect to an unregistered URI")
}
