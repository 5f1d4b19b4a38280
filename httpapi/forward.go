package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// HeaderForwardedBy marks a request an associate site forwarded to the
// primary, with the associate's id: a site never forwards such a request
// again (a primary URL pointing back at an associate would loop).
const HeaderForwardedBy = "X-Tapis-Forwarded-By-Site"

// Registries gives the current snapshot of sites and tenants
// (*tenancy.Service implements it).
type Registries interface {
	Registry(ctx context.Context) (*tenancy.Registry, error)
}

// ForwardConfig configures a Forwarder.
type ForwardConfig struct {
	// Primary is the base URL of the primary site.
	Primary string
	// Site is the id of this (associate) site.
	Site string
	// Registry gives the sites and tenants: which services Site runs.
	Registry Registries
	// Validate, when set, checks a request's X-Tapis-Token before it is
	// forwarded; a token it refuses with oauth2.ErrInvalidToken is answered
	// here (401). The associate's own refusals (its revocations above all)
	// then hold for what it forwards, beside the primary's.
	Validate func(ctx context.Context, raw string) error
	// Transport carries the forwarded requests; default NewTransport
	// (bounded dial, TLS handshake and wait for the response headers; the
	// body streams as long as it flows).
	Transport http.RoundTripper
	Logger    *slog.Logger
}

// Forwarder sends the requests an associate site does not serve itself to
// the primary site: every registry write (and the tenant history, which
// its mirror does not hold) and every service its site record does not
// list (tenancy.Registry.Route). It is a reverse proxy: bodies stream both
// ways, status and headers are kept except the hop-by-hop ones, the Host
// is kept (it names the request's tenant at the primary), X-Forwarded-For,
// -Host and -Proto are set, and nothing of the request (its token above
// all) is logged.
type Forwarder struct {
	primary  *url.URL
	site     string
	reg      Registries
	validate func(ctx context.Context, raw string) error
	proxy    *httputil.ReverseProxy
	log      *slog.Logger
}

// NewForwarder returns a Forwarder; its error names every problem of cfg.
func NewForwarder(cfg ForwardConfig) (*Forwarder, error) {
	var problems []error
	u, err := url.Parse(strings.TrimRight(cfg.Primary, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil {
		problems = append(problems, fmt.Errorf("httpapi: ForwardConfig.Primary %q must be an absolute http or https URL without credentials", cfg.Primary))
	}
	if cfg.Site == "" {
		problems = append(problems, errors.New("httpapi: ForwardConfig.Site is empty"))
	}
	if cfg.Registry == nil {
		problems = append(problems, errors.New("httpapi: ForwardConfig.Registry is nil"))
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	if cfg.Transport == nil {
		cfg.Transport = NewTransport()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	f := &Forwarder{primary: u, site: cfg.Site, reg: cfg.Registry, validate: cfg.Validate, log: cfg.Logger}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host // the request's tenant is its Host, at the primary too
			pr.SetXForwarded()
			pr.Out.Header.Set(HeaderForwardedBy, cfg.Site)
		},
		Transport:    cfg.Transport,
		ErrorHandler: f.failed,
		ErrorLog:     slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn),
	}
	return f, nil
}

// Wrap returns a handler serving with next what this site serves, and
// forwarding the rest to the primary.
func (f *Forwarder) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reg, err := f.reg.Registry(r.Context())
		if err != nil {
			// Without a registry nothing can be routed: the local handler
			// answers (and reports the same failure).
			next.ServeHTTP(w, r)
			return
		}
		service := tenancy.ServiceOfPath(r.URL.Path)
		if reg.Route(f.site, service, mirroredRead(r.Method, r.URL.Path)) == tenancy.ServeHere {
			next.ServeHTTP(w, r)
			return
		}
		if by := r.Header.Get(HeaderForwardedBy); by != "" {
			writeEnvelopeError(w, NewError(http.StatusLoopDetected, fmt.Sprintf(
				"This request was forwarded here by site %s, and site %s would forward it again: the primary site's URL (%s) must not point at an associate site.",
				tenancy.TruncateTo(by, 50), f.site, f.primary)))
			return
		}
		if raw := r.Header.Get(HeaderToken); raw != "" && f.validate != nil {
			if err := f.validate(r.Context(), raw); errors.Is(err, oauth2.ErrInvalidToken) {
				writeEnvelopeError(w, NewError(http.StatusUnauthorized, err.Error()))
				return
			}
		}
		f.proxy.ServeHTTP(w, r)
	})
}

// mirroredRead reports whether a request of the tenants service is a read
// an associate's mirror answers: the sites, tenants, owners and LDAP
// objects and the keys, not the tenant history (the primary keeps it).
func mirroredRead(method, path string) bool {
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	return !strings.HasSuffix(strings.TrimRight(path, "/"), "/history")
}

// failed answers a request the primary did not answer: 502 in the
// envelope. The log names the request by method and path only.
func (f *Forwarder) failed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away
	}
	f.log.WarnContext(r.Context(), "forwarding to the primary site failed", "method", r.Method, "path", r.URL.Path,
		"primary", f.primary.String(), "err", err)
	writeEnvelopeError(w, NewError(http.StatusBadGateway, fmt.Sprintf(
		"Site %s does not serve this request and the primary site (%s) did not answer it; try again later.", f.site, f.primary)))
}
