package systems_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// TestWhoManagesACredential: the owner and the tenant admin set and remove
// anyone's credential; on a dynamic system a user who may read it (a
// permission or a share) manages their own and nobody else's; on a static
// system (everybody's login) only the owner and the admin do (reference
// systems.md §6.3, and the README: the original let any reader replace a
// static system's credential).
func TestWhoManagesACredential(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.put(t, linux("dev", "dyn", "alice", false)) // effectiveUserId ${apiUserId}
	static := linux("dev", "static", "alice", false)
	static.EffectiveUserID = "shared_login"
	h.put(t, static)
	for _, id := range []string{"dyn", "static"} {
		h.grant(t, "dev", id, "reader", systems.PermRead)
		h.grant(t, "dev", id, "modifier", systems.PermRead, systems.PermModify)
		h.grant(t, "dev", id, "runner", systems.PermExecute)
		h.share(t, "dev", id, "alice", "friend")
	}
	cases := []struct {
		system string
		p      tenancy.Principal
		user   string // whose credential
		may    bool
	}{
		{"dyn", user("dev", "alice"), "reader", true},
		{"dyn", user("dev", "devadmin"), "reader", true},
		{"dyn", user("dev", "reader"), "reader", true},
		{"dyn", user("dev", "modifier"), "modifier", true},
		{"dyn", user("dev", "friend"), "friend", true},
		{"dyn", obo("jobs", "dev", "reader"), "reader", true},
		{"dyn", user("dev", "reader"), "friend", false},   // someone else's
		{"dyn", user("dev", "modifier"), "reader", false}, // MODIFY is not owner
		{"dyn", user("dev", "runner"), "runner", false},   // EXECUTE alone cannot read
		{"dyn", user("dev", "stranger"), "stranger", false},
		{"dyn", user("other", "alice"), "reader", false}, // the owner's name in another tenant
		{"dyn", service("files", "dev"), "reader", false},
		{"static", user("dev", "alice"), "shared_login", true},
		{"static", user("dev", "devadmin"), "shared_login", true},
		{"static", user("dev", "reader"), "reader", false}, // readers do not own the static login
		{"static", user("dev", "reader"), "shared_login", false},
		{"static", user("dev", "modifier"), "modifier", false},
		{"static", user("dev", "friend"), "friend", false},
	}
	for _, c := range cases {
		what := c.p.Username + "@" + c.p.TenantID + " for " + c.user + " on " + c.system
		err := h.svc.SetUserCredential(ctx, c.p, c.system, c.user, systems.Credential{Password: "pw-" + c.user}, true)
		rerr := h.svc.RemoveUserCredential(ctx, c.p, c.system, c.user)
		if c.may {
			assert.NoError(t, err, "set: %s", what)
			assert.NoError(t, rerr, "remove: %s", what)
			continue
		}
		if c.p.TenantID != "dev" {
			assert.ErrorIs(t, err, systems.ErrNotFound, "set: %s (another tenant's system does not exist)", what)
			continue
		}
		assert.ErrorIs(t, err, systems.ErrForbidden, "set: %s", what)
		assert.ErrorIs(t, rerr, systems.ErrForbidden, "remove: %s", what)
	}
	// Nothing refused was stored: the static login's credential is the one
	// the owner set last (removed again above), so there is none.
	_, _, err := h.svc.GetUserCredential(ctx, service("files", "dev"), "static", "shared_login", "")
	assert.ErrorIs(t, err, systems.ErrNotFound)
	require.NoError(t, h.svc.SetUserCredential(ctx, user("dev", "alice"), "static", "shared_login", systems.Credential{Password: "owner's"}, true))
	assert.ErrorIs(t, h.svc.SetUserCredential(ctx, user("dev", "reader"), "static", "shared_login", systems.Credential{Password: "reader's"}, true), systems.ErrForbidden)
	c, _, err := h.svc.GetUserCredential(ctx, service("files", "dev"), "static", "shared_login", "")
	require.NoError(t, err)
	assert.Equal(t, "owner's", c.Password, "a refused write leaves the credential alone")
}

// TestImpersonation: impersonationId is for the files, apps and jobs
// services and tenant admins; the read is then judged as the impersonated
// user.
func TestImpersonation(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.put(t, linux("dev", "sys", "alice", true))
	h.grant(t, "dev", "sys", "reader", systems.PermRead)
	for _, p := range []tenancy.Principal{service("files", "dev"), service("apps", "dev"), service("jobs", "dev"), user("dev", "devadmin")} {
		who := p.TokenUsername
		_, err := h.svc.Get(ctx, p, "sys", systems.GetOptions{ImpersonationID: "reader"})
		assert.NoError(t, err, "%s as reader", who)
		_, err = h.svc.Get(ctx, p, "sys", systems.GetOptions{ImpersonationID: "stranger"})
		assert.ErrorIs(t, err, systems.ErrForbidden, "%s as stranger is judged as stranger", who)
		assert.NotContains(t, err.Error(), "IMPERSONATE", who)
	}
	for _, p := range []tenancy.Principal{service("tokens", "dev"), service("systems", "dev"), service("authenticator", "dev"),
		user("dev", "alice"), user("dev", "reader")} {
		_, err := h.svc.Get(ctx, p, "sys", systems.GetOptions{ImpersonationID: "alice"})
		assert.ErrorIs(t, err, systems.ErrForbidden, "%s@%s may not impersonate", p.TokenUsername, p.TokenTenantID)
		assert.ErrorContains(t, err, "SYSLIB_UNAUTH_IMPERSONATE", p.TokenUsername)
		_, _, err = h.svc.List(ctx, p, systems.ListQuery{ImpersonationID: "alice"})
		assert.ErrorContains(t, err, "SYSLIB_UNAUTH_IMPERSONATE", "list: %s", p.TokenUsername)
	}
}
