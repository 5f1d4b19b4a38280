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
	// "tokens", "tenants", "authenticator"); empty when the caller does not
	// say. The cross-site rules (SK and Tokens local only, no associate to
	// associate, the primary refusing a service the tenant's own site runs)
	// will read it; no rule reads it yet.
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
	p := tenancy.Principal{TenantID: c.TenantID, Username: c.Username, AccountType: c.AccountType,
		TokenTenantID: c.TenantID, TokenUsername: c.Username, TargetSite: c.TargetSite,
		JTI: c.JTI, Expires: c.Expires, Delegation: c.Delegation, DelegationSub: c.DelegationSub, ParentJTI: c.ParentJTI}
	switch c.AccountType {
	case tenancy.AccountUser:
		return p, userRules(c, req, reqTenant)
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
	if err := r.siteRules(reg, c); err != nil {
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
		p.TenantID, p.Username, p.OnBehalfOf = req.OBOTenant, req.OBOUser, true
	case reg.MayActFor(c.TenantID, reqTenant):
		p.TenantID = reqTenant
	}
	return p, nil
}

// siteRules are the rules about sites: today, a service token must target
// this site. The cross-site rules of reference/auth.md §3.8 belong here.
func (r *Resolver) siteRules(reg *tenancy.Registry, c oauth2.Claims) error {
	site := r.Site(reg)
	if site == "" {
		return tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service token; this server's site is not known (no primary site and no site id configured).")
	}
	if c.TargetSite != site {
		return tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service token; target_site claim does not match this service's site_id.")
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
