package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// A signed-out browser opens the Token Web App on http://127.0.0.1:PORT,
// the address of the listener (as -dev serves it, no resolver rule), signs
// in, approves, and gets a token on the first try.
func TestBrowserTokenWebAppSignedOutFrom127(t *testing.T) {
	chromium := chromiumPath(t)
	deadline := time.Now().Add(timeout)
	_, base := testenv.Serve(t)
	require.True(t, strings.HasPrefix(base, "http://127.0.0.1:"), base)
	b := newBrowser(t, chromium, "", deadline)
	ctx, cancel := context.WithDeadline(b.ctx, deadline)
	defer cancel()

	b.do(ctx, "open the web app, signed out", chromedp.Navigate(base+"/v3/oauth2/webapp"),
		chromedp.WaitVisible(chromedp.CSS("#login")), b.shot("login"))
	assert.Equal(t, base+"/v3/oauth2/login", b.location(ctx), "signed out: the login page, on the same host")
	b.do(ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), user),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#approve")), b.shot("consent"))
	assert.True(t, strings.HasPrefix(b.location(ctx), base+"/v3/oauth2/authorize"), "consent at %s", b.location(ctx))
	assert.Equal(t, "Authorize Tapis Token Web App", strings.TrimSpace(read(b, ctx, "consent title", chromedp.Text(chromedp.CSS("h1")))))
	b.do(ctx, "approve", chromedp.Click(chromedp.CSS("#approve")),
		chromedp.WaitVisible(chromedp.CSS("#token")), b.shot("token"))
	assert.Equal(t, base+"/v3/oauth2/webapp", b.location(ctx))
	token := strings.TrimSpace(read(b, ctx, "read #token", chromedp.Value(chromedp.CSS("#token"))))
	require.NotEmpty(t, token)

	api := &apiClient{t: t, ctx: ctx, base: base}
	info := api.userinfo(token)
	require.Equal(t, http.StatusOK, info.code, "userinfo with the web app's token: %s", info.raw)
	assert.Equal(t, user, result(info)["username"])
	assert.Equal(t, "dev", claimOf(t, token, "tapis/tenant_id"))
}

// oauth2-proxy (a widely deployed OIDC reverse proxy) in front of a tiny
// upstream, configured against our issuer with its provider "oidc" and no
// check skipped (nonce verification turned on, which its default skips):
// a signed-out browser opens the proxy, signs in on our login page,
// approves, and reaches the upstream, which echoes the user the proxy
// forwards.
func TestBrowserOAuth2ProxySignsInThroughOurIssuer(t *testing.T) {
	chromium := chromiumPath(t)
	proxyBin := os.Getenv("TAPIS_TEST_OAUTH2_PROXY")
	if proxyBin == "" {
		t.Skip("oauth2-proxy test skipped: set TAPIS_TEST_OAUTH2_PROXY to an oauth2-proxy v7 binary (scripts/oauth2-proxy-install.sh builds one and prints its path)")
	}
	deadline := time.Now().Add(2 * timeout)

	env, issuer := testenv.Serve(t, func(c *tapis.Config) { c.Authenticators = []oauth2.Authenticator{profiles{}} })

	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Upstream</title><p id="echo">user=%s;email=%s;preferred=%s</p>`,
			html.EscapeString(r.Header.Get("X-Forwarded-User")), html.EscapeString(r.Header.Get("X-Forwarded-Email")),
			html.EscapeString(r.Header.Get("X-Forwarded-Preferred-Username")))
	}))
	t.Cleanup(upstream.Close)

	proxyAddr := freeLoopbackAddr(t)
	proxyURL := "http://" + proxyAddr
	owner := tenancy.Principal{TenantID: "dev", Username: user, AccountType: tenancy.AccountUser, TokenTenantID: "dev", TokenUsername: user}
	_, secret, err := env.Server.OAuth2().CreateClient(context.Background(), owner, oauth2.NewClient{ClientID: "oauth2-proxy",
		CallbackURL: proxyURL + "/oauth2/callback", DisplayName: "Protected App"})
	require.NoError(t, err)

	proxy := startOAuth2Proxy(t, proxyBin, proxyAddr, []string{
		"--provider=oidc",
		"--provider-display-name=Tapis",
		"--oidc-issuer-url=" + issuer,
		"--client-id=oauth2-proxy",
		"--client-secret=" + secret,
		"--redirect-url=" + proxyURL + "/oauth2/callback",
		"--upstream=" + upstream.URL + "/",
		"--email-domain=*",
		"--cookie-secret=" + newVerifier()[:32],
		"--cookie-secure=false",
		"--insecure-oidc-skip-nonce=false", // its default skips the nonce check
		"--code-challenge-method=S256",
	})

	// Signed out, the proxy does not let a request through.
	resp, err := http.Get(proxyURL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.NotEqual(t, http.StatusOK, resp.StatusCode, "signed out: %s", body)
	assert.NotContains(t, string(body), `id="echo"`)

	b := newBrowser(t, chromium, "", deadline)
	ctx, cancel := context.WithDeadline(b.ctx, deadline)
	defer cancel()
	b.do(ctx, "open the protected app", chromedp.Navigate(proxyURL+"/"),
		chromedp.WaitVisible(chromedp.CSS("form[action$='/oauth2/start'] button")), b.shot("proxy sign-in"))
	b.do(ctx, "sign in with Tapis", chromedp.Click(chromedp.CSS("form[action$='/oauth2/start'] button")),
		chromedp.WaitVisible(chromedp.CSS("#login")), b.shot("our login"))
	assert.Equal(t, issuer+"/v3/oauth2/login", b.location(ctx), "the proxy sends the browser to our issuer's login")
	b.do(ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), user),
		chromedp.Click(chromedp.CSS("#login")),
		chromedp.WaitVisible(chromedp.CSS("#approve")), b.shot("consent"))
	assert.Equal(t, "Authorize Protected App", strings.TrimSpace(read(b, ctx, "consent title", chromedp.Text(chromedp.CSS("h1")))))
	b.do(ctx, "approve", chromedp.Click(chromedp.CSS("#approve")))
	waitFor(t, b, ctx, proxy, "the upstream, through the proxy", chromedp.WaitVisible(chromedp.CSS("#echo")))
	b.do(ctx, "upstream page", b.shot("upstream"))
	assert.Equal(t, proxyURL+"/", b.location(ctx), "back at the protected app")
	echo := read(b, ctx, "read #echo", chromedp.Text(chromedp.CSS("#echo")))
	t.Logf("upstream saw: %s", echo)
	assert.Equal(t, "user="+user+"@dev;email="+user+"@example.org;preferred="+user, echo,
		"the proxy forwards the id_token's sub, email and preferred_username")
}

// waitFor runs a browser step and, when it fails, shows the proxy's log,
// which says why it refused a token.
func waitFor(t *testing.T, b *browser, ctx context.Context, proxy *proxyProc, step string, action chromedp.Action[chromedp.Void]) {
	t.Helper()
	if _, err := chromedp.Run(ctx, action); err != nil {
		require.FailNow(t, "browser step failed", "step %q: %v (page %s)\noauth2-proxy output:\n%s", step, err, b.currentURL(), proxy.output())
	}
}

// profiles gives every user an e-mail address and a name, as an LDAP
// directory would (oauth2-proxy requires an email); passwords it leaves to
// the built-in users behind it.
type profiles struct{}

func (profiles) Authenticate(context.Context, string, string, string) (oauth2.Identity, error) {
	return oauth2.Identity{}, oauth2.ErrNotConfigured
}

func (profiles) GetProfile(_ context.Context, _, username string) (oauth2.Profile, error) {
	return oauth2.Profile{Username: username, Email: username + "@example.org", Name: "Test User " + username}, nil
}

func (profiles) ListProfiles(context.Context, string, int, int) ([]oauth2.Profile, error) {
	return nil, oauth2.ErrNotConfigured
}

// freeLoopbackAddr is a 127.0.0.1 address with a port free a moment ago.
func freeLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

type proxyProc struct {
	mu  sync.Mutex
	out bytes.Buffer
}

func (p *proxyProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.Write(b)
}

func (p *proxyProc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// startOAuth2Proxy runs oauth2-proxy on addr with the given flags (and
// none from the environment) and waits until /ping answers; it is killed
// at cleanup, its output logged if the test failed.
func startOAuth2Proxy(t *testing.T, bin, addr string, flags []string) *proxyProc {
	t.Helper()
	p := &proxyProc{}
	cmd := exec.Command(bin, append([]string{"--http-address=" + addr}, flags...)...)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "OAUTH2_PROXY_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout, cmd.Stderr = p, p
	require.NoError(t, cmd.Start(), "starting %s", bin)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("oauth2-proxy output:\n%s", p.output())
		}
	})
	client := &http.Client{Timeout: 2 * time.Second}
	for start := time.Now(); ; {
		select {
		case err := <-exited:
			exited <- err
			require.FailNow(t, "oauth2-proxy exited", "%v\n%s", err, p.output())
		default:
		}
		resp, err := client.Get("http://" + addr + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Since(start) > 30*time.Second {
			require.FailNow(t, "oauth2-proxy did not answer /ping within 30s", "%v\n%s", err, p.output())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// claimOf reads one claim of a JWT without verifying it.
func claimOf(t *testing.T, raw, name string) any {
	t.Helper()
	parts := strings.Split(raw, ".")
	require.Len(t, parts, 3)
	var c map[string]any
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &c))
	return c[name]
}
