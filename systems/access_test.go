package systems_test

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// allActions is every action an Authorizer is asked about.
var allActions = []systems.Action{
	systems.ActionRead, systems.ActionExecute, systems.ActionModify, systems.ActionCreate, systems.ActionDelete,
	systems.ActionUndelete, systems.ActionEnable, systems.ActionDisable, systems.ActionChangeOwner,
	systems.ActionProfile, systems.ActionGetPerms, systems.ActionGrantPerms, systems.ActionRevokePerms,
	systems.ActionShare, systems.ActionCredential,
}

// authzCase is one principal and the actions it may take on a system; every
// other action must be refused with ErrForbidden.
type authzCase struct {
	name  string
	p     tenancy.Principal
	setup func(t *testing.T, h harness) // permissions and shares on dev/sys
	may   []systems.Action
}

var (
	readOnly    = []systems.Action{systems.ActionRead, systems.ActionGetPerms}
	shared      = []systems.Action{systems.ActionRead, systems.ActionExecute}
	serviceSelf = []systems.Action{systems.ActionRead, systems.ActionExecute, systems.ActionGetPerms}
)

// runAuthz asks the authorizer made by newAuthz every action of allActions
// for every case, on system sys of tenant dev owned by alice (canExec=true,
// so nothing but the rules decides).
func runAuthz(t *testing.T, newAuthz func(h harness) systems.Authorizer, cases []authzCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			s := h.put(t, linux("dev", "sys", "alice", true))
			// The same id in tenant other, owned by the same name: a
			// principal of other must not reach dev's system through it.
			h.put(t, linux("other", "sys", "alice", true))
			if c.setup != nil {
				c.setup(t, h)
			}
			az := newAuthz(h)
			for _, action := range allActions {
				err := az.Authorize(context.Background(), c.p, action, s)
				if slices.Contains(c.may, action) {
					assert.NoError(t, err, "%s may %s", c.name, action)
					continue
				}
				if assert.Error(t, err, "%s must not %s", c.name, action) {
					assert.ErrorIs(t, err, systems.ErrForbidden, "%s %s", c.name, action)
					assert.Contains(t, err.Error(), "SYSLIB_UNAUTH", "%s %s", c.name, action)
				}
			}
		})
	}
}

// TestAccessPolicyMatrix is reference/systems.md §6.3 for the policy used
// when permissions and sharing are configured: principal kinds x
// permissions and shares x actions.
func TestAccessPolicyMatrix(t *testing.T) {
	perms := func(ps ...systems.Permission) func(*testing.T, harness) {
		return func(t *testing.T, h harness) { h.grant(t, "dev", "sys", "bob", ps...) }
	}
	cases := []authzCase{
		{name: "owner", p: user("dev", "alice"), may: allActions},
		{name: "tenant admin", p: user("dev", "devadmin"), may: allActions},
		{name: "owner's name in another tenant", p: user("other", "alice")},
		{name: "another tenant's admin", p: user("other", "otheradmin")},
		{name: "the site admin tenant's admin", p: user("admin", "siteadmin")},
		{name: "no permission", p: user("dev", "bob")},
		{name: "anonymous", p: tenancy.Principal{TenantID: "dev"}},
		{name: "empty user name", p: tenancy.Principal{TenantID: "dev", AccountType: tenancy.AccountUser, TokenTenantID: "dev", TokenUsername: "x"}},
		{name: "READ", p: user("dev", "bob"), setup: perms(systems.PermRead), may: readOnly},
		{name: "MODIFY implies READ", p: user("dev", "bob"), setup: perms(systems.PermModify),
			may: []systems.Action{systems.ActionRead, systems.ActionGetPerms, systems.ActionModify, systems.ActionShare}},
		{name: "READ and MODIFY", p: user("dev", "bob"), setup: perms(systems.PermRead, systems.PermModify),
			may: []systems.Action{systems.ActionRead, systems.ActionGetPerms, systems.ActionModify, systems.ActionShare}},
		{name: "EXECUTE only", p: user("dev", "bob"), setup: perms(systems.PermExecute), may: []systems.Action{systems.ActionExecute}},
		{name: "all three", p: user("dev", "bob"), setup: perms(systems.AllPermissions()...),
			may: []systems.Action{systems.ActionRead, systems.ActionGetPerms, systems.ActionModify, systems.ActionShare, systems.ActionExecute}},
		{name: "shared directly", p: user("dev", "bob"), setup: func(t *testing.T, h harness) { h.share(t, "dev", "sys", "alice", "bob") }, may: shared},
		{name: "shared publicly", p: user("dev", "bob"), setup: func(t *testing.T, h harness) { h.share(t, "dev", "sys", "alice", systems.PublicGrantee) }, may: shared},
		{name: "shared with someone else", p: user("dev", "bob"), setup: func(t *testing.T, h harness) { h.share(t, "dev", "sys", "alice", "carol") }},
		{name: "permissions in the other tenant's system", p: user("dev", "bob"),
			setup: func(t *testing.T, h harness) {
				h.grant(t, "other", "sys", "bob", systems.AllPermissions()...)
				h.share(t, "other", "sys", "alice", "bob", systems.PublicGrantee)
			}},
		{name: "service as itself", p: service("files", "dev"), may: serviceSelf},
		{name: "service as itself in another tenant", p: service("files", "other")},
		{name: "service for the owner", p: obo("jobs", "dev", "alice"), may: allActions},
		{name: "service for the tenant admin", p: obo("jobs", "dev", "devadmin"), may: allActions},
		{name: "service for a user without rights", p: obo("jobs", "dev", "bob")},
		{name: "service for a user with READ", p: obo("jobs", "dev", "bob"), setup: perms(systems.PermRead), may: readOnly},
		{name: "service for a user with EXECUTE", p: obo("jobs", "dev", "bob"), setup: perms(systems.PermExecute), may: []systems.Action{systems.ActionExecute}},
		{name: "service for the owner's name in another tenant", p: obo("jobs", "other", "alice")},
	}
	runAuthz(t, func(h harness) systems.Authorizer { return h.pol }, cases)
}

// TestAccessPolicyReadIsNotExecute: neither READ nor MODIFY gives EXECUTE,
// and EXECUTE gives nothing else (reference/systems.md §6.1).
func TestAccessPolicyReadIsNotExecute(t *testing.T) {
	h := newHarness(t)
	s := h.put(t, linux("dev", "sys", "alice", true))
	ctx := context.Background()
	h.grant(t, "dev", "sys", "bob", systems.PermRead, systems.PermModify)
	require.NoError(t, h.pol.Authorize(ctx, user("dev", "bob"), systems.ActionRead, s))
	err := h.pol.Authorize(ctx, user("dev", "bob"), systems.ActionExecute, s)
	assert.ErrorIs(t, err, systems.ErrForbidden, "READ and MODIFY do not give EXECUTE")
	h.grant(t, "dev", "sys", "carol", systems.PermExecute)
	require.NoError(t, h.pol.Authorize(ctx, user("dev", "carol"), systems.ActionExecute, s))
	assert.ErrorIs(t, h.pol.Authorize(ctx, user("dev", "carol"), systems.ActionRead, s), systems.ErrForbidden, "EXECUTE does not give READ")
}

// TestAccessPolicyOtherTenant: the policy itself refuses a principal of
// another tenant, even one whose name is the owner's, though the stores
// already hide other tenants' systems.
func TestAccessPolicyOtherTenant(t *testing.T) {
	h := newHarness(t)
	s := linux("dev", "sys", "alice", true) // not stored: the policy alone decides
	ctx := context.Background()
	for _, p := range []tenancy.Principal{user("other", "alice"), user("other", "otheradmin"), obo("jobs", "other", "alice")} {
		for _, action := range allActions {
			err := h.pol.Authorize(ctx, p, action, s)
			assert.ErrorIs(t, err, systems.ErrForbidden, "%s@%s %s", p.Username, p.TenantID, action)
		}
	}
	require.NoError(t, h.pol.Authorize(ctx, user("dev", "alice"), systems.ActionDelete, s), "the owner in its own tenant")
}

// TestOwnerOrAdminMatrix is the policy used without a permission store:
// owner and tenant admin everything, a service as itself read and execute,
// nobody else anything, whatever permissions or shares exist.
func TestOwnerOrAdminMatrix(t *testing.T) {
	all := func(t *testing.T, h harness) {
		h.grant(t, "dev", "sys", "bob", systems.AllPermissions()...)
		h.share(t, "dev", "sys", "alice", "bob", systems.PublicGrantee)
	}
	cases := []authzCase{
		{name: "owner", p: user("dev", "alice"), may: allActions},
		{name: "tenant admin", p: user("dev", "devadmin"), may: allActions},
		{name: "owner's name in another tenant", p: user("other", "alice")},
		{name: "another tenant's admin", p: user("other", "otheradmin")},
		{name: "user with every permission and share", p: user("dev", "bob"), setup: all},
		{name: "anonymous", p: tenancy.Principal{TenantID: "dev"}},
		{name: "service as itself", p: service("files", "dev"), may: shared},
		{name: "service for the owner", p: obo("jobs", "dev", "alice"), may: allActions},
		{name: "service for the tenant admin", p: obo("jobs", "dev", "devadmin"), may: allActions},
		{name: "service for another user", p: obo("jobs", "dev", "bob"), setup: all},
	}
	runAuthz(t, func(h harness) systems.Authorizer { return systems.OwnerOrAdmin{Tenancy: h.ten} }, cases)
}
