package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

func TestATokenCannotLaunderItself(t *testing.T) {
	env := testenv.New(t)
	parent := env.ServiceToken(t, "files") // 300 s, the default
	_, pc := decode(t, parent)
	hdr := map[string]string{"X-Tapis-Token": parent}
	site := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/sites", Headers: map[string]string{"X-Tapis-Token": env.ServiceToken(t, "tenants")},
		Body: map[string]any{"site_id": "remote", "primary": false, "base_url": "https://remote.example", "site_admin_tenant_id": "admin", "services": []string{"systems"}}})
	require.Equal(t, 201, site.Code, "body: %s", site.Raw)
	self := map[string]any{"account_type": "service", "token_tenant_id": "admin", "token_username": "files",
		"target_site_id": "local", "access_token_ttl": 86400}
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: hdr, Body: self})
	require.Equal(t, 201, r.Code, "a service token may mint a copy of itself: %s", r.Raw)
	child := accessOf(r)["access_token"].(string)
	assert.LessOrEqual(t, accessOf(r)["expires_in"], float64(300), "never outlives the presenting token")
	assert.NotContains(t, r.Result(), "refresh_token")
	_, cc := decode(t, child)
	assert.Equal(t, pc["jti"], cc["tapis/parent_jti"], "the parent is recorded")
	assert.LessOrEqual(t, cc["exp"], pc["exp"])
	assert.Equal(t, "service", cc["tapis/account_type"])
	assert.Equal(t, false, cc["tapis/delegation"])

	for name, tc := range map[string]struct {
		hdr  map[string]string
		body map[string]any
		want string
	}{
		"a user token for itself": {map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")},
			map[string]any{"account_type": "user", "token_tenant_id": "dev", "token_username": "testuser1", "access_token_ttl": 86400},
			"a user token cannot mint tokens"},
		"a copy with a refresh token": {hdr, map[string]any{"account_type": "service", "token_tenant_id": "admin",
			"token_username": "files", "target_site_id": "local", "generate_refresh_token": true}, "gets no refresh token"},
		"a copy for another site": {hdr, map[string]any{"account_type": "service", "token_tenant_id": "admin",
			"token_username": "files", "target_site_id": "remote"}, "keeps the holder's target site"},
		"a copy of a copy": {map[string]string{"X-Tapis-Token": child}, self, "cannot mint further tokens"},
		"a delegation copy": {hdr, map[string]any{"account_type": "service", "token_tenant_id": "admin", "token_username": "files",
			"target_site_id": "local", "delegation_token": true, "delegation_sub_tenant_id": "dev", "delegation_sub_username": "testuser1"},
			"delegation tokens are minted by token generator services only"},
	} {
		t.Run(name, func(t *testing.T) {
			r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: tc.hdr, Body: tc.body})
			assert.Contains(t, []int{400, 403}, r.Code, "refused: %s", r.Raw)
			assert.Contains(t, r.Message(), tc.want)
		})
	}

	// Revoking the parent revokes the copy.
	use := func(tok string) int {
		return env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems", Headers: map[string]string{"X-Tapis-Token": tok}}).Code
	}
	require.Equal(t, 200, use(child))
	rv := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens/revoke", Body: map[string]any{"token": parent}})
	require.Equal(t, 200, rv.Code, "body: %s", rv.Raw)
	assert.Equal(t, 401, use(child), "the copy dies with its parent")

	// A copy minted near the parent's end lives only as long.
	late := env.ServiceToken(t, "jobs")
	env.Clock.Advance(290 * time.Second)
	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: map[string]string{"X-Tapis-Token": late},
		Body: map[string]any{"account_type": "service", "token_tenant_id": "admin", "token_username": "jobs", "target_site_id": "local"}})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.LessOrEqual(t, accessOf(r)["expires_in"], float64(10))
}

func TestRoutingErrorsAnswerInTheEnvelope(t *testing.T) {
	env := testenv.New(t)
	nf := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/no-such-thing"})
	assert.Equal(t, 404, nf.Code)
	assert.Equal(t, "error", nf.Body["status"], "envelope: %s", nf.Raw)
	assert.Contains(t, nf.Message(), "/v3/no-such-thing")
	assert.Equal(t, "application/json", nf.Header.Get("Content-Type"))

	na := env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/sites"})
	assert.Equal(t, 405, na.Code)
	assert.Equal(t, "error", na.Body["status"], "envelope: %s", na.Raw)
	allow := na.Header.Get("Allow")
	for _, m := range []string{"GET", "HEAD", "POST"} {
		assert.Contains(t, allow, m)
	}
	assert.NotContains(t, allow, "DELETE")

	req := httptest.NewRequest(http.MethodHead, "/v3/sites", nil)
	rec := httptest.NewRecorder()
	env.Handler.ServeHTTP(rec, req)
	assert.Equal(t, 200, rec.Code, "HEAD works where GET does")
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
}

func TestResponsesCarryingSecretsAreNotCacheable(t *testing.T) {
	env := testenv.New(t)
	authn := map[string]string{"X-Tapis-Token": env.ServiceToken(t, "authenticator")}
	user := map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")}
	mint := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: authn, Body: map[string]any{
		"account_type": "user", "token_tenant_id": "dev", "token_username": "testuser1", "generate_refresh_token": true}})
	require.Equal(t, 201, mint.Code)
	refresh := mint.Result()["refresh_token"].(map[string]any)["refresh_token"]
	for name, r := range map[string]testenv.Request{
		"POST /v3/tokens (Basic)": {Method: "POST", Path: "/v3/tokens", Headers: basic("files", testenv.ServicePassword), Body: basicBody("admin", "files")},
		"PUT /v3/tokens":          {Method: "PUT", Path: "/v3/tokens", Body: map[string]any{"refresh_token": refresh}},
		"POST /v3/oauth2/tokens": {Method: "POST", Path: "/v3/oauth2/tokens",
			Body: map[string]any{"grant_type": "password", "username": "testuser1", "password": "testuser1"}},
		"POST /v3/oauth2/clients":     {Method: "POST", Path: "/v3/oauth2/clients", Headers: user, Body: map[string]any{"client_id": "nocache"}},
		"POST /v3/oauth2/device/code": {Method: "POST", Path: "/v3/oauth2/device/code", Body: map[string]any{"client_id": "nocache"}},
		"GET a system credential":     {Method: "GET", Path: "/v3/systems/credential/none/user/testuser1", Headers: user},
	} {
		t.Run(name, func(t *testing.T) {
			got := env.Do(t, r)
			assert.Less(t, got.Code, 500, "body: %s", got.Raw)
			assert.Equal(t, "no-store", got.Header.Get("Cache-Control"))
			assert.Equal(t, "no-cache", got.Header.Get("Pragma"))
		})
	}
}

func TestCallbackURLsCannotInjectIntoTheCSP(t *testing.T) {
	env := testenv.New(t)
	user := map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")}
	for _, cb := range []string{
		"https://a.example;sandbox/cb", "https://a.example,evil/cb", "https://a.example/cb'", `https://a.example/"cb`,
		"https://a .example/cb", "https://a.example/c b", "https://a.example/cb\\x", "https://user@a.example/cb",
		"https://a.example/cb#frag", "http://a.example/cb", "https:///cb", "//a.example/cb", "https://a_b!.example/cb",
		"https://a.example:99999/cb", "https://a.example/\u00e9", "javascript:alert(1)",
	} {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/clients", Headers: user,
			Body: map[string]any{"callback_url": cb}})
		assert.Equal(t, 400, r.Code, "%q must be refused: %s", cb, r.Raw)
		assert.Contains(t, r.Message(), "callback_url", cb)
	}
	for _, cb := range []string{"https://app.example.org/cb?x=1", "http://localhost:5000/cb", "http://127.0.0.1:8000/cb", "http://[::1]:9/cb"} {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/clients", Headers: user, Body: map[string]any{"callback_url": cb}})
		assert.Equal(t, 201, r.Code, "%q is fine: %s", cb, r.Raw)
	}
	up := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/oauth2/clients/" + testClientIDFor(t, env), Headers: user,
		Body: map[string]any{"callback_url": "https://ok.example;script-src *"}})
	assert.Equal(t, 400, up.Code, "updates are checked the same way: %s", up.Raw)
}

// testClientIDFor registers a client of testuser1 and returns its id.
func testClientIDFor(t *testing.T, env *testenv.Env) string {
	t.Helper()
	newClient(t, env, "testuser1", map[string]any{"client_id": "csp-client", "callback_url": "https://ok.example/cb"})
	return "csp-client"
}

func TestErrorsQuoteBoundedInput(t *testing.T) {
	env := testenv.New(t)
	huge := strings.Repeat("x", 1<<20)
	user := map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")}
	for name, r := range map[string]testenv.Request{
		"a system id":    {Method: "GET", Path: "/v3/systems/" + huge[:60000], Headers: user},
		"a site id":      {Method: "GET", Path: "/v3/sites/" + huge[:60000]},
		"a client field": {Method: "POST", Path: "/v3/oauth2/clients", Headers: user, Body: map[string]any{"client_id": huge}},
		"a system body": {Method: "POST", Path: "/v3/systems", Headers: user,
			Body: map[string]any{"id": huge, "systemType": "LINUX", "host": huge, "defaultAuthnMethod": "PASSWORD"}},
	} {
		t.Run(name, func(t *testing.T) {
			got := env.Do(t, r)
			assert.GreaterOrEqual(t, got.Code, 400)
			assert.Less(t, got.Code, 500, "body: %.300s", got.Raw)
			assert.Less(t, len(got.Raw), 4096, "the error quotes a bounded part of the input")
		})
	}
}

// A callback stored before the rules were strict (here written straight
// into the store) never adds a directive to the consent page's CSP.
func TestStoredCallbackCannotExtendTheCSP(t *testing.T) {
	env := testenv.New(t)
	bad := "https://a.example;script-src *;form-action *"
	require.NoError(t, env.Store.CreateClient(context.Background(), oauth2.Client{TenantID: "dev", ClientID: "legacy",
		Owner: "testuser1", CallbackURL: bad, DisplayName: "legacy", Active: true}))
	good := "https://b.example/cb"
	require.NoError(t, env.Store.CreateClient(context.Background(), oauth2.Client{TenantID: "dev", ClientID: "modern",
		Owner: "testuser1", CallbackURL: good, DisplayName: "modern", Active: true}))
	for _, tc := range []struct{ client, callback, want string }{{"legacy", bad, ""}, {"modern", good, "https://b.example"}} {
		b := newBrowser(t, env)
		q := url.Values{"client_id": {tc.client}, "redirect_uri": {tc.callback}, "response_type": {"code"},
			"code_challenge": {challengeOf(testVerifier)}, "code_challenge_method": {"S256"}}
		p := b.get("/v3/oauth2/authorize?" + q.Encode())
		if p.code == http.StatusFound {
			p = b.login("testuser1", "testuser1")
			p = b.get(p.location)
		}
		require.Equal(t, 200, p.code, "consent page for %s: %s", tc.client, p.body)
		csp := p.header.Get("Content-Security-Policy")
		assert.NotContains(t, csp, "script-src", tc.client)
		assert.Equal(t, 1, strings.Count(csp, "form-action"), "one form-action: %s", csp)
		assert.NotContains(t, csp, "a.example", "a callback failing the rules adds no source")
		if tc.want != "" {
			assert.Contains(t, csp, "form-action 'self' "+tc.want, "a valid callback's origin is allowed")
		}
	}
}
