package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"

	"github.com/tapis-go/tapis/identity"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// Services are the domain services the HTTP layer exposes.
type Services struct {
	Tenancy *tenancy.Service
	Tokens  *oauth2.TokenService
	// OAuth2 is the authenticator (/v3/oauth2/...); nil leaves it out.
	OAuth2 *oauth2.Provider
	// Systems is the Systems service (/v3/systems/...); nil leaves it out.
	Systems *systems.Service
	// Sessions seals the browser session cookie of the authenticator's
	// pages; required with OAuth2.
	Sessions Sealer
}

// Sealer seals and opens small values with additional authenticated data
// (seal.Sealer implements it).
type Sealer interface {
	Seal(plain, aad []byte) ([]byte, error)
	Open(sealed, aad []byte) ([]byte, error)
}

// Options configure the HTTP layer.
type Options struct {
	// SiteID is the site this server runs as (service tokens must target
	// it); empty means the primary site.
	SiteID string
	// DefaultTenant is the tenant of requests whose Host matches no tenant.
	DefaultTenant string
	// MaxListLimit caps a page of a system listing or search (a limit of
	// zero or less asks for the cap); default 1000.
	MaxListLimit int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client for the password rate limits; none by default (the peer
	// address counts).
	TrustedProxies []netip.Prefix
	// Observer, when set, learns of every request (metrics); see
	// RequestObserver.
	Observer RequestObserver
	// Health answers NewHandler's GET /livez and /readyz; nil: a Health
	// without checks (always ready).
	Health *Health
	// Forward, on an associate site, sends the requests this site does not
	// serve to the primary (NewHandler puts it in front of the router; an
	// embedder wraps its own router with Forward.Wrap).
	Forward *Forwarder
	// Ready is a further condition of GET /v3/tokens/ready beside the
	// store answering: an associate's registry mirror being fresh. nil:
	// none.
	Ready  func(context.Context) error
	Logger *slog.Logger
}

type handlers struct {
	svc  Services
	opt  Options
	log  *slog.Logger
	auth *authenticator
}

// Register adds every Tapis operation to api. Operations carry their own
// middleware (request id, token validation) and their own error shape (see
// errors.go: huma's validation errors of these operations, and only these,
// use the Tapis envelope), so the caller's other routes are untouched. It
// returns an error naming any missing service.
func Register(api huma.API, svc Services, opt Options) error {
	var missing []error
	if svc.Tenancy == nil {
		missing = append(missing, errors.New("httpapi: Services.Tenancy is nil"))
	}
	if svc.Tokens == nil {
		missing = append(missing, errors.New("httpapi: Services.Tokens is nil"))
	}
	if svc.OAuth2 != nil && svc.Sessions == nil {
		missing = append(missing, errors.New("httpapi: Services.Sessions is nil (needed by the OAuth2 pages)"))
	}
	if err := errors.Join(missing...); err != nil {
		return err
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	scopeErrors()
	h := &handlers{svc: svc, opt: opt, log: opt.Logger}
	resolver, err := identity.New(identity.Config{Registry: svc.Tenancy, Tokens: svc.Tokens, SiteID: opt.SiteID, DefaultTenant: opt.DefaultTenant})
	if err != nil {
		return err
	}
	h.auth = &authenticator{resolver: resolver}
	oapi := api.OpenAPI()
	if oapi.Components.SecuritySchemes == nil {
		oapi.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	oapi.Components.SecuritySchemes[securityScheme] = &huma.SecurityScheme{
		Type: "apiKey", In: "header", Name: HeaderToken,
		Description: "A Tapis access token (JWT) issued by POST /v3/tokens or /v3/oauth2/tokens.",
	}
	oapi.Components.SecuritySchemes["basicAuth"] = &huma.SecurityScheme{Type: "http", Scheme: "basic",
		Description: "A service account's password (POST /v3/tokens only)."}
	h.registerSites(api)
	h.registerTenants(api)
	h.registerOwners(api)
	h.registerLDAPs(api)
	h.registerTokens(api)
	if svc.OAuth2 != nil {
		h.registerAuthenticator(specAPI{API: api, spec: "authenticator"})
		h.registerStandardOAuth(api)
		h.registerPages(api)
	}
	if svc.Systems != nil {
		h.registerSystems(api)
	}
	return nil
}

// Config returns the huma configuration for Tapis: no $schema field or Link
// header, component schemas named by SchemaName. huma's own documents and
// docs page (loaded from a CDN) are off: NewAPI serves ours (RegisterDocs).
func Config(title, version string) huma.Config {
	cfg := huma.DefaultConfig(title, version)
	cfg.CreateHooks = nil
	cfg.OpenAPIPath = ""
	cfg.DocsPath = ""
	cfg.Components.Schemas = huma.NewMapRegistry("#/components/schemas/", SchemaName)
	cfg.Info.Description = "Tapis v3 core: sites and tenants, tokens, OAuth2 authenticator and Systems."
	return cfg
}

// NewAPI returns a huma API on a chi router. The Tapis paths need a router
// that prefers static segments (/v3/tenants/owners/{email} next to
// /v3/tenants/{tenant_id}/history); net/http's ServeMux refuses that pair.
func NewAPI(r chi.Router, title, version string) huma.API {
	api := humachi.New(r, Config(title, version))
	RegisterDocs(api)
	return api
}

// NewHandler builds a stand-alone handler serving every operation, the
// OpenAPI documents and /docs (RegisterDocs), and the probes GET /livez
// and /readyz (opt.Health).
func NewHandler(svc Services, opt Options) (http.Handler, huma.API, error) {
	mux := newRouter(opt.Observer)
	api := humachi.New(mux, Config("Tapis v3 core", Version))
	registerDocs(api, opt.Observer)
	if err := Register(api, svc, opt); err != nil {
		return nil, nil, err
	}
	hl := opt.Health
	if hl == nil {
		hl = NewHealth(nil, opt.Logger)
	}
	registerHealth(api, hl, opt.Observer)
	dropHumaErrorSchemas(api.OpenAPI())
	if opt.Forward != nil {
		return opt.Forward.Wrap(mux), api, nil
	}
	return mux, api, nil
}

// register adds one operation with its auth mode; errors from fn go through
// the one translation table.
func register[I, O any](api huma.API, h *handlers, op huma.Operation, mode authMode, fn func(context.Context, *I) (*O, error)) {
	op = tapisErrors(api, withAuth(op, mode))
	mw := huma.Middlewares{requestIDMiddleware, noStore, h.auth.middleware(h)}
	if h.opt.Observer != nil {
		mw = append(huma.Middlewares{h.observeOperation}, mw...)
	}
	op.Middlewares = append(mw, op.Middlewares...)
	huma.Register(api, op, func(ctx context.Context, in *I) (*O, error) {
		if err := checkInput(in); err != nil {
			return nil, failure(ctx, h.log, err)
		}
		out, err := fn(ctx, in)
		if err != nil {
			return nil, failure(ctx, h.log, err)
		}
		return out, nil
	})
}

// noStore keeps every Tapis response out of caches (RFC 6749 §5.1, RFC
// 9111): tokens, secrets and user data travel in them, and the answers
// depend on the caller. The public documents (JWKS, discovery) are served
// elsewhere with their own caching.
func noStore(ctx huma.Context, next func(huma.Context)) {
	ctx.SetHeader("Cache-Control", "no-store")
	ctx.SetHeader("Pragma", "no-cache")
	next(ctx)
}

// specAPI documents operations with the exact operation ids of the Tapis
// specs, except where two specs share one: the Tokens and Authenticator
// specs both name hello, ready, create_token and revoke_token. The
// operation documented first (Tokens) keeps the id; a later one gets its
// spec's name as a prefix (authenticator_hello, ...), so the served
// document's ids stay unique. Clients generated from the official specs
// do not read this document and are unaffected.
type specAPI struct {
	huma.API
	spec string // the spec's name, the prefix of a shared id
}

// DocumentOperation implements huma.OperationDocumenter.
func (s specAPI) DocumentOperation(op *huma.Operation) {
	if op.Hidden {
		return
	}
	oapi := s.OpenAPI()
	if s.spec != "" && hasOperationID(oapi, op.OperationID) {
		op.OperationID = s.spec + "_" + op.OperationID
	}
	if d, ok := s.API.(huma.OperationDocumenter); ok {
		d.DocumentOperation(op)
		return
	}
	oapi.AddOperation(op)
}

func hasOperationID(oapi *huma.OpenAPI, id string) bool {
	for _, item := range oapi.Paths {
		for _, op := range []*huma.Operation{item.Get, item.Post, item.Put, item.Patch, item.Delete} {
			if op != nil && op.OperationID == id {
				return true
			}
		}
	}
	return false
}
