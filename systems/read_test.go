package systems_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// staticWithCredential stores dev/sys (static login "alice_login", owner
// alice, canExec) with a password credential set by the owner.
func staticWithCredential(t *testing.T, h harness) {
	t.Helper()
	s := linux("dev", "sys", "alice", true)
	s.EffectiveUserID = "alice_login"
	h.put(t, s)
	require.NoError(t, h.svc.SetUserCredential(context.Background(), user("dev", "alice"), "sys", "alice_login",
		systems.Credential{Password: "static-secret"}, true))
}

// TestOnlyFilesAndJobsReadCredentials: GET credential and
// returnCredentials are for the files and jobs services; every other
// service (apps, systems, ...) and every user is refused, and gets no
// secret.
func TestOnlyFilesAndJobsReadCredentials(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	staticWithCredential(t, h)

	for _, p := range []tenancy.Principal{service("files", "dev"), service("jobs", "dev")} {
		c, method, err := h.svc.GetUserCredential(ctx, p, "sys", "alice_login", "")
		require.NoError(t, err, p.TokenUsername)
		assert.Equal(t, "static-secret", c.Password, p.TokenUsername)
		assert.Equal(t, systems.AuthnPassword, method)

		s, err := h.svc.Get(ctx, p, "sys", systems.GetOptions{ReturnCredentials: true})
		require.NoError(t, err, p.TokenUsername)
		require.NotNil(t, s.AuthnCredential, p.TokenUsername)
		assert.Equal(t, "static-secret", s.AuthnCredential.Password)
	}

	refused := []tenancy.Principal{
		service("apps", "dev"), service("systems", "dev"), service("tokens", "dev"), service("authenticator", "dev"),
		obo("apps", "dev", "alice"),  // a service for the owner is still not files or jobs
		user("dev", "alice"),         // the owner
		user("dev", "devadmin"),      // the tenant admin
		user("dev", "files"),         // a user named like the service
		serviceOf("apps", "dev"),     // a service token of the tenant itself
		obo("systems", "dev", "bob"), // a service for someone else
	}
	for _, p := range refused {
		who := p.TokenUsername + "@" + p.TokenTenantID + " (" + string(p.AccountType) + ")"
		c, _, err := h.svc.GetUserCredential(ctx, p, "sys", "alice_login", "")
		assert.ErrorIs(t, err, systems.ErrForbidden, "GET credential by %s", who)
		assert.ErrorContains(t, err, "SYSLIB_UNAUTH_GETCRED", who)
		assert.Empty(t, c.Password, "no secret for %s", who)

		s, err := h.svc.Get(ctx, p, "sys", systems.GetOptions{ReturnCredentials: true})
		assert.ErrorIs(t, err, systems.ErrForbidden, "returnCredentials by %s", who)
		assert.ErrorContains(t, err, "SYSLIB_UNAUTH_GETCRED", who)
		assert.Nil(t, s.AuthnCredential, "no secret for %s", who)
	}
	// Without returnCredentials the same callers read the system (so the
	// refusals above are about the credential, not the system).
	for _, p := range []tenancy.Principal{service("apps", "dev"), user("dev", "alice"), user("dev", "devadmin")} {
		s, err := h.svc.Get(ctx, p, "sys", systems.GetOptions{})
		require.NoError(t, err, p.TokenUsername)
		assert.Nil(t, s.AuthnCredential)
	}
}

// TestRequireExecNeedsExecute: on an execution system (canExec=true),
// requireExecPerm needs EXECUTE (or a share); READ and MODIFY are not
// enough.
func TestRequireExecNeedsExecute(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.put(t, linux("dev", "sys", "alice", true))
	h.grant(t, "dev", "sys", "reader", systems.PermRead)
	h.grant(t, "dev", "sys", "modifier", systems.PermRead, systems.PermModify)
	h.grant(t, "dev", "sys", "runner", systems.PermRead, systems.PermExecute)
	h.share(t, "dev", "sys", "alice", "friend")
	exec := systems.GetOptions{RequireExec: true}

	for _, who := range []string{"reader", "modifier"} {
		_, err := h.svc.Get(ctx, user("dev", who), "sys", systems.GetOptions{})
		require.NoError(t, err, "%s reads", who)
		_, err = h.svc.Get(ctx, user("dev", who), "sys", exec)
		assert.ErrorIs(t, err, systems.ErrForbidden, "%s: READ is not EXECUTE", who)
		assert.ErrorContains(t, err, "SYSLIB_UNAUTH", who)
		assert.NotContains(t, err.Error(), "SYSLIB_NOTEXEC", "the system can execute: the refusal is the permission's")
	}
	for _, who := range []string{"runner", "friend", "alice", "devadmin"} {
		_, err := h.svc.Get(ctx, user("dev", who), "sys", exec)
		assert.NoError(t, err, "%s may execute", who)
	}
	// The same rights on a storage system: canExec decides.
	h.put(t, linux("dev", "store", "alice", false))
	h.grant(t, "dev", "store", "runner", systems.PermRead, systems.PermExecute)
	_, err := h.svc.Get(ctx, user("dev", "runner"), "store", exec)
	assert.ErrorContains(t, err, "SYSLIB_NOTEXEC")
}

// TestSharedAppCtxLendsOnlyTheGrantorsRights: in a shared application
// context (files and jobs only) the grantor lends what it holds itself:
// READ or MODIFY lends read, EXECUTE lends execute, a share lends both;
// READ never lends execute.
func TestSharedAppCtxLendsOnlyTheGrantorsRights(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.put(t, linux("dev", "sys", "alice", true))
	h.grant(t, "dev", "sys", "reader", systems.PermRead)
	h.grant(t, "dev", "sys", "modifier", systems.PermRead, systems.PermModify)
	h.grant(t, "dev", "sys", "runner", systems.PermExecute)
	h.share(t, "dev", "sys", "alice", "friend")
	// bob holds nothing: every right he gets comes from the grantor.
	jobsForBob := obo("jobs", "dev", "bob")
	get := func(grantor string, exec bool) error {
		_, err := h.svc.Get(ctx, jobsForBob, "sys", systems.GetOptions{SharedAppCtx: grantor, RequireExec: exec})
		return err
	}
	cases := []struct {
		grantor       string
		read, execute bool
	}{
		{"alice", true, true}, // the owner
		{"reader", true, false},
		{"modifier", true, false},
		{"runner", false, false}, // EXECUTE alone: the read every GET needs is missing
		{"friend", true, true},
		{"devadmin", false, false}, // a tenant admin lends nothing it does not hold
		{"nobody", false, false},
	}
	for _, c := range cases {
		err := get(c.grantor, false)
		if c.read {
			assert.NoError(t, err, "%s lends read", c.grantor)
		} else {
			assert.ErrorIs(t, err, systems.ErrForbidden, "%s lends no read", c.grantor)
		}
		err = get(c.grantor, true)
		if c.execute {
			assert.NoError(t, err, "%s lends execute", c.grantor)
		} else {
			assert.ErrorIs(t, err, systems.ErrForbidden, "%s lends no execute", c.grantor)
		}
	}
	// With read from elsewhere, EXECUTE alone lends execute, READ does not.
	h.grant(t, "dev", "sys", "bob", systems.PermRead)
	assert.NoError(t, get("runner", true), "the grantor's EXECUTE lends execute")
	err := get("reader", true)
	assert.ErrorIs(t, err, systems.ErrForbidden, "the grantor's READ lends no execute")
	assert.NotContains(t, err.Error(), "SYSLIB_NOTEXEC")

	// Only files and jobs may use a shared application context.
	for _, p := range []tenancy.Principal{obo("apps", "dev", "bob"), user("dev", "bob")} {
		_, err := h.svc.Get(ctx, p, "sys", systems.GetOptions{SharedAppCtx: "alice"})
		assert.ErrorContains(t, err, "SYSLIB_UNAUTH_SHAREDAPPCTX", p.TokenUsername)
	}
}

// TestResourceTenantMustBeAllowable: resourceTenant reads a system of
// another tenant only for a files or jobs token whose tenant may act for it
// (the primary site's admin tenant for every tenant, an associate site's
// admin tenant for its own site's tenants).
func TestResourceTenantMustBeAllowable(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	for _, tenant := range []string{"dev", "other", "far"} {
		s := linux(tenant, "sys", "alice", true)
		s.Description = "the system of " + tenant
		h.put(t, s)
	}
	cases := []struct {
		name     string
		p        tenancy.Principal
		resource string
		allowed  bool
	}{
		{"primary admin tenant for dev", service("files", "dev"), "other", true},
		{"primary admin tenant for an associate's tenant", service("jobs", "dev"), "far", true},
		{"associate admin tenant for its own tenant", serviceOf("files", "assocadmin"), "far", true},
		{"its own tenant", serviceOf("files", "dev"), "dev", true},
		{"a plain tenant for another", serviceOf("files", "dev"), "other", false},
		{"associate admin tenant for the primary's tenant", serviceOf("files", "assocadmin"), "dev", false},
		{"a tenant of the associate for the primary's tenant", serviceOf("jobs", "far"), "other", false},
		{"an unknown tenant", service("files", "dev"), "nosuch", false},
	}
	for _, c := range cases {
		s, err := h.svc.Get(ctx, c.p, "sys", systems.GetOptions{ResourceTenant: c.resource})
		if c.allowed {
			if assert.NoError(t, err, c.name) {
				assert.Equal(t, "the system of "+c.resource, s.Description, c.name)
			}
			continue
		}
		assert.ErrorIs(t, err, systems.ErrForbidden, c.name)
		assert.ErrorContains(t, err, "SYSLIB_UNAUTH_RESOURCETENANT", c.name)
		assert.Empty(t, s.ID, "%s: nothing of the system is returned", c.name)
	}
	_, err := h.svc.Get(ctx, service("apps", "dev"), "sys", systems.GetOptions{ResourceTenant: "other"})
	assert.ErrorContains(t, err, "SYSLIB_UNAUTH_SHAREDAPPCTX", "resourceTenant is for files and jobs only")
}
