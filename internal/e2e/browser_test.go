package e2e_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// The browser reaches the library as http://dev.tapis.test, the dev
// tenant's base URL: the pages pick the tenant by the Host header, and the
// Token Web App builds its callback from that base URL. Chromium's
// --host-resolver-rules maps dev.tapis.test:80 to the test server's port.
const (
	devHost    = "dev." + testenv.Host
	devBase    = "http://" + devHost
	user       = "testuser1"
	clientID   = "e2e-browser-client"
	clientName = "E2E Browser Client"
	timeout    = 60 * time.Second
)

// TestBrowserOAuth2Flow drives the authorization-code flow with PKCE of a
// public client, then the Token Web App, through the real login and consent
// pages in headless Chromium.
func TestBrowserOAuth2Flow(t *testing.T) {
	chromium := chromiumPath(t)
	deadline := time.Now().Add(timeout)

	env := testenv.New(t)
	srv := httptest.NewServer(env.Handler)
	t.Cleanup(srv.Close)
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)
	cb := newCallbackServer(t)
	api := &apiClient{t: t, base: srv.URL, callback: cb.url}

	// A public client of testuser1 (no key: it must use PKCE) whose callback
	// is the recording server.
	reg := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/clients",
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", user)},
		Body: map[string]any{"client_id": clientID, "callback_url": cb.url, "public": true,
			"display_name": clientName, "description": "Registered by the browser end-to-end test"}})
	require.Equal(t, http.StatusCreated, reg.Code, "register the client: %s", reg.Raw)
	assert.Empty(t, reg.Result()["client_key"], "a public client has no key")

	b := newBrowser(t, chromium, "MAP "+devHost+":80 127.0.0.1:"+port, deadline)
	ctx, cancel := context.WithDeadline(b.ctx, deadline)
	defer cancel()
	api.ctx = ctx

	// 1. Deny: the login page, then the consent page; the callback gets
	// error=access_denied and the state back.
	verifier := newVerifier()
	state := "deny 1/2&3=" + newVerifier()[:8]
	b.do(ctx, "open /authorize (signed out)", chromedp.Navigate(authorizeURL(cb.url, state, challengeOf(verifier))),
		chromedp.WaitVisible(chromedp.CSS("#login")))
	assert.Equal(t, devBase+"/v3/oauth2/login", b.location(ctx), "a signed-out user is sent to the login page")
	b.do(ctx, "sign in", b.shot("login"),
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), user),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#deny")), b.shot("consent"))
	b.assertConsent(ctx, clientName)
	b.do(ctx, "deny", chromedp.Click(chromedp.CSS("#deny")))
	q := cb.next(t, ctx)
	assert.Equal(t, "access_denied", q.Get("error"), "callback query: %v", q)
	assert.Equal(t, state, q.Get("state"))
	assert.Empty(t, q.Get("code"), "no code after a denial")
	b.do(ctx, "callback page after deny", chromedp.WaitVisible(chromedp.CSS("#callback")))
	loc := b.location(ctx)
	assert.True(t, strings.HasPrefix(loc, cb.url+"?"), "the browser ends at the callback, at %s", loc)

	// 2. Approve: the session keeps the sign-in, so /authorize goes straight
	// to consent; the code comes back with the state and is redeemed with
	// the PKCE verifier, once.
	state = "approve " + newVerifier()[:8]
	code := b.approve(ctx, cb, authorizeURL(cb.url, state, challengeOf(verifier)), "approve", state)
	tok := api.token(code, verifier)
	require.Equal(t, http.StatusOK, tok.code, "token exchange: %s", tok.raw)
	access, _ := tok.body["access_token"].(string)
	require.NotEmpty(t, access, "token exchange: %s", tok.raw)
	assert.Equal(t, "Bearer", tok.body["token_type"])
	info := api.userinfo(access)
	require.Equal(t, http.StatusOK, info.code, "userinfo: %s", info.raw)
	assert.Equal(t, user, result(info)["username"])
	replay := api.token(code, verifier)
	assert.Equal(t, http.StatusBadRequest, replay.code, "a code is redeemed once: %s", replay.raw)
	assert.Equal(t, "invalid_grant", replay.body["error"], "replay: %s", replay.raw)
	info = api.userinfo(access)
	assert.Equal(t, http.StatusUnauthorized, info.code, "a replayed code revokes the tokens it produced: %s", info.raw)

	// A fresh code with the wrong verifier is refused.
	state = "wrong verifier " + newVerifier()[:8]
	code = b.approve(ctx, cb, authorizeURL(cb.url, state, challengeOf(verifier)), "approve (wrong verifier)", state)
	bad := api.token(code, newVerifier())
	assert.Equal(t, http.StatusBadRequest, bad.code, "wrong verifier: %s", bad.raw)
	assert.Equal(t, "invalid_grant", bad.body["error"], "wrong verifier: %s", bad.raw)
	assert.Empty(t, bad.body["access_token"])

	// 3. The Token Web App: its own code flow with PKCE through the same
	// consent page, then the token in #token, which opens a protected
	// endpoint.
	b.do(ctx, "open the token web app", chromedp.Navigate(devBase+"/v3/oauth2/webapp"),
		chromedp.WaitVisible(chromedp.CSS("#approve")), b.shot("webapp consent"))
	b.assertConsent(ctx, "Tapis Token Web App")
	b.do(ctx, "approve the token web app", chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#token")), b.shot("webapp token"))
	assert.Equal(t, devBase+"/v3/oauth2/webapp", b.location(ctx))
	webToken := strings.TrimSpace(read(b, ctx, "read #token", chromedp.Value(chromedp.CSS("#token"))))
	require.NotEmpty(t, webToken, "the web app shows a token")
	info = api.userinfo(webToken)
	require.Equal(t, http.StatusOK, info.code, "userinfo with the web app's token: %s", info.raw)
	assert.Equal(t, user, result(info)["username"])
	assert.Empty(t, cb.pending(), "the client's callback got nothing from the web app")
}

// chromiumPath is the Chromium binary named by TAPIS_TEST_CHROMIUM; the test
// skips without it and fails when it names no executable.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("TAPIS_TEST_CHROMIUM")
	if p == "" {
		t.Skip("browser test skipped: set TAPIS_TEST_CHROMIUM to a Chromium binary (scripts/chromium-install.sh installs one and prints its path)")
	}
	fi, err := os.Stat(p)
	require.NoError(t, err, "TAPIS_TEST_CHROMIUM=%s", p)
	require.False(t, fi.IsDir(), "TAPIS_TEST_CHROMIUM=%s is a directory", p)
	require.NotZero(t, fi.Mode().Perm()&0o111, "TAPIS_TEST_CHROMIUM=%s is not executable", p)
	return p
}

func newVerifier() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func authorizeURL(callback, state, challenge string) string {
	q := url.Values{"client_id": {clientID}, "redirect_uri": {callback}, "response_type": {"code"}, "state": {state},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	return devBase + "/v3/oauth2/authorize?" + q.Encode()
}

// callbackServer is the client's redirect URI: it records the query of each
// request to /callback and shows a page with #callback.
type callbackServer struct {
	url     string
	queries chan url.Values
}

func newCallbackServer(t *testing.T) *callbackServer {
	t.Helper()
	cb := &callbackServer{queries: make(chan url.Values, 16)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		select {
		case cb.queries <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = io.WriteString(w, `<!doctype html><title>Callback</title><p id="callback">Callback received.</p>`)
	}))
	t.Cleanup(srv.Close)
	cb.url = srv.URL + "/callback"
	return cb
}

// next waits for the next callback request.
func (cb *callbackServer) next(t *testing.T, ctx context.Context) url.Values {
	t.Helper()
	select {
	case q := <-cb.queries:
		return q
	case <-ctx.Done():
		require.FailNow(t, "the callback received no request", "%v", ctx.Err())
		return nil
	}
}

// pending is the number of callback requests not read yet.
func (cb *callbackServer) pending() int { return len(cb.queries) }

// browser is one headless Chromium (one tab, one cookie jar) and the
// screenshots taken along the way, written out only if the test fails.
type browser struct {
	t   *testing.T
	ctx context.Context // the tab; a deadline on a child bounds each step

	mu     sync.Mutex
	shots  []screenshot
	output bytes.Buffer // Chromium's stdout and stderr
}

type screenshot struct {
	name string
	png  []byte
}

func newBrowser(t *testing.T, chromium, resolverRules string, deadline time.Time) *browser {
	t.Helper()
	b := &browser{t: t}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root
		chromedp.WindowSize(1000, 800),
		chromedp.CombinedOutput(lockedWriter{b}),
	)
	if resolverRules != "" { // none: the browser resolves names itself
		opts = append(opts, chromedp.Flag("host-resolver-rules", resolverRules))
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelTab)
	// The first Run starts the browser and binds its life to its context, so
	// that context has no deadline: a watchdog bounds the start instead.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(ctx) }()
	select {
	case err := <-started:
		require.NoError(t, err, "starting %s:\n%s", chromium, b.chromeOutput())
	case <-time.After(time.Until(deadline)):
		cancelAlloc()
		<-started
		require.FailNow(t, "Chromium did not start in time", "%s:\n%s", chromium, b.chromeOutput())
	}
	b.ctx = ctx
	// Registered after the browser's cancel functions, so it runs before
	// them, while the page the test stopped on is still open.
	t.Cleanup(b.saveOnFailure)
	return b
}

type lockedWriter struct{ b *browser }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	return w.b.output.Write(p)
}

func (b *browser) chromeOutput() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.output.String()
}

// do runs the actions of one step, failing the test with the step's name
// and the page the browser is at.
func (b *browser) do(ctx context.Context, step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	read(b, ctx, step, chromedp.Steps(actions...))
}

// read runs one action that returns a value, as do does.
func read[T any](b *browser, ctx context.Context, step string, action chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(ctx, action)
	if err != nil {
		require.FailNow(b.t, "browser step failed", "step %q: %v (page %s)", step, err, b.currentURL())
	}
	return v
}

// location is the URL of the page.
func (b *browser) location(ctx context.Context) string {
	b.t.Helper()
	return read(b, ctx, "read the location", chromedp.Location())
}

// shot takes a full-page screenshot now and keeps it for a failure report.
func (b *browser) shot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		png, err := chromedp.FullScreenshot(100)(ctx, t)
		if err != nil {
			return fmt.Errorf("screenshot %q: %w", name, err)
		}
		b.mu.Lock()
		b.shots = append(b.shots, screenshot{name: name, png: png})
		b.mu.Unlock()
		return nil
	})
}

// currentURL is the URL of the page for messages, with a short deadline of
// its own (the test's may have passed).
func (b *browser) currentURL() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "unknown: " + err.Error()
	}
	return loc
}

// assertConsent checks the consent page names the client and the user.
func (b *browser) assertConsent(ctx context.Context, client string) {
	b.t.Helper()
	title := read(b, ctx, "read the consent title", chromedp.Text(chromedp.CSS("h1")))
	text := read(b, ctx, "read the consent page", chromedp.Text(chromedp.CSS("main")))
	assert.Equal(b.t, "Authorize "+client, strings.TrimSpace(title))
	assert.Contains(b.t, text, "act as "+user)
	loc := b.location(ctx)
	assert.True(b.t, strings.HasPrefix(loc, devBase+"/v3/oauth2/authorize"), "consent at %s", loc)
}

// approve opens an authorization URL while signed in, checks it goes
// straight to the consent page, approves, and returns the code the
// callback receives with the state.
func (b *browser) approve(ctx context.Context, cb *callbackServer, authorize, step, state string) string {
	b.t.Helper()
	b.do(ctx, step+": consent", chromedp.Navigate(authorize),
		chromedp.WaitVisible(chromedp.CSS("#approve")), b.shot(step))
	b.assertConsent(ctx, clientName)
	b.do(ctx, step+": approve", chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#callback")))
	q := cb.next(b.t, ctx)
	assert.Empty(b.t, q.Get("error"), "callback query: %v", q)
	assert.Equal(b.t, state, q.Get("state"))
	code := q.Get("code")
	require.NotEmpty(b.t, code, "callback query: %v", q)
	return code
}

// saveOnFailure writes the screenshots taken along the way and one of the
// current page into the test's artifact directory (a temporary directory,
// kept with go test -artifacts), and logs Chromium's output.
func (b *browser) saveOnFailure() {
	if !b.t.Failed() {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, b.shot("failure")); err != nil {
		b.t.Logf("no screenshot of the current page: %v", err)
	}
	dir := b.t.ArtifactDir()
	b.mu.Lock()
	shots := b.shots
	b.mu.Unlock()
	for i, s := range shots {
		name := fmt.Sprintf("%02d-%s.png", i+1, fileSafe.ReplaceAllString(s.name, "-"))
		if err := os.WriteFile(filepath.Join(dir, name), s.png, 0o644); err != nil {
			b.t.Logf("writing screenshot %s: %v", name, err)
		}
	}
	b.t.Logf("%d screenshot(s) in %s (kept with go test -artifacts); the browser was at %s", len(shots), dir, b.currentURL())
	out := b.chromeOutput()
	if len(out) > 8<<10 {
		out = "...\n" + out[len(out)-8<<10:]
	}
	b.t.Logf("Chromium output:\n%s", out)
}

var fileSafe = regexp.MustCompile(`[^A-Za-z0-9_.-]+`)

// apiClient calls the library's HTTP API as a program would.
type apiClient struct {
	t        *testing.T
	ctx      context.Context
	base     string
	callback string // the client's redirect URI
}

type reply struct {
	code int
	raw  []byte
	body map[string]any
}

func (c *apiClient) do(req *http.Request) reply {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(c.t, err)
	r := reply{code: resp.StatusCode, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// token redeems a code at the RFC 6749 token endpoint as the public client
// (client_id in the form, no secret).
func (c *apiClient) token(code, verifier string) reply {
	c.t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {c.callback},
		"client_id": {clientID}, "code_verifier": {verifier}}
	req, err := http.NewRequestWithContext(c.ctx, http.MethodPost, c.base+"/v3/oauth2/token", strings.NewReader(form.Encode()))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *apiClient) userinfo(token string) reply {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.ctx, http.MethodGet, c.base+"/v3/oauth2/userinfo", nil)
	require.NoError(c.t, err)
	req.Header.Set("X-Tapis-Token", token)
	return c.do(req)
}

func result(r reply) map[string]any {
	m, _ := r.body["result"].(map[string]any)
	return m
}
