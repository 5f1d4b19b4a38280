// Package identity decides who a request acts as. From what a request
// carries (its Host, its token, the on-behalf-of headers X-Tapis-Tenant and
// X-Tapis-User, the service it is for) and the registry of sites and tenants,
// a Resolver gives the tenancy.Principal every domain package authorizes
// against, or an error saying which rule the request broke:
//
//   - The request's tenant is the tenant whose base URL host equals the Host
//     exactly, else the listener's default tenant (no substring matching).
//   - A user token belongs to the request's tenant and carries no
//     on-behalf-of headers.
//   - Between sites, the rules of the original's JWT filter (crossSite):
//     SK and Tokens serve their own site only, associates do not call
//     each other, the primary does not serve a tenant a service its own
//     site runs, an associate serves only the services it runs.
//   - A service token targets this site; its on-behalf-of headers come both
//     or not at all, and name a tenant allowable for the token's tenant
//     (every tenant for itself, a site's admin tenant for the tenants of its
//     site, the primary site's admin tenant for every tenant). Without them
//     the service acts as itself, in the request's tenant when it may act
//     for it, else in its own.
//
// The rules are those of reference/auth.md §3.7-§3.8 (Tapis' JWT filter and
// tapisservice), with the safer choices the README lists. httpapi only reads
// the headers, calls Resolve, and puts the principal in the context.
package identity

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Registries gives the current snapshot of sites and tenants
// (*tenancy.Service implements it).
type Registries interface {
	Registry(ctx context.Context) (*tenancy.Registry, error)
}

// Validator verifies a token's signature, expiry, type and revocation
// (*oauth2.TokenService implements it).
type Validator interface {
	Validate(ctx context.Context, raw, wantType string) (oauth2.Claims, error)
}

// Config configures a Resolver.
type Config struct {
	// Registry gives the sites and tenants. Required.
	Registry Registries
	// Tokens validates access tokens. Required.
	Tokens Validator
	// SiteID is the site this server runs as: service tokens must target
	// it. Empty means the primary site of the registry.
	SiteID string
	// DefaultTenant is the tenant of a request whose Host matches no
	// tenant's base URL.
	DefaultTenant string
}

// Resolver turns what a request carries into a tenancy.Principal. It is
// safe for concurrent use.
type Resolver struct {
	reg           Registries
	tokens        Validator
	siteID        string
	defaultTenant string
}

// New returns a Resolver; its error names every missing dependency.
func New(cfg Config) (*Resolver, error) {
	var missing []error
	if cfg.Registry == nil {
		missing = append(missing, errors.New("identity: Config.Registry is nil"))
	}
	if cfg.Tokens == nil {
		missing = append(missing, errors.New("identity: Config.Tokens is nil"))
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	return &Resolver{reg: cfg.Registry, tokens: cfg.Tokens, siteID: cfg.SiteID, defaultTenant: cfg.DefaultTenant}, nil
}

// Request is what a request says about who it is.
type Request struct {
	// Host is the request's Host header: it names the request's tenant.
	Host string
	// Token is the raw access token (X-Tapis-Token); empty for an
	// anonymous request.
	Token string
	// OBOTenant and OBOUser are the on-behalf-of headers X-Tapis-Tenant
	// and X-Tapis-User, allowed with a service token only.
	OBOTenant, OBOUser string
	// Service is the Tapis service the request is for ("systems",
	// "tokens", "tenants", "authenticator"; tenancy.ServiceOfPath); empty
	// when the caller does not say. The cross-site rules read it (SK and
	// Tokens local only, the primary refusing a service the tenant's own
	// site runs, an associate serving only the services it runs).
	Service string
}

// Header names used in messages: the wire names, because the messages are
// shown to the client that sent them.
const (
	headerTenant = "X-Tapis-Tenant"
	headerUser   = "X-Tapis-User"
)

// Resolve returns the principal req acts as. A request without a token is
// anonymous in the request's tenant. Errors match oauth2.ErrInvalidToken (a
// token or header the rules refuse: 401), tenancy.ErrForbidden (an
// on-behalf-of tenant the token may not act for: 403) or tenancy.ErrInvalid
// (a header that is not text: 400). A header that is not text (a NUL, a
// control character, invalid UTF-8) is refused before anything is looked up.
func (r *Resolver) Resolve(ctx context.Context, req Request) (tenancy.Principal, error) {
	if err := checkText(req); err != nil {
		return tenancy.Principal{}, err
	}
	if badText(req.Token) != "" {
		return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Unable to process Tapis token; it is not a well-formed JWT.")
	}
	reg, err := r.reg.Registry(ctx)
	if err != nil {
		return tenancy.Principal{}, fmt.Errorf("identity: registry: %w", err)
	}
	reqTenant := r.requestTenant(reg, req.Host)
	if req.Token == "" {
		return tenancy.Principal{TenantID: reqTenant}, nil
	}
	c, err := r.tokens.Validate(ctx, req.Token, "access")
	if err != nil {
		return tenancy.Principal{}, err
	}
	if _, known := reg.Tenant(c.TenantID); !known {
		// Validation read a newer registry (a tenant created since, on an
		// associate site's mirror): judge the token by that one.
		if reg, err = r.reg.Registry(ctx); err != nil {
			return tenancy.Principal{}, fmt.Errorf("identity: registry: %w", err)
		}
	}
	p := tenancy.Principal{TenantID: c.TenantID, Username: c.Username, AccountType: c.AccountType,
		TokenTenantID: c.TenantID, TokenUsername: c.Username, TargetSite: c.TargetSite,
		JTI: c.JTI, Expires: c.Expires, Delegation: c.Delegation, DelegationSub: c.DelegationSub, ParentJTI: c.ParentJTI}
	switch c.AccountType {
	case tenancy.AccountUser:
		if err := userRules(c, req, reqTenant); err != nil {
			return tenancy.Principal{}, err
		}
		if err := r.crossSite(reg, c.TenantID, req.Service); err != nil {
			return tenancy.Principal{}, err
		}
		return p, nil
	case tenancy.AccountService:
		return r.serviceRules(reg, c, req, reqTenant, p)
	default:
		return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid Tapis token: tapis/account_type must be user or service.")
	}
}

// userRules: a user token carries no on-behalf-of headers and belongs to
// the request's tenant.
func userRules(c oauth2.Claims, req Request, reqTenant string) error {
	if req.OBOTenant != "" || req.OBOUser != "" {
		return tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid request; cannot set OBO headers with a user token.")
	}
	if c.TenantID != reqTenant {
		return tenancy.Errorf(oauth2.ErrInvalidToken, "The tenant_id claim in the token, %s does not match the URL tenant, %s.", c.TenantID, reqTenant)
	}
	return nil
}

// serviceRules: a service token targets this site; its on-behalf-of
// headers come both or not at all and name an allowable tenant.
func (r *Resolver) serviceRules(reg *tenancy.Registry, c oauth2.Claims, req Request, reqTenant string, p tenancy.Principal) (tenancy.Principal, error) {
	if err := r.siteRules(reg, c, req.Service); err != nil {
		return tenancy.Principal{}, err
	}
	switch {
	case req.OBOTenant != "" && req.OBOUser == "":
		return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service request; %s header missing.", headerUser)
	case req.OBOTenant == "" && req.OBOUser != "":
		return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service request; %s header missing.", headerTenant)
	case req.OBOTenant != "":
		if !reg.MayActFor(c.TenantID, req.OBOTenant) {
			return tenancy.Principal{}, tenancy.Errorf(tenancy.ErrForbidden, "Tokens of tenant %s may not act for tenant %s.", c.TenantID, req.OBOTenant)
		}
		// The tenant acted for is judged by the same site rules as the
		// token's own: a site does not serve another site's tenant a
		// service that site runs itself.
		if err := r.crossSite(reg, req.OBOTenant, req.Service); err != nil {
			return tenancy.Principal{}, err
		}
		p.TenantID, p.Username, p.OnBehalfOf = req.OBOTenant, req.OBOUser, true
	case reg.MayActFor(c.TenantID, reqTenant):
		p.TenantID = reqTenant
	}
	return p, nil
}

// siteRules are the rules about sites for a service token: it targets
// this site, and its tenant's site may call this site for the service
// (crossSite).
func (r *Resolver) siteRules(reg *tenancy.Registry, c oauth2.Claims, service string) error {
	site := r.Site(reg)
	if site == "" {
		return tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service token; this server's site is not known (no primary site and no site id configured).")
	}
	if c.TargetSite != site {
		return tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service token; target_site claim does not match this service's site_id.")
	}
	return r.crossSite(reg, c.TenantID, service)
}

// crossSite applies the cross-site rules of reference/auth.md §3.8 (Tapis'
// JWT filter) to a request acting for tenantID, whose own site (site_id) is
// its source site, for service (from the request path; "" when the path
// names none):
//
//   - the Security Kernel and the Tokens API serve their own site only;
//   - associate sites do not call each other: between two sites, one is
//     the primary;
//   - the primary does not serve a tenant of an associate a service that
//     associate runs itself (its requests are routed there);
//   - an associate serves only the services it runs (the others are
//     forwarded to the primary before they get here), the registry reads
//     of its mirror, and its Tokens API.
//
// The original applies them to service tokens; here they hold for user
// tokens and the tenant a service acts for too, since a site serving
// another site's tenant a service would split that tenant's data.
func (r *Resolver) crossSite(reg *tenancy.Registry, tenantID, service string) error {
	local := r.Site(reg)
	owner, ok := reg.OwningSite(tenantID)
	if !ok {
		return tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid Tapis token: tenant %s belongs to no known site.", tenantID)
	}
	if owner.ID != local {
		switch {
		case tenancy.LocalOnly(service):
			return tenancy.Errorf(tenancy.ErrForbidden, "The %s service of site %s serves its own site only; tenant %s belongs to site %s.", service, local, tenantID, owner.ID)
		case !reg.IsPrimary(local) && !owner.Primary:
			return tenancy.Errorf(tenancy.ErrForbidden, "Associate sites do not call each other: tenant %s belongs to site %s, and this is site %s.", tenantID, owner.ID, local)
		case reg.IsPrimary(local) && service != "" && reg.SiteRuns(owner.ID, service):
			return tenancy.Errorf(tenancy.ErrForbidden, "Site %s runs the %s service for tenant %s; the primary site does not serve it. Send the request to %s.", owner.ID, service, tenantID, owner.BaseURL)
		}
	}
	if !reg.IsPrimary(local) && service != "" && service != tenancy.ServiceTenants && !reg.SiteRuns(local, service) {
		return tenancy.Errorf(tenancy.ErrForbidden, "Site %s does not run the %s service; it is served by the primary site.", local, service)
	}
	return nil
}

// Site is the id of the site this server runs as: the configured one, else
// the registry's primary site ("" when there is neither).
func (r *Resolver) Site(reg *tenancy.Registry) string {
	if r.siteID != "" {
		return r.siteID
	}
	if primary, ok := reg.Primary(); ok {
		return primary.ID
	}
	return ""
}

// RequestTenant is the tenant a request for host is for, before any token:
// the tenant whose base URL host equals host exactly, else the default
// tenant. Anonymous operations (login pages, metadata) use it.
func (r *Resolver) RequestTenant(ctx context.Context, host string) (string, error) {
	if why := badText(host); why != "" {
		return "", tenancy.Message(tenancy.ErrInvalid, "Invalid request; Host header "+why+".")
	}
	reg, err := r.reg.Registry(ctx)
	if err != nil {
		return "", fmt.Errorf("identity: registry: %w", err)
	}
	return r.requestTenant(reg, host), nil
}

func (r *Resolver) requestTenant(reg *tenancy.Registry, host string) string {
	if t, ok := reg.TenantForHost(host); ok {
		return t.ID
	}
	return r.defaultTenant
}

// checkText refuses headers that are not short, printable text (a NUL, a
// control character, invalid UTF-8) before anything is looked up, naming
// every broken header.
func checkText(req Request) error {
	v := &tenancy.ValidationError{Prefix: "Invalid request"}
	for _, h := range []struct{ name, value string }{
		{"Host header", req.Host}, {headerTenant + " header", req.OBOTenant}, {headerUser + " header", req.OBOUser},
	} {
		if why := badText(h.value); why != "" {
			v.Addf("%s %s.", h.name, why)
		}
	}
	return v.Err()
}

// badText says what is wrong with a header value, or "" when it is
// acceptable: valid UTF-8 without NUL or other control characters.
func badText(s string) string {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return "is not valid UTF-8"
		case r == 0:
			return "contains a NUL character"
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			return "contains control characters"
		}
		i += size
	}
	return ""
}
