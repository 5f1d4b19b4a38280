package httpapi

import (
	"embed"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// The API reference at /docs is RapiDoc (MIT, docsui/LICENSE-rapidoc.txt),
// a single web-component file embedded in the binary, so the page works
// offline and loads nothing from a CDN. The page is plain HTML: the
// component reads its settings from attributes, so no inline script is
// needed and the CSP allows scripts from our own origin only.
//
//go:embed docsui/docs.html docsui/docs.css docsui/rapidoc-min.js docsui/LICENSE-rapidoc.txt docsui/rapidoc-min.js.LICENSE.txt
var docsUI embed.FS

// DocsPath is where the API reference is served; its files are under
// DocsPath + "/assets/".
const DocsPath = "/docs"

// docsAssets are the files under /docs/assets/ and their content types.
var docsAssets = map[string]string{
	"rapidoc-min.js":             "text/javascript; charset=utf-8",
	"docs.css":                   "text/css; charset=utf-8",
	"LICENSE-rapidoc.txt":        "text/plain; charset=utf-8",
	"rapidoc-min.js.LICENSE.txt": "text/plain; charset=utf-8",
}

// docsCSP allows the page its own scripts, styles and the OpenAPI document
// and nothing else: no inline or evaluated script, no other origin, no
// framing. Inline styles are allowed because RapiDoc (like every docs UI we
// tried) styles its shadow DOM with <style> elements and style attributes.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; " +
	"img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// RegisterDocs serves the OpenAPI document (3.1 at /openapi.json and
// /openapi.yaml, 3.0 at /openapi-3.0.json and /openapi-3.0.yaml) and the
// API reference at /docs with its files under /docs/assets/. NewAPI calls
// it; an embedder using Config on its own adapter calls it too (Config
// turns huma's documents and CDN-loaded page off).
func RegisterDocs(api huma.API) { registerDocs(api, nil) }

// registerDocs is RegisterDocs with the requests counted by obs.
func registerDocs(api huma.API, obs RequestObserver) {
	registerDocuments(api, obs)
	page := mustReadDocs("docs.html")
	api.Adapter().Handle(&huma.Operation{Method: http.MethodGet, Path: DocsPath}, observed(obs, DocsPath, func(ctx huma.Context) {
		docsHeaders(ctx, "text/html; charset=utf-8")
		ctx.SetHeader("Cache-Control", "no-cache")
		_, _ = ctx.BodyWriter().Write(page)
	}))
	for name, ctype := range docsAssets {
		body := mustReadDocs(name)
		path := DocsPath + "/assets/" + name
		api.Adapter().Handle(&huma.Operation{Method: http.MethodGet, Path: path}, observed(obs, path, func(ctx huma.Context) {
			docsHeaders(ctx, ctype)
			// The files change only with the binary; a day's caching
			// spares the 850 kB script on every visit.
			ctx.SetHeader("Cache-Control", "public, max-age=86400")
			_, _ = ctx.BodyWriter().Write(body)
		}))
	}
}

func docsHeaders(ctx huma.Context, ctype string) {
	ctx.SetHeader("Content-Type", ctype)
	ctx.SetHeader("Content-Security-Policy", docsCSP)
	ctx.SetHeader("X-Content-Type-Options", "nosniff")
	ctx.SetHeader("X-Frame-Options", "DENY")
	ctx.SetHeader("Referrer-Policy", "no-referrer")
}

func mustReadDocs(name string) []byte {
	b, err := docsUI.ReadFile("docsui/" + strings.TrimPrefix(name, "/"))
	if err != nil {
		panic("httpapi: embedded docs file missing: " + name) // a build without the files is broken
	}
	return b
}
