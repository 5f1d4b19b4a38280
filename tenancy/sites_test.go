package tenancy_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// TestServiceOfPath: a path names the Tapis service it belongs to (the
// names sites list in their services), as the original's site router
// reads it: the segment after /v3/, sites with tenants, oauth2 the
// authenticator; no service outside /v3/.
func TestServiceOfPath(t *testing.T) {
	for path, want := range map[string]string{
		"/v3/systems":                       "systems",
		"/v3/systems/{systemId}/credential": "systems",
		"/v3/tokens":                        "tokens",
		"/v3/tokens/keys":                   "tokens",
		"/v3/tenants/{tenant_id}":           "tenants",
		"/v3/sites":                         "tenants",
		"/v3/sites/x":                       "tenants",
		"/v3/oauth2/tokens":                 "authenticator",
		"/v3/oauth2/userinfo":               "authenticator",
		"/v3/files/ops":                     "files",
		"/v3/security/secret":               "security",
		"/v3":                               "",
		"/v3/":                              "",
		"/v3/a_b/c":                         "",
		"/.well-known/openid-configuration": "",
		"/docs":                             "",
	} {
		assert.Equal(t, want, tenancy.ServiceOfPath(path), path)
	}
	assert.True(t, tenancy.LocalOnly("tokens"))
	assert.True(t, tenancy.LocalOnly("security"))
	assert.False(t, tenancy.LocalOnly("systems"))
	assert.False(t, tenancy.LocalOnly(""))
}

// sitesRegistry is a registry with the primary p, the associate a (runs
// systems) and the associate b (runs nothing but its tokens), and a tenant
// of each.
func sitesRegistry(t *testing.T) *tenancy.Registry {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	a := tenancytest.Site("a", false)
	a.Services = []string{"systems", "tenants"} // tenants listed: still the primary's
	b := tenancytest.Site("b", false)
	b.Services = []string{}
	for _, s := range []tenancy.Site{tenancytest.Site("p", true), a, b} {
		require.NoError(t, st.CreateSite(ctx, s))
	}
	require.NoError(t, st.CreateOwner(ctx, tenancytest.Owner("o@x.test")))
	for _, tn := range []tenancy.Tenant{tenancytest.Tenant("tp", "p", "o@x.test"), tenancytest.Tenant("ta", "a", "o@x.test"), tenancytest.Tenant("tb", "b", "o@x.test")} {
		require.NoError(t, st.CreateTenant(ctx, tn))
	}
	svc, err := tenancy.NewService(tenancy.Config{Store: st})
	require.NoError(t, err)
	reg, err := svc.Registry(ctx)
	require.NoError(t, err)
	return reg
}

// TestSiteRunsAndOwners: the primary runs every service, an associate its
// own Tokens API and what its record lists, never the tenants service; a
// tenant's owning site is its site_id.
func TestSiteRunsAndOwners(t *testing.T) {
	reg := sitesRegistry(t)
	for _, svc := range []string{"systems", "tenants", "tokens", "files", "authenticator"} {
		assert.True(t, reg.SiteRuns("p", svc), svc)
	}
	assert.True(t, reg.SiteRuns("a", "systems"))
	assert.True(t, reg.SiteRuns("a", "tokens"), "every site signs its own tokens")
	assert.False(t, reg.SiteRuns("a", "tenants"), "the registry is the primary's, whatever the record lists")
	assert.False(t, reg.SiteRuns("a", "files"))
	assert.False(t, reg.SiteRuns("b", "systems"))
	assert.False(t, reg.SiteRuns("nosuch", "tokens"))

	owner, ok := reg.OwningSite("ta")
	require.True(t, ok)
	assert.Equal(t, "a", owner.ID)
	_, ok = reg.OwningSite("nosuch")
	assert.False(t, ok)
	assert.True(t, reg.IsPrimary("p"))
	assert.False(t, reg.IsPrimary("a"))
	assert.Equal(t, "p", reg.LocalSite(""))
	assert.Equal(t, "a", reg.LocalSite("a"))
}

// TestRoute: where a site serves a request. The primary serves everything;
// an associate its local-only services, its mirror's reads and the
// services it runs, and sends the rest to the primary.
func TestRoute(t *testing.T) {
	reg := sitesRegistry(t)
	type c struct {
		local, service string
		mirrored       bool
		want           tenancy.Destination
	}
	for _, tc := range []c{
		{"p", "files", false, tenancy.ServeHere},
		{"p", "tenants", false, tenancy.ServeHere},
		{"a", "systems", false, tenancy.ServeHere},
		{"a", "files", false, tenancy.ForwardToPrimary},
		{"a", "authenticator", false, tenancy.ForwardToPrimary},
		{"a", "tenants", true, tenancy.ServeHere},
		{"a", "tenants", false, tenancy.ForwardToPrimary},
		{"a", "tokens", false, tenancy.ServeHere},
		{"a", "security", false, tenancy.ServeHere},
		{"a", "", false, tenancy.ServeHere},
		{"b", "systems", false, tenancy.ForwardToPrimary},
		{"", "systems", false, tenancy.ServeHere},
	} {
		assert.Equal(t, tc.want, reg.Route(tc.local, tc.service, tc.mirrored), "%+v", tc)
	}
}
