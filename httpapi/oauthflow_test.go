package httpapi_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// Helpers shared by the authenticator tests: a registered client and a
// cookie-keeping browser that stops at redirects so tests can read them.

const (
	testCallback = "http://localhost:5000/testsuite"
	testClientID = "tapis_authn_test_suite_client_id"
	testVerifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXkdBjftJeZ4CVP"
)

func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// newClient registers a client owned by owner in dev and returns its key.
func newClient(t *testing.T, env *testenv.Env, owner string, body map[string]any) string {
	t.Helper()
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/clients",
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", owner)}, Body: body})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	key, _ := r.Result()["client_key"].(string)
	return key
}

// testClient registers the test-suite client of reference/auth.md §5.
func testClient(t *testing.T, env *testenv.Env) string {
	return newClient(t, env, "testuser1", map[string]any{"client_id": testClientID, "callback_url": testCallback,
		"display_name": "A Test Client", "description": "This is a client just for testing"})
}

// form posts a URL-encoded form to the token endpoint.
func formRequest(path string, v url.Values, headers map[string]string) testenv.Request {
	h := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	for k, x := range headers {
		h[k] = x
	}
	return testenv.Request{Method: "POST", Path: path, Body: v.Encode(), Headers: h}
}

// browser is an HTTP client with cookies that does not follow redirects.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, env *testenv.Env) *browser {
	t.Helper()
	srv := httptest.NewServer(env.Handler)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: srv.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

type page struct {
	code     int
	location string
	body     string
	header   http.Header
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return page{code: resp.StatusCode, location: resp.Header.Get("Location"), body: string(raw), header: resp.Header}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = b.base + path
	}
	req, err := http.NewRequest("GET", path, nil)
	require.NoError(b.t, err)
	return b.do(req)
}

func (b *browser) post(path string, v url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest("POST", b.base+path, strings.NewReader(v.Encode()))
	require.NoError(b.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

var (
	csrfField    = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	requestField = regexp.MustCompile(`name="request" value="([^"]+)"`)
)

func requestOf(t *testing.T, p page) string {
	t.Helper()
	m := requestField.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no request field in the consent page: %s", p.body)
	return m[1]
}

func csrfOf(t *testing.T, p page) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(p.body)
	require.NotNil(t, m, "no CSRF field in page: %s", p.body)
	return m[1]
}

// login signs in through the login page (following the redirect chain from
// a page that sent the browser there).
func (b *browser) login(user, pw string) page {
	b.t.Helper()
	lp := b.get("/v3/oauth2/login")
	require.Equal(b.t, 200, lp.code)
	return b.post("/v3/oauth2/login", url.Values{"csrf": {csrfOf(b.t, lp)}, "username": {user}, "password": {pw}})
}

// authorize runs GET /authorize with query q, logging in as user when asked,
// and answers the consent page with decision; it returns the final redirect.
func (b *browser) authorize(q url.Values, user, decision string) page {
	b.t.Helper()
	return b.authorizeURL("/v3/oauth2/authorize?"+q.Encode(), user, decision)
}

// authorizeURL is authorize for a complete authorization URL.
func (b *browser) authorizeURL(u, user, decision string) page {
	b.t.Helper()
	p := b.get(u)
	if p.code == http.StatusFound && strings.HasSuffix(p.location, "/v3/oauth2/login") {
		p = b.login(user, user)
		require.Equal(b.t, http.StatusSeeOther, p.code, "login: %s", p.body)
		require.Equal(b.t, "/v3/oauth2/authorize", p.location)
		p = b.get(p.location)
	}
	require.Equal(b.t, 200, p.code, "consent page: %s", p.body)
	return b.post("/v3/oauth2/authorize", url.Values{"csrf": {csrfOf(b.t, p)}, "request": {requestOf(b.t, p)}, "decision": {decision}})
}

// codeFrom extracts the code of a redirect to the callback.
func codeFrom(t *testing.T, location string) string {
	t.Helper()
	u, err := url.Parse(location)
	require.NoError(t, err)
	code := u.Query().Get("code")
	require.NotEmpty(t, code, "no code in %s", location)
	return code
}

func authQuery(clientID string, extra ...string) url.Values {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {testCallback}, "response_type": {"code"}, "state": {"xyz 1/2&3"}}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return q
}
