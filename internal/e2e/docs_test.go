package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// recordViolations is added to every document before its own scripts run
// (CDP-injected scripts are exempt from the page's CSP): it keeps each CSP
// violation the page causes, also those inside RapiDoc's shadow root.
const recordViolations = `window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sourceFile || '') + ':' + e.lineNumber);
}, true);`

// renderedText is the text RapiDoc rendered, read through every shadow
// root (its parts are nested web components), with the values of its
// editors and without its styles.
const renderedText = `(() => {
  const walk = (n) => {
    if (n.nodeType === Node.TEXT_NODE) return n.nodeValue + ' ';
    if (n.nodeType !== Node.ELEMENT_NODE && n.nodeType !== Node.DOCUMENT_FRAGMENT_NODE) return '';
    if (n.tagName === 'STYLE' || n.tagName === 'SCRIPT') return '';
    let out = (n.tagName === 'TEXTAREA' || n.tagName === 'INPUT') ? n.value + ' ' : '';
    if (n.shadowRoot) out += walk(n.shadowRoot);
    for (const c of n.childNodes) out += walk(c);
    return out;
  };
  const el = document.querySelector('rapi-doc');
  return el ? walk(el).replace(/\s+/g, ' ') : '';
})()`

// TestDocsOffline loads /docs in a signed-out browser whose network is
// closed except for the test server, and checks that the API reference
// lists the operations of the served OpenAPI document, that every request
// went to the server (nothing from a CDN), and that the page runs under its
// CSP without a violation.
func TestDocsOffline(t *testing.T) {
	chromium := chromiumPath(t)
	deadline := time.Now().Add(timeout)

	env := testenv.New(t)
	srv := httptest.NewServer(env.Handler)
	t.Cleanup(srv.Close)

	// Every host name fails to resolve except the server's address: the
	// browser has no network beyond the test server.
	b := newBrowser(t, chromium, "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", deadline)
	ctx, cancel := context.WithDeadline(b.ctx, deadline)
	defer cancel()

	var mu sync.Mutex
	var requests, problems []string
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *network.EventRequestWillBeSent:
			requests = append(requests, ev.Request.URL)
		case *network.EventLoadingFailed:
			problems = append(problems, "request failed: "+ev.ErrorText+" "+ev.BlockedReason.String())
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+exceptionText(ev.ExceptionDetails))
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError {
				problems = append(problems, "console: "+ev.Entry.Text+" "+ev.Entry.URL)
			}
		}
	}))
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: recordViolations})
	require.NoError(t, err)

	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(srv.URL+"/docs"))
	require.NoError(t, err, "open /docs")
	require.Equal(t, int64(http.StatusOK), resp.Status)
	csp, _ := resp.Headers["Content-Security-Policy"].(string)
	assert.Contains(t, strings.Split(csp, "; "), "script-src 'self'", "the page allows only its own scripts: %s", csp)
	assert.NotContains(t, csp, "unsafe-eval")
	assert.NotContains(t, csp, "http", "no other origin may serve the page anything")

	// The operations appear: summaries of the Tokens, Authenticator and
	// Systems services.
	want := []string{
		"Generate a token (password, authorization_code, refresh_token or device_code grant).",
		"Get the profile of the token's user.",
		"Create a child of a system.",
	}
	waitText(b, ctx, "the reference lists the operations", func(text string) bool { return containsAll(text, want) })

	// Opening one operation shows its path and its request body's fields:
	// the document's references resolve. (RapiDoc upper-cases the method
	// with CSS only.)
	clicked := read(b, ctx, "open an operation", chromedp.Evaluate[bool](openOperation("Generate a new token from a refresh token.")))
	require.True(t, clicked, "the navigation has the operation")
	waitText(b, ctx, "the operation opens", func(text string) bool {
		_, detail, ok := strings.Cut(text, "put /v3/tokens")
		return ok && strings.Contains(detail, "refresh_token : string")
	})
	b.do(ctx, "screenshot", b.shot("docs"))
	png := b.lastShot()
	require.NotEmpty(t, png, "a screenshot of the reference")
	shotFile := filepath.Join(t.ArtifactDir(), "docs.png")
	require.NoError(t, os.WriteFile(shotFile, png, 0o644))
	t.Logf("screenshot of /docs in %s (kept with go test -artifacts)", shotFile)

	violations := read(b, ctx, "read the CSP violations", chromedp.Evaluate[[]string](`window.__cspViolations`))
	assert.Empty(t, violations, "CSP violations on /docs")

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, requests)
	for _, u := range requests {
		if strings.HasPrefix(u, "data:") {
			continue // inline images of the bundle's styles
		}
		assert.True(t, strings.HasPrefix(u, srv.URL+"/"), "the page loaded %s from outside the server", u)
	}
	assert.Contains(t, requests, srv.URL+"/docs/assets/rapidoc-min.js")
	assert.Contains(t, requests, srv.URL+"/openapi.json")
	assert.Empty(t, problems, "errors while loading /docs")
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil && d.Exception.Description != "" {
		return d.Exception.Description
	}
	return d.Text
}

// waitText reads the rendered reference until done accepts it, and fails
// the test with the end of the text when the test's deadline passes first.
func waitText(b *browser, ctx context.Context, step string, done func(string) bool) {
	b.t.Helper()
	for {
		text := read(b, ctx, step, chromedp.Evaluate[string](renderedText))
		if done(text) {
			return
		}
		select {
		case <-ctx.Done():
			require.FailNow(b.t, "the reference did not render in time", "%s; page text: ...%s", step, text[max(0, len(text)-3000):])
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// openOperation clicks the navigation item with the given summary.
func openOperation(summary string) string {
	return `(() => {
  const root = document.querySelector('rapi-doc').shadowRoot;
  const item = [...root.querySelectorAll('[data-content-id]')].find((n) => n.innerText.trim() === ` + strconv.Quote(summary) + `);
  if (!item) return false;
  item.click();
  return true;
})()`
}

func containsAll(s string, subs []string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// lastShot is the last screenshot taken.
func (b *browser) lastShot() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.shots) == 0 {
		return nil
	}
	return b.shots[len(b.shots)-1].png
}
