package httpapi_test

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

// Negative OAuth cases (reference/perf-reliability.md B1 and R3).

// rfcToken posts a form to the RFC 6749 endpoint.
func rfcToken(t *testing.T, env *testenv.Env, v url.Values, headers map[string]string) testenv.Response {
	t.Helper()
	return env.Do(t, formRequest("/v3/oauth2/token", v, headers))
}

func TestRedirectURIVariantsAreRefusedWithoutRedirect(t *testing.T) {
	env := testenv.New(t)
	testClient(t, env)
	b := newBrowser(t, env)
	for name, uri := range map[string]string{
		"trailing slash": testCallback + "/",
		"host case":      "http://LOCALHOST:5000/testsuite",
		"path case":      "http://localhost:5000/TestSuite",
		"extra path":     testCallback + "/extra",
		"extra query":    testCallback + "?next=evil",
		"fragment":       testCallback + "#x",
		"userinfo":       "http://localhost:5000@evil.example/testsuite",
		"other port":     "http://localhost:5001/testsuite",
		"other scheme":   "https://localhost:5000/testsuite",
		"missing":        "",
	} {
		t.Run(name, func(t *testing.T) {
			p := b.get("/v3/oauth2/authorize?" + authQuery(testClientID, "redirect_uri", uri).Encode())
			assert.Equal(t, 400, p.code)
			assert.Empty(t, p.location, "never redirect to an unregistered URI")
			assert.Contains(t, p.body, "does not match the registered callback_url")
		})
	}
	t.Run("unknown client", func(t *testing.T) {
		p := b.get("/v3/oauth2/authorize?" + authQuery("no-such-client").Encode())
		assert.Equal(t, 400, p.code)
		assert.Empty(t, p.location)
		assert.Contains(t, p.body, "Invalid client.")
	})
}

func TestParallelRedemptionsOfOneCodeGiveExactlyOneSuccess(t *testing.T) {
	// Each redemption authenticates the client, and the limiter counts an
	// attempt until its check ends: 100 in flight at once would pass the
	// free count of one client from one address (429, by design). The
	// race under test is the code's, so the limiter gets room for it.
	env := testenv.New(t, func(c *tapis.Config) { c.MaxLoginFailures = 200 })
	key := testClient(t, env)
	code := codeFrom(t, newBrowser(t, env).authorize(authQuery(testClientID), "testuser1", "approve").location)
	const n = 100
	codes := make([]int, n)
	tokens := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rfcToken(t, env, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testCallback}}, basic(testClientID, key))
			codes[i] = r.Code
			tokens[i], _ = r.Body["access_token"].(string)
		}()
	}
	wg.Wait()
	wins := 0
	var winner string
	for i, c := range codes {
		if c == 200 {
			wins++
			winner = tokens[i]
		} else {
			assert.Equal(t, 400, c)
		}
	}
	require.Equal(t, 1, wins, "exactly one redemption succeeds")
	u := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo", Headers: map[string]string{"X-Tapis-Token": winner}})
	assert.Equal(t, 401, u.Code, "the replays revoked the winner's tokens")
}

func TestCodeBoundToClientAndPKCE(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	otherKey := newClient(t, env, "testuser1", map[string]any{"client_id": "second", "callback_url": testCallback})
	newClient(t, env, "testuser1", map[string]any{"client_id": "public-app", "callback_url": testCallback, "public": true})
	b := newBrowser(t, env)
	exchange := func(client, key, code, verifier string) testenv.Response {
		v := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {testCallback}, "client_id": {client}}
		if verifier != "" {
			v.Set("code_verifier", verifier)
		}
		h := map[string]string{}
		if key != "" {
			h = basic(client, key)
		}
		return rfcToken(t, env, v, h)
	}
	t.Run("code from another client", func(t *testing.T) {
		code := codeFrom(t, b.authorize(authQuery(testClientID), "testuser1", "approve").location)
		r := exchange("second", otherKey, code, "")
		assert.Equal(t, 400, r.Code)
		assert.Equal(t, "invalid_grant", r.Body["error"])
	})
	t.Run("public client needs PKCE", func(t *testing.T) {
		p := b.get("/v3/oauth2/authorize?" + authQuery("public-app").Encode())
		assert.Equal(t, 400, p.code)
		assert.Contains(t, p.body, "PKCE")
	})
	t.Run("plain method refused", func(t *testing.T) {
		p := b.get("/v3/oauth2/authorize?" + authQuery("public-app", "code_challenge", strings.Repeat("a", 43), "code_challenge_method", "plain").Encode())
		assert.Equal(t, 400, p.code)
		assert.Contains(t, p.body, "S256")
	})
	pkce := authQuery("public-app", "code_challenge", challengeOf(testVerifier), "code_challenge_method", "S256")
	t.Run("wrong verifier", func(t *testing.T) {
		code := codeFrom(t, b.authorize(pkce, "testuser1", "approve").location)
		r := exchange("public-app", "", code, testVerifier+"x")
		assert.Equal(t, 400, r.Code)
		assert.Equal(t, "invalid_grant", r.Body["error"])
	})
	t.Run("downgrade: no verifier for a PKCE code", func(t *testing.T) {
		code := codeFrom(t, b.authorize(pkce, "testuser1", "approve").location)
		r := exchange("public-app", "", code, "")
		assert.Equal(t, "invalid_grant", r.Body["error"])
	})
	t.Run("downgrade: verifier for a code without challenge", func(t *testing.T) {
		code := codeFrom(t, b.authorize(authQuery(testClientID), "testuser1", "approve").location)
		r := exchange(testClientID, key, code, testVerifier)
		assert.Equal(t, "invalid_grant", r.Body["error"])
	})
	t.Run("right verifier", func(t *testing.T) {
		code := codeFrom(t, b.authorize(pkce, "testuser1", "approve").location)
		r := exchange("public-app", "", code, testVerifier)
		require.Equal(t, 200, r.Code, "body: %s", r.Raw)
		assert.Equal(t, "Bearer", r.Body["token_type"])
		assert.NotEmpty(t, r.Body["refresh_token"])
	})
	t.Run("expired code", func(t *testing.T) {
		code := codeFrom(t, b.authorize(authQuery(testClientID), "testuser1", "approve").location)
		env.Clock.Advance(11 * time.Minute)
		r := exchange(testClientID, key, code, "")
		assert.Equal(t, "invalid_grant", r.Body["error"])
		assert.Equal(t, "authorization code has expired.", r.Body["error_description"])
	})
}

func TestRefreshReuseRevokesTheFamily(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	otherKey := newClient(t, env, "testuser1", map[string]any{"client_id": "second"})
	first := rfcToken(t, env, url.Values{"grant_type": {"password"}, "username": {"testuser1"}, "password": {"testuser1"}}, basic(testClientID, key))
	require.Equal(t, 200, first.Code, "body: %s", first.Raw)
	refresh := first.Body["refresh_token"].(string)
	use := func(client, key, tok string) testenv.Response {
		return rfcToken(t, env, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok}}, basic(client, key))
	}
	t.Run("another client", func(t *testing.T) {
		r := use("second", otherKey, refresh)
		assert.Equal(t, 400, r.Code)
		assert.Equal(t, "invalid_grant", r.Body["error"])
	})
	second := use(testClientID, key, refresh)
	require.Equal(t, 200, second.Code, "body: %s", second.Raw)
	replay := use(testClientID, key, refresh)
	assert.Equal(t, 400, replay.Code, "a rotated refresh token is refused")
	assert.Equal(t, "invalid_grant", replay.Body["error"])
	next := use(testClientID, key, second.Body["refresh_token"].(string))
	assert.Equal(t, 400, next.Code, "the replay revoked the whole family, including the newest refresh token")
	u := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo", Headers: map[string]string{"X-Tapis-Token": second.Body["access_token"].(string)}})
	assert.Equal(t, 401, u.Code, "and the family's access tokens")
}

func TestClientAuthenticationFailures(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	pw := url.Values{"grant_type": {"password"}, "username": {"testuser1"}, "password": {"testuser1"}}
	t.Run("wrong secret on the RFC endpoint: 401, no echo", func(t *testing.T) {
		r := rfcToken(t, env, pw, basic(testClientID, "wrong-secret-value"))
		assert.Equal(t, 401, r.Code)
		assert.Equal(t, "invalid_client", r.Body["error"])
		assert.NotEmpty(t, r.Header.Get("WWW-Authenticate"))
		assert.NotContains(t, string(r.Raw), "wrong-secret-value")
	})
	t.Run("wrong secret in the body", func(t *testing.T) {
		v := url.Values{"client_id": {testClientID}, "client_secret": {"wrong-secret-value"}}
		for k, x := range pw {
			v[k] = x
		}
		r := rfcToken(t, env, v, nil)
		assert.Equal(t, 401, r.Code)
		assert.NotContains(t, string(r.Raw), "wrong-secret-value")
	})
	t.Run("wrong secret on the Tapis endpoint: 400 as the original, no echo", func(t *testing.T) {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, "wrong-secret-value"),
			Body: map[string]any{"grant_type": "password", "username": "testuser1", "password": "testuser1"}})
		assert.Equal(t, 400, r.Code)
		assert.NotContains(t, string(r.Raw), "wrong-secret-value")
	})
	t.Run("confidential client without its secret", func(t *testing.T) {
		v := url.Values{"client_id": {testClientID}}
		for k, x := range pw {
			v[k] = x
		}
		assert.Equal(t, 401, rfcToken(t, env, v, nil).Code)
	})
	t.Run("deactivated client gets no tokens", func(t *testing.T) {
		d := env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/oauth2/clients/" + testClientID,
			Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")}})
		require.Equal(t, 200, d.Code)
		r := rfcToken(t, env, pw, basic(testClientID, key))
		assert.Equal(t, 401, r.Code)
		assert.Equal(t, "invalid_client", r.Body["error"])
	})
}

func TestRedirectsEncodeStateAndDenyCarriesAccessDenied(t *testing.T) {
	env := testenv.New(t)
	testClient(t, env)
	b := newBrowser(t, env)
	state := "a&code=forged#frag=1 x"
	p := b.authorize(authQuery(testClientID, "state", state), "testuser1", "deny")
	require.Equal(t, 303, p.code)
	loc, err := url.Parse(p.location)
	require.NoError(t, err)
	assert.Equal(t, "access_denied", loc.Query().Get("error"))
	assert.Equal(t, state, loc.Query().Get("state"), "state is URL-encoded, so it cannot inject parameters")
	assert.Empty(t, loc.Query().Get("code"), "no code on denial")
	assert.Empty(t, loc.Fragment)
	p = b.authorize(authQuery(testClientID, "state", state), "testuser1", "approve")
	loc, err = url.Parse(p.location)
	require.NoError(t, err)
	assert.Len(t, loc.Query()["code"], 1, "the state cannot add a second code")
	assert.Equal(t, state, loc.Query().Get("state"))
}

func TestNoTokenInRedirectWhileImplicitIsOff(t *testing.T) {
	env := testenv.New(t)
	testClient(t, env)
	b := newBrowser(t, env)
	b.login("testuser1", "testuser1")
	p := b.get("/v3/oauth2/authorize?" + authQuery(testClientID, "response_type", "token").Encode())
	assert.Equal(t, 400, p.code)
	assert.Empty(t, p.location)
	assert.NotContains(t, p.body, "access_token=")
}

func TestPasswordFailuresAreRateLimited(t *testing.T) {
	env := testenv.New(t)
	bad := url.Values{"grant_type": {"password"}, "username": {"testuser2"}, "password": {"wrong"}}
	for i := range 10 {
		r := rfcToken(t, env, bad, nil)
		require.Equal(t, 400, r.Code, "attempt %d", i+1)
		assert.Equal(t, "invalid_grant", r.Body["error"])
	}
	r := rfcToken(t, env, bad, nil)
	assert.Equal(t, 429, r.Code, "11th failure within the window")
	good := url.Values{"grant_type": {"password"}, "username": {"testuser2"}, "password": {"testuser2"}}
	assert.Equal(t, 429, rfcToken(t, env, good, nil).Code, "locked even with the right password")
	tapis := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens",
		Body: map[string]any{"grant_type": "password", "username": "testuser2", "password": "testuser2"}})
	assert.Equal(t, 429, tapis.Code, "the Tapis endpoint shares the limit")
	assert.Equal(t, 201, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens",
		Body: map[string]any{"grant_type": "password", "username": "testuser3", "password": "testuser3"}}).Code, "other users are unaffected")
	env.Clock.Advance(6 * time.Minute)
	assert.Equal(t, 200, rfcToken(t, env, good, nil).Code, "the window passes")
}

func TestPagesRefuseMissingCSRFAndForbidFraming(t *testing.T) {
	env := testenv.New(t)
	testClient(t, env)
	b := newBrowser(t, env)
	lp := b.get("/v3/oauth2/login")
	assert.Equal(t, "DENY", lp.header.Get("X-Frame-Options"))
	csp := lp.header.Get("Content-Security-Policy")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.Contains(t, csp, "default-src 'none'")
	assert.NotContains(t, csp, "unsafe-inline")
	cookie := lp.header.Get("Set-Cookie")
	assert.Contains(t, cookie, "HttpOnly")
	assert.Contains(t, cookie, "SameSite=Lax")
	assert.NotContains(t, cookie, "Secure", "plain HTTP here; Secure is set when served over TLS")
	p := b.post("/v3/oauth2/login", url.Values{"username": {"testuser1"}, "password": {"testuser1"}})
	assert.Equal(t, 403, p.code, "login without CSRF token")
	p = b.post("/v3/oauth2/login", url.Values{"csrf": {"forged"}, "username": {"testuser1"}, "password": {"testuser1"}})
	assert.Equal(t, 403, p.code, "login with a wrong CSRF token")
	b.get("/v3/oauth2/authorize?" + authQuery(testClientID).Encode())
	b.login("testuser1", "testuser1")
	p = b.post("/v3/oauth2/authorize", url.Values{"decision": {"approve"}})
	assert.Equal(t, 403, p.code, "consent without CSRF token")
	assert.Empty(t, p.location)
	assert.Equal(t, 403, b.post("/v3/oauth2/webapp/logout", url.Values{}).code, "web app logout without CSRF token")
	assert.Equal(t, 403, b.post("/v3/oauth2/logout", url.Values{}).code, "logout without CSRF token")
}

func TestDeviceGrantNegatives(t *testing.T) {
	env := testenv.New(t)
	testClient(t, env)
	start := func() map[string]any {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/device/code", Body: map[string]any{"client_id": testClientID}})
		require.Equal(t, 200, r.Code, "body: %s", r.Raw)
		return r.Result()
	}
	poll := func(dc any) testenv.Response {
		return rfcToken(t, env, url.Values{"grant_type": {"device_code"}, "client_id": {testClientID}, "device_code": {dc.(string)}}, nil)
	}
	d := start()
	assert.Equal(t, "authorization_pending", poll(d["device_code"]).Body["error"])
	r := poll(d["device_code"])
	assert.Equal(t, "slow_down", r.Body["error"], "polling faster than the interval")
	assert.EqualValues(t, 10, r.Body["interval"])
	u := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/device/code", Body: map[string]any{"client_id": "nope"}})
	assert.Equal(t, 400, u.Code)

	b := newBrowser(t, env)
	b.get("/v3/oauth2/device")
	b.login("testuser1", "testuser1")
	form := b.get("/v3/oauth2/device")
	bad := b.post("/v3/oauth2/device", url.Values{"csrf": {csrfOf(t, form)}, "user_code": {"ZZZZ-ZZZZ"}})
	assert.Contains(t, bad.body, "Invalid code.")
	consent := b.post("/v3/oauth2/device", url.Values{"csrf": {csrfOf(t, form)}, "user_code": {strings.ToLower(d["user_code"].(string))}})
	require.Contains(t, consent.body, "Authorize the device", "codes are case-insensitive")
	b.post("/v3/oauth2/device", url.Values{"csrf": {csrfOf(t, consent)}, "decision": {"deny"}})
	env.Clock.Advance(time.Minute)
	assert.Equal(t, "access_denied", poll(d["device_code"]).Body["error"])

	e := start()
	env.Clock.Advance(11 * time.Minute)
	assert.Equal(t, "expired_token", poll(e["device_code"]).Body["error"])
}

func TestTokenEndpointRefusesMalformedBodies(t *testing.T) {
	env := testenv.New(t)
	for name, req := range map[string]testenv.Request{
		"xml":          {Method: "POST", Path: "/v3/oauth2/tokens", Body: "<x/>", Headers: map[string]string{"Content-Type": "application/xml"}},
		"not json":     {Method: "POST", Path: "/v3/oauth2/tokens", Body: "{", Headers: map[string]string{"Content-Type": "application/json"}},
		"no grant":     {Method: "POST", Path: "/v3/oauth2/tokens", Body: map[string]any{}},
		"bad basic":    {Method: "POST", Path: "/v3/oauth2/tokens", Body: map[string]any{"grant_type": "password"}, Headers: map[string]string{"Authorization": "Basic !!!"}},
		"huge":         {Method: "POST", Path: "/v3/oauth2/tokens", Body: `{"grant_type":"` + strings.Repeat("a", 70<<10) + `"}`},
		"rfc no grant": formRequest("/v3/oauth2/token", url.Values{}, nil),
	} {
		t.Run(name, func(t *testing.T) {
			r := env.Do(t, req)
			assert.GreaterOrEqual(t, r.Code, 400)
			assert.Less(t, r.Code, 500, "a client's mistake is never a 5xx: %s", r.Raw)
		})
	}
}

func TestParallelPasswordGuessesCannotSlipUnderTheLimit(t *testing.T) {
	var calls atomic.Int64
	slow := oauth2.AuthenticatorFunc(func(ctx context.Context, tenant, user, pw string) (oauth2.Identity, error) {
		calls.Add(1)
		time.Sleep(20 * time.Millisecond)
		if strings.EqualFold(user, "alice") && pw == "right" {
			return oauth2.Identity{Username: "alice"}, nil // the directory's spelling
		}
		return oauth2.Identity{}, oauth2.ErrInvalidCredentials
	})
	env := testenv.New(t, func(c *tapis.Config) { c.Authenticators = []oauth2.Authenticator{slow} })
	var wg sync.WaitGroup
	codes := make([]int, 100)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = rfcToken(t, env, url.Values{"grant_type": {"password"}, "username": {"alice"}, "password": {"wrong"}}, nil).Code
		}()
	}
	wg.Wait()
	assert.LessOrEqual(t, calls.Load(), int64(10), "no more than the limit reach the authenticator")
	limited := 0
	for _, c := range codes {
		if c == 429 {
			limited++
		}
	}
	assert.GreaterOrEqual(t, limited, 90)

	env2 := testenv.New(t, func(c *tapis.Config) { c.Authenticators = []oauth2.Authenticator{slow} })
	r := rfcToken(t, env2, url.Values{"grant_type": {"password"}, "username": {"ALICE"}, "password": {"right"}}, nil)
	require.Equal(t, 200, r.Code, "body: %s", r.Raw)
	_, claims := decode(t, r.Body["access_token"].(string))
	assert.Equal(t, "alice", claims["tapis/username"], "the authenticator's spelling, not the typed one")
}

func TestParallelRefreshReplaysLeaveNoLiveToken(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	first := rfcToken(t, env, url.Values{"grant_type": {"password"}, "username": {"testuser1"}, "password": {"testuser1"}}, basic(testClientID, key))
	require.Equal(t, 200, first.Code)
	refresh := first.Body["refresh_token"].(string)
	var wg sync.WaitGroup
	tokens := make([]string, 30)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rfcToken(t, env, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, basic(testClientID, key))
			tokens[i], _ = r.Body["access_token"].(string)
		}()
	}
	wg.Wait()
	for _, tok := range tokens {
		if tok == "" {
			continue
		}
		u := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo", Headers: map[string]string{"X-Tapis-Token": tok}})
		assert.Equal(t, 401, u.Code, "a token minted while replays revoked the family is dead too")
	}
}

func TestConsentIsBoundToTheRequestItShowed(t *testing.T) {
	env := testenv.New(t)
	testClient(t, env)
	newClient(t, env, "testuser2", map[string]any{"client_id": "evil", "callback_url": "https://evil.example/cb"})
	b := newBrowser(t, env)
	b.get("/v3/oauth2/authorize?" + authQuery(testClientID).Encode())
	b.login("testuser1", "testuser1")
	shown := b.get("/v3/oauth2/authorize")
	require.Equal(t, 200, shown.code)
	require.Contains(t, shown.body, "A Test Client")
	// Another tab (or site) swaps the pending request.
	swap := b.get("/v3/oauth2/authorize?" + url.Values{"client_id": {"evil"}, "redirect_uri": {"https://evil.example/cb"},
		"response_type": {"code"}, "state": {"s"}}.Encode())
	require.Equal(t, 200, swap.code)
	p := b.post("/v3/oauth2/authorize", url.Values{"csrf": {csrfOf(t, shown)}, "request": {requestOf(t, shown)}, "decision": {"approve"}})
	assert.NotContains(t, p.location, "evil.example", "approving the page shown never approves a swapped request")
	assert.Equal(t, "/v3/oauth2/authorize", p.location, "the current request is shown again")
}

func TestConfigTTLOverflowAndSecureCookieBehindTLSProxy(t *testing.T) {
	env := testenv.New(t)
	admin := map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")}
	r := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/oauth2/admin/config", Headers: admin, Body: map[string]any{"default_access_token_ttl": 9223372037}})
	assert.Equal(t, 400, r.Code, "a TTL that would overflow is refused: %s", r.Raw)

	require.NoError(t, devseed.Apply(context.Background(), env.Server, devseed.Seed{Tenants: []httpapi.NewTenantJSON{
		devseed.TenantSpec("sec", "local", "https://sec.tapis.test", "tapis-dev@example.org", "secadmin")}}))
	p := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/login", Host: "sec.tapis.test"})
	require.Equal(t, 200, p.Code)
	assert.Contains(t, p.Header.Get("Set-Cookie"), "Secure", "an https tenant gets a Secure cookie even when TLS ends at a proxy")
}

func TestDeviceCodeRequestsAreRateLimitedPerAddress(t *testing.T) {
	env := testenv.New(t, func(c *tapis.Config) { c.MaxLoginFailures = 2 })
	testClient(t, env)
	codes := map[int]int{}
	for range 12 {
		codes[env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/device/code", Body: map[string]any{"client_id": testClientID}}).Code]++
	}
	assert.Equal(t, 10, codes[200], "five times MaxFailures per window")
	assert.Equal(t, 2, codes[429])
}

func TestAddressLimitBehindTrustedProxy(t *testing.T) {
	env := testenv.New(t, func(c *tapis.Config) {
		c.MaxLoginFailures = 1                                                   // per address: 10
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")} // httptest's peer address
	})
	try := func(user, client string) int {
		return env.Do(t, formRequest("/v3/oauth2/token", url.Values{"grant_type": {"password"}, "username": {user}, "password": {"bad"}},
			map[string]string{"X-Forwarded-For": "198.51.100.9, " + client})).Code
	}
	for i := range 10 {
		assert.Equal(t, 400, try(fmt.Sprintf("u%d", i), "203.0.113.5"))
	}
	assert.Equal(t, 429, try("u9", "203.0.113.5"), "the client behind the proxy is limited")
	assert.Equal(t, 400, try("u10", "203.0.113.6"), "another client behind the same proxy is not")
}
