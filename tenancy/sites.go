package tenancy

import (
	"slices"
	"strings"
)

// Names of the Tapis services the site rules treat specially (reference
// auth.md §1.3). A site record lists the services it runs by these names.
const (
	ServiceTenants       = "tenants"
	ServiceTokens        = "tokens"
	ServiceAuthenticator = "authenticator"
	ServiceSystems       = "systems"
	ServiceSecurity      = "security"
)

// LocalOnly reports whether service is served to each site by itself only:
// the Security Kernel and the Tokens API sign and keep a site's secrets, so
// a request for them never crosses sites.
func LocalOnly(service string) bool {
	return service == ServiceTokens || service == ServiceSecurity || service == "sk"
}

// ServiceOfPath names the Tapis service a request path belongs to, as the
// original site router does: the segment after /v3/, with /v3/sites served
// by the tenants service and /v3/oauth2 by the authenticator. Paths outside
// /v3/ (documents, OpenID discovery, health) belong to no service: "".
func ServiceOfPath(path string) string {
	rest, ok := strings.CutPrefix(path, "/v3/")
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rest, "/")
	switch first {
	case "sites":
		return ServiceTenants
	case "oauth2":
		return ServiceAuthenticator
	}
	if !servicePattern.MatchString(first) {
		return ""
	}
	return first
}

// LocalSite is the id of the site an instance runs as: configured, else
// the primary site ("" when there is neither).
func (r *Registry) LocalSite(configured string) string {
	if configured != "" {
		return configured
	}
	if r.primary != nil {
		return r.primary.ID
	}
	return ""
}

// IsPrimary reports whether siteID is the primary site.
func (r *Registry) IsPrimary(siteID string) bool {
	return r.primary != nil && r.primary.ID == siteID
}

// OwningSite returns the site a tenant belongs to (its site_id): the only
// site that signs its tokens.
func (r *Registry) OwningSite(tenantID string) (Site, bool) {
	t, ok := r.tenants[tenantID]
	if !ok {
		return Site{}, false
	}
	s, ok := r.sites[t.SiteID]
	return s, ok
}

// SiteRuns reports whether a site runs a service: the primary runs every
// service; an associate runs its own Tokens API (every site signs its own
// tenants' tokens) and the services its record lists, but never the
// tenants service (the registry is the primary's alone).
func (r *Registry) SiteRuns(siteID, service string) bool {
	s, ok := r.sites[siteID]
	switch {
	case !ok:
		return false
	case s.Primary:
		return true
	case service == ServiceTenants:
		return false
	case service == ServiceTokens:
		return true
	}
	return slices.Contains(s.Services, service)
}

// Destination is where a site serves a request.
type Destination int

// Destinations of Route.
const (
	// ServeHere: the local site answers.
	ServeHere Destination = iota
	// ForwardToPrimary: the local site does not run the service; the
	// primary site answers.
	ForwardToPrimary
)

// Route says where site local serves a request for service. mirrored means
// the request is a read the local copy of the registry answers (sites,
// tenants, owners, LDAP objects, keys). The primary serves everything
// itself; an associate serves the local-only services (Tokens, SK), the
// registry reads from its mirror, and the services its record lists, and
// sends the rest to the primary: every registry write and every service it
// does not run ("for Tapis services not run at the associate site, the
// corresponding service at the primary site is used"). A path of no
// service (documents, discovery, health) is served here.
func (r *Registry) Route(local, service string, mirrored bool) Destination {
	switch {
	case local == "" || r.IsPrimary(local) || service == "" || LocalOnly(service):
		return ServeHere
	case service == ServiceTenants:
		if mirrored {
			return ServeHere
		}
		return ForwardToPrimary
	case r.SiteRuns(local, service):
		return ServeHere
	}
	return ForwardToPrimary
}
