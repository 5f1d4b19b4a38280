package tenancy

import (
	"net"
	"net/url"
	"slices"
	"strings"
)

// Roles names the services that may change the registry. Tapis grants these as
// Security Kernel roles; here they are configuration.
type Roles struct {
	// TenantCreators are services of the primary site's admin tenant that may
	// create and delete sites, tenants, owners and LDAP objects. Default: tenants.
	TenantCreators []string
	// TenantUpdaters are services of a site-admin tenant that may update the
	// tenants of that site and rotate their signing keys. Default: tenants, tokens.
	TenantUpdaters []string
}

func (r Roles) withDefaults() Roles {
	if r.TenantCreators == nil {
		r.TenantCreators = []string{"tenants"}
	}
	if r.TenantUpdaters == nil {
		r.TenantUpdaters = []string{"tenants", "tokens"}
	}
	return r
}

// Registry is an immutable snapshot of all sites and tenants, used on the
// request path (tenant resolution, token checks, roles) without a store call.
type Registry struct {
	sites   map[string]Site
	tenants map[string]Tenant
	byHost  map[string]string // normalized host -> tenant id
	primary *Site
	roles   Roles
}

func newRegistry(sites []Site, tenants []Tenant, roles Roles) *Registry {
	r := &Registry{
		sites:   make(map[string]Site, len(sites)),
		tenants: make(map[string]Tenant, len(tenants)),
		byHost:  make(map[string]string, len(tenants)),
		roles:   roles,
	}
	for _, s := range sites {
		r.sites[s.ID] = s
		if s.Primary {
			p := s
			r.primary = &p
		}
	}
	for _, t := range tenants {
		r.tenants[t.ID] = t
		if h := hostOf(t.BaseURL); h != "" {
			r.byHost[h] = t.ID
		}
	}
	return r
}

// hostOf returns the lower-case host[:port] of a URL, without a default port.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return NormalizeHost(u.Host)
}

// NormalizeHost lower-cases a Host header value and drops :80 and :443.
func NormalizeHost(host string) string {
	host = strings.ToLower(strings.TrimSpace(host))
	if h, p, err := net.SplitHostPort(host); err == nil && (p == "80" || p == "443") {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return host
}

// Tenant returns the tenant with the given id.
func (r *Registry) Tenant(id string) (Tenant, bool) {
	t, ok := r.tenants[id]
	return t, ok
}

// Tenants returns every tenant in the snapshot.
func (r *Registry) Tenants() []Tenant {
	out := make([]Tenant, 0, len(r.tenants))
	for _, t := range r.tenants {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b Tenant) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// TenantForHost returns the tenant whose base URL host equals host exactly.
func (r *Registry) TenantForHost(host string) (Tenant, bool) {
	id, ok := r.byHost[NormalizeHost(host)]
	if !ok {
		return Tenant{}, false
	}
	return r.Tenant(id)
}

// Site returns the site with the given id.
func (r *Registry) Site(id string) (Site, bool) {
	s, ok := r.sites[id]
	return s, ok
}

// Sites returns every site in the snapshot, ordered by id.
func (r *Registry) Sites() []Site {
	out := make([]Site, 0, len(r.sites))
	for _, s := range r.sites {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b Site) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// Primary returns the primary site, if one exists.
func (r *Registry) Primary() (Site, bool) {
	if r.primary == nil {
		return Site{}, false
	}
	return *r.primary, true
}

// SiteAdminTenant returns the admin tenant id of the site owning tenantID.
func (r *Registry) SiteAdminTenant(tenantID string) string {
	t, ok := r.tenants[tenantID]
	if !ok {
		return ""
	}
	return r.sites[t.SiteID].SiteAdminTenantID
}

// IsSiteAdminTenant reports whether tenantID is the admin tenant of some site.
func (r *Registry) IsSiteAdminTenant(tenantID string) bool {
	for _, s := range r.sites {
		if s.SiteAdminTenantID == tenantID {
			return true
		}
	}
	return false
}

// MayActFor reports whether tokens of tokenTenant may act for target: every
// tenant for itself, a site's admin tenant for the tenants of that site, and
// the primary site's admin tenant for every tenant.
func (r *Registry) MayActFor(tokenTenant, target string) bool {
	if _, ok := r.tenants[target]; !ok {
		return false
	}
	if tokenTenant == target {
		return true
	}
	if r.primary != nil && r.primary.SiteAdminTenantID == tokenTenant {
		return true
	}
	return r.SiteAdminTenant(target) == tokenTenant
}

// AllowableTenants lists the tenants tokenTenant may act for.
func (r *Registry) AllowableTenants(tokenTenant string) []string {
	var out []string
	for id := range r.tenants {
		if r.MayActFor(tokenTenant, id) {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

// IsTenantAdmin reports whether username is an admin of tenantID.
func (r *Registry) IsTenantAdmin(tenantID, username string) bool {
	t, ok := r.tenants[tenantID]
	return ok && username != "" && t.AdminUser == username
}

// MayCreateTenants reports whether p may change the registry of sites,
// tenants, owners and LDAP objects.
func (r *Registry) MayCreateTenants(p Principal) bool {
	return p.Authenticated() && p.IsService() && r.primary != nil &&
		p.TokenTenantID == r.primary.SiteAdminTenantID &&
		slices.Contains(r.roles.TenantCreators, p.TokenUsername)
}

// MayManageTenant reports whether p may update tenantID and rotate its keys:
// tenant creators, updater services of the tenant's site-admin tenant (or the
// primary's), and the tenant's own admin user.
func (r *Registry) MayManageTenant(p Principal, tenantID string) bool {
	if r.MayCreateTenants(p) {
		return true
	}
	if !p.Authenticated() {
		return false
	}
	if p.IsService() {
		return slices.Contains(r.roles.TenantUpdaters, p.TokenUsername) &&
			r.IsSiteAdminTenant(p.TokenTenantID) && r.MayActFor(p.TokenTenantID, tenantID)
	}
	return p.TokenTenantID == tenantID && r.IsTenantAdmin(tenantID, p.TokenUsername)
}

// MayGenerateTokens reports whether the service serviceUser@serviceTenant may
// mint user tokens for tenantID: it must be named in the tenant's
// token_gen_services and belong to an admin tenant that may act for it.
func (r *Registry) MayGenerateTokens(serviceTenant, serviceUser, tenantID string) bool {
	t, ok := r.tenants[tenantID]
	if !ok || !slices.Contains(t.TokenGenServices, serviceUser) {
		return false
	}
	return r.IsSiteAdminTenant(serviceTenant) && r.MayActFor(serviceTenant, tenantID)
}
