package httpapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// rapidocSHA256 is the SHA-256 of dist/rapidoc-min.js in the npm package
// rapidoc@9.3.8 (README, "API reference"); a changed file must be a
// deliberate update.
const rapidocSHA256 = "affbd173a65e870e18f392cca963113bcdafb6e50e88cd2f6a834a65b22db94d"

var pageRefs = regexp.MustCompile(`\b(?:src|href|spec-url)="([^"]*)"`)

// TestDocsServedFromTheBinary checks /docs without a browser: the page
// names only files of this server (relative URLs, no CDN), every one of
// them is served with its type, the CSP forbids inline and foreign
// scripts, and the bundle is the published RapiDoc file.
func TestDocsServedFromTheBinary(t *testing.T) {
	env := testenv.New(t)
	page := env.Do(t, testenv.Request{Method: http.MethodGet, Path: "/docs"})
	require.Equal(t, http.StatusOK, page.Code)
	assert.Equal(t, "text/html; charset=utf-8", page.Header.Get("Content-Type"))
	csp := strings.Split(page.Header.Get("Content-Security-Policy"), "; ")
	assert.Contains(t, csp, "default-src 'none'")
	assert.Contains(t, csp, "script-src 'self'", "scripts from this server only, none inline")
	assert.Contains(t, csp, "connect-src 'self'")
	assert.Contains(t, csp, "frame-ancestors 'none'")
	assert.NotContains(t, page.Header.Get("Content-Security-Policy"), "http", "no other origin")
	assert.Equal(t, "nosniff", page.Header.Get("X-Content-Type-Options"))
	html := string(page.Raw)
	assert.NotContains(t, html, "<script>", "no inline script")
	assert.NotRegexp(t, `<script[^>]*>[^<]`, html, "no inline script")
	assert.Contains(t, html, "<rapi-doc")

	refs := pageRefs.FindAllStringSubmatch(html, -1)
	require.NotEmpty(t, refs)
	types := map[string]string{
		"docs/assets/rapidoc-min.js": "text/javascript; charset=utf-8",
		"docs/assets/docs.css":       "text/css; charset=utf-8",
		"openapi.json":               "application/openapi+json",
		"openapi-3.0.json":           "application/openapi+json",
	}
	seen := map[string]bool{}
	for _, m := range refs {
		ref := m[1]
		if ref == "data:," {
			continue // the empty favicon
		}
		assert.False(t, strings.HasPrefix(ref, "/") || strings.Contains(ref, "//"),
			"%s: references are relative to /docs (the page works under a prefix, from this server only)", ref)
		want, ok := types[ref]
		if !assert.True(t, ok, "unexpected reference %s", ref) {
			continue
		}
		seen[ref] = true
		r := env.Do(t, testenv.Request{Method: http.MethodGet, Path: "/" + ref})
		assert.Equal(t, http.StatusOK, r.Code, ref)
		assert.Equal(t, want, r.Header.Get("Content-Type"), ref)
		assert.NotEmpty(t, r.Raw, ref)
	}
	assert.Len(t, seen, len(types), "the page uses the bundle, its stylesheet and both documents")

	js := env.Do(t, testenv.Request{Method: http.MethodGet, Path: "/docs/assets/rapidoc-min.js"})
	sum := sha256.Sum256(js.Raw)
	assert.Equal(t, rapidocSHA256, hex.EncodeToString(sum[:]), "the embedded bundle is rapidoc@9.3.8's dist/rapidoc-min.js")
	for _, lic := range []string{"/docs/assets/LICENSE-rapidoc.txt", "/docs/assets/rapidoc-min.js.LICENSE.txt"} {
		r := env.Do(t, testenv.Request{Method: http.MethodGet, Path: lic})
		assert.Equal(t, http.StatusOK, r.Code, lic)
		assert.Contains(t, string(r.Raw), "MIT", lic)
	}
}
