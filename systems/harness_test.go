package systems_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// The service-level tests of the authorization rules run the real Service
// on the memory store (systems, permissions, shares and credentials) with a
// real tenancy registry:
//
//	site local (primary, admin tenant "admin"): tenants admin, dev (admin
//	  user "devadmin") and other (admin user "otheradmin")
//	site assoc (associate, admin tenant "assocadmin"): tenants assocadmin
//	  and far
type harness struct {
	svc *systems.Service
	st  *memory.Store
	ten *tenancy.Service
	pol systems.AccessPolicy
}

// newHarness builds the harness; opts edit the systems.Config (a verifier,
// an evaluator, Globus, a clock) before the Service is made.
func newHarness(t *testing.T, opts ...func(*systems.Config)) harness {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	ten, err := tenancy.NewService(tenancy.Config{Store: st})
	require.NoError(t, err)
	primary := tenancytest.Site("local", true)
	primary.SiteAdminTenantID = "admin"
	assoc := tenancytest.Site("assoc", false)
	assoc.SiteAdminTenantID = "assocadmin"
	_, err = ten.BootstrapSite(ctx, primary)
	require.NoError(t, err)
	_, err = ten.BootstrapSite(ctx, assoc)
	require.NoError(t, err)
	_, err = ten.BootstrapOwner(ctx, tenancytest.Owner("o@x.test"))
	require.NoError(t, err)
	for _, tn := range []struct{ id, site, admin string }{
		{"admin", "local", "siteadmin"}, {"dev", "local", "devadmin"}, {"other", "local", "otheradmin"},
		{"assocadmin", "assoc", "assocsiteadmin"}, {"far", "assoc", "faradmin"},
	} {
		rec := tenancytest.Tenant(tn.id, tn.site, "o@x.test")
		rec.PublicKey, rec.AdminUser = "", tn.admin
		_, err := ten.BootstrapTenant(ctx, rec)
		require.NoError(t, err, tn.id)
	}
	cfg := systems.Config{Store: st, Access: st, Vault: st, Tenancy: ten}
	for _, o := range opts {
		o(&cfg)
	}
	svc, err := systems.NewService(cfg)
	require.NoError(t, err)
	return harness{svc: svc, st: st, ten: ten, pol: systems.AccessPolicy{Tenancy: ten, Store: st}}
}

// user is a user token of tenant acting as itself.
func user(tenant, name string) tenancy.Principal {
	return tenancy.Principal{TenantID: tenant, Username: name, AccountType: tenancy.AccountUser,
		TokenTenantID: tenant, TokenUsername: name}
}

// service is a service token of the primary site's admin tenant calling as
// itself in tenant (the request's tenant).
func service(name, tenant string) tenancy.Principal {
	return tenancy.Principal{TenantID: tenant, Username: name, AccountType: tenancy.AccountService,
		TokenTenantID: "admin", TokenUsername: name}
}

// serviceOf is a service token of tokenTenant calling as itself there.
func serviceOf(name, tokenTenant string) tenancy.Principal {
	return tenancy.Principal{TenantID: tokenTenant, Username: name, AccountType: tenancy.AccountService,
		TokenTenantID: tokenTenant, TokenUsername: name}
}

// obo is a service token of the admin tenant acting for user@tenant
// (X-Tapis-Tenant / X-Tapis-User).
func obo(name, tenant, onBehalfOf string) tenancy.Principal {
	p := service(name, tenant)
	p.Username, p.OnBehalfOf = onBehalfOf, true
	return p
}

// put stores a system directly (the rules under test are not validation).
func (h harness) put(t *testing.T, s systems.System) systems.System {
	t.Helper()
	require.NoError(t, h.st.CreateSystem(context.Background(), s, systemstest.History(s.Tenant, s.ID, systems.OpCreate, `{}`)))
	return s
}

// linux is a live LINUX system of tenant owned by owner; exec makes it an
// execution system (canExec=true), so a 403 on execute can only come from
// the permissions.
func linux(tenant, id, owner string, exec bool) systems.System {
	s := systemstest.Bare(tenant, id)
	s.SystemType, s.Host, s.Owner, s.Enabled = systems.TypeLinux, "host.example.org", owner, true
	s.DefaultAuthnMethod, s.EffectiveUserID, s.RootDir = systems.AuthnPassword, systems.VarAPIUserID, "/home"
	if exec {
		s.CanExec, s.JobWorkingDir, s.JobRuntimes = true, "/scratch", []systems.JobRuntime{{RuntimeType: "DOCKER"}}
	}
	return s
}

func (h harness) grant(t *testing.T, tenant, id, who string, perms ...systems.Permission) {
	t.Helper()
	require.NoError(t, h.st.GrantPerms(context.Background(), tenant, id, who, perms))
}

func (h harness) share(t *testing.T, tenant, id, grantor string, grantees ...string) {
	t.Helper()
	require.NoError(t, h.st.AddShares(context.Background(), tenant, id, grantor, grantees))
}
