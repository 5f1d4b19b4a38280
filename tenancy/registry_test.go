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

// registry builds: primary site p (admin tenant "admin", tenants admin, a1),
// associate site s (admin tenant "sadmin", tenants sadmin, s1).
func registry(t *testing.T) *tenancy.Registry {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	svc, err := tenancy.NewService(tenancy.Config{Store: st})
	require.NoError(t, err)
	primary := tenancytest.Site("p", true)
	primary.SiteAdminTenantID = "admin"
	assoc := tenancytest.Site("s", false)
	assoc.SiteAdminTenantID = "sadmin"
	_, err = svc.BootstrapSite(ctx, primary)
	require.NoError(t, err)
	_, err = svc.BootstrapSite(ctx, assoc)
	require.NoError(t, err)
	_, err = svc.BootstrapOwner(ctx, tenancytest.Owner("o@x.test"))
	require.NoError(t, err)
	for _, tn := range []tenancy.Tenant{
		tenancytest.Tenant("admin", "p", "o@x.test"), tenancytest.Tenant("a1", "p", "o@x.test"),
		tenancytest.Tenant("sadmin", "s", "o@x.test"), tenancytest.Tenant("s1", "s", "o@x.test"),
	} {
		tn.PublicKey = ""
		if tn.ID == "s1" {
			tn.TokenGenServices = []string{"authenticator"}
		}
		_, err := svc.BootstrapTenant(ctx, tn)
		require.NoError(t, err, tn.ID)
	}
	reg, err := svc.Registry(ctx)
	require.NoError(t, err)
	return reg
}

func TestAllowableTenants(t *testing.T) {
	reg := registry(t)
	assert.Equal(t, []string{"a1", "admin", "s1", "sadmin"}, reg.AllowableTenants("admin"), "the primary site's admin tenant acts for every tenant")
	assert.Equal(t, []string{"s1", "sadmin"}, reg.AllowableTenants("sadmin"), "a site's admin tenant acts for its own site's tenants")
	assert.Equal(t, []string{"a1"}, reg.AllowableTenants("a1"), "every tenant acts for itself")
	assert.False(t, reg.MayActFor("s1", "a1"))
	assert.False(t, reg.MayActFor("admin", "nosuch"), "never for an unknown tenant")
}

func TestRoles(t *testing.T) {
	reg := registry(t)
	svc := func(tenant, user string) tenancy.Principal {
		return tenancy.Principal{TenantID: tenant, Username: user, TokenTenantID: tenant, TokenUsername: user, AccountType: tenancy.AccountService}
	}
	user := func(tenant, name string) tenancy.Principal {
		return tenancy.Principal{TenantID: tenant, Username: name, TokenTenantID: tenant, TokenUsername: name, AccountType: tenancy.AccountUser}
	}
	assert.True(t, reg.MayCreateTenants(svc("admin", "tenants")))
	assert.False(t, reg.MayCreateTenants(svc("sadmin", "tenants")), "only the primary site's admin tenant")
	assert.False(t, reg.MayCreateTenants(svc("admin", "files")), "only tenant creators")
	assert.False(t, reg.MayCreateTenants(user("admin", "tenants")), "never a user token")

	assert.True(t, reg.MayManageTenant(svc("sadmin", "tokens"), "s1"), "an updater of the owning site")
	assert.False(t, reg.MayManageTenant(svc("sadmin", "tokens"), "a1"), "not another site's tenant")
	assert.True(t, reg.MayManageTenant(user("s1", "admin"), "s1"), "the tenant's admin_user")
	assert.False(t, reg.MayManageTenant(user("a1", "admin"), "s1"), "not another tenant's admin")
	assert.False(t, reg.MayManageTenant(user("s1", "someone"), "s1"))

	assert.True(t, reg.IsTenantAdmin("s1", "admin"))
	assert.False(t, reg.IsTenantAdmin("s1", ""))
	assert.True(t, reg.MayGenerateTokens("sadmin", "authenticator", "s1"))
	assert.True(t, reg.MayGenerateTokens("admin", "authenticator", "s1"), "the primary admin tenant may act for s1")
	assert.False(t, reg.MayGenerateTokens("a1", "authenticator", "s1"), "a generator must come from an admin tenant")
	assert.False(t, reg.MayGenerateTokens("sadmin", "files", "s1"), "only the services the tenant names")
}

func TestTenantForHost(t *testing.T) {
	reg := registry(t)
	tn, ok := reg.TenantForHost("S1.s.tapis.test")
	require.True(t, ok, "host match is case-insensitive")
	assert.Equal(t, "s1", tn.ID)
	tn, ok = reg.TenantForHost("s1.s.tapis.test:443")
	require.True(t, ok, "the default port is ignored")
	assert.Equal(t, "s1", tn.ID)
	_, ok = reg.TenantForHost("evil-s1.s.tapis.test")
	assert.False(t, ok, "no substring matching")
	_, ok = reg.TenantForHost("s1.s.tapis.test.evil.org")
	assert.False(t, ok)
}

func TestValidationErrorNamesEveryProblem(t *testing.T) {
	v := &tenancy.ValidationError{Prefix: "Invalid POST data"}
	assert.NoError(t, v.Err())
	v.Addf("a is required.")
	v.Addf("b must be %d.", 2)
	err := v.Err()
	require.Error(t, err)
	assert.ErrorIs(t, err, tenancy.ErrInvalid)
	assert.Equal(t, "Invalid POST data; a is required.; b must be 2.", err.Error())
	assert.ErrorIs(t, tenancy.Errorf(tenancy.ErrNotFound, "x %s", "y"), tenancy.ErrNotFound)
}
