package systems_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

// Service-level tests of permissions, sharing and listing
// (reference/systems.md §6), through the Service's API: who may grant,
// revoke and share, what a grant implies, and what each list type shows.
// The authorization matrix itself is TestAccessPolicyMatrix's.

func TestParsePermissions(t *testing.T) {
	for in, want := range map[string][]systems.Permission{
		"read":            {systems.PermRead},
		" Modify ,READ":   {systems.PermRead, systems.PermModify},
		"EXECUTE,read":    {systems.PermRead, systems.PermExecute},
		"*":               systems.AllPermissions(),
		"execute,EXECUTE": {systems.PermExecute},
	} {
		got, err := systems.ParsePermissions(strings.Split(in, ","))
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := systems.ParsePermissions(nil)
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_PERMS_NOPERMS")
	_, err = systems.ParsePermissions([]string{"READ", "WRITE", "ALL"})
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_PERMS_ENUM_ERROR")
	assert.Contains(t, err.Error(), `["WRITE" "ALL"]`, "every unknown name is named")
}

func TestGrantAndRevoke(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("sys"))
	permsOf := func(who string) []systems.Permission {
		ps, err := h.svc.UserPerms(ctx, alice, "sys", who)
		require.NoError(t, err)
		return ps
	}

	got, err := h.svc.GrantPerms(ctx, alice, "sys", "bob", []string{"modify"})
	require.NoError(t, err)
	assert.Equal(t, []systems.Permission{systems.PermRead, systems.PermModify}, got, "MODIFY brings READ along")
	assert.Equal(t, got, permsOf("bob"))
	_, err = h.svc.GrantPerms(ctx, user("dev", "devadmin"), "sys", "bob", []string{"EXECUTE"})
	require.NoError(t, err, "the tenant admin grants")
	assert.Equal(t, systems.AllPermissions(), permsOf("bob"), "grants add up")
	assert.Empty(t, permsOf("alice"), "the owner's implicit rights are not listed")

	hist, err := h.svc.History(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, systems.OpGrantPerms, hist[1].Operation)
	assert.JSONEq(t, `{"System":"sys","TargetUser":"bob","Permissions":["READ","MODIFY"]}`, string(hist[1].Description))

	// Revoking READ takes MODIFY along; revoking MODIFY leaves READ.
	got, err = h.svc.RevokePerms(ctx, alice, "sys", "bob", []string{"READ"})
	require.NoError(t, err)
	assert.Equal(t, []systems.Permission{systems.PermRead, systems.PermModify}, got)
	assert.Equal(t, []systems.Permission{systems.PermExecute}, permsOf("bob"))
	h.grant(t, "dev", "sys", "carol", systems.PermRead, systems.PermModify)
	_, err = h.svc.RevokePerms(ctx, alice, "sys", "carol", []string{"MODIFY"})
	require.NoError(t, err)
	assert.Equal(t, []systems.Permission{systems.PermRead}, permsOf("carol"))
	hist, err = h.svc.History(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, systems.OpRevokePerms, hist[len(hist)-1].Operation)

	t.Run("refusals", func(t *testing.T) {
		for _, p := range []principal{user("dev", "carol"), user("dev", "bob"), service("jobs", "dev")} {
			_, err := h.svc.GrantPerms(ctx, p, "sys", "dave", []string{"READ"})
			refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
		}
		h.grant(t, "dev", "sys", "mod", systems.PermRead, systems.PermModify)
		_, err := h.svc.GrantPerms(ctx, user("dev", "mod"), "sys", "dave", []string{"READ"})
		refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH") // MODIFY does not grant
		_, err = h.svc.GrantPerms(ctx, alice, "sys", " ", []string{"READ"})
		refusedWith(t, err, systems.ErrInvalid, "SYSLIB_INVALID_STR_ATTR")
		_, err = h.svc.GrantPerms(ctx, alice, "sys", "dave", []string{"OWN"})
		refusedWith(t, err, systems.ErrInvalid, "SYSAPI_PERMS_ENUM_ERROR")
		_, err = h.svc.GrantPerms(ctx, alice, "nosuch", "dave", []string{"READ"})
		refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
		_, err = h.svc.UserPerms(ctx, user("dev", "stranger"), "sys", "bob")
		refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
		_, err = h.svc.UserPerms(ctx, alice, "sys", "bad\x00user")
		refusedWith(t, err, systems.ErrInvalid, "SYSLIB_INVALID_STR_ATTR")
		assert.Empty(t, permsOf("dave"), "nothing refused was granted")
	})
}

// TestSelfRevoke: a user who is not the owner may drop its own READ or
// MODIFY, but not EXECUTE alone, nor anything of somebody else's.
func TestSelfRevoke(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.create(t, user("dev", "alice"), newSystem("sys"))
	h.grant(t, "dev", "sys", "reader", systems.PermRead)
	h.grant(t, "dev", "sys", "runner", systems.PermExecute)
	h.grant(t, "dev", "sys", "both", systems.PermRead, systems.PermExecute)

	_, err := h.svc.RevokePerms(ctx, user("dev", "reader"), "sys", "both", []string{"READ"})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	_, err = h.svc.RevokePerms(ctx, user("dev", "runner"), "sys", "runner", []string{"EXECUTE"})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	_, err = h.svc.RevokePerms(ctx, user("dev", "both"), "sys", "both", []string{"EXECUTE"})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH") // EXECUTE alone, even by a reader
	_, err = h.svc.RevokePerms(ctx, user("dev", "reader"), "sys", "reader", []string{"MODIFY"})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH") // a MODIFY it does not hold
	got, err := h.svc.RevokePerms(ctx, user("dev", "both"), "sys", "both", []string{"READ", "EXECUTE"})
	require.NoError(t, err, "READ with EXECUTE is not EXECUTE alone")
	assert.Equal(t, systems.AllPermissions(), got)
	_, err = h.svc.RevokePerms(ctx, user("dev", "reader"), "sys", "reader", []string{"READ"})
	require.NoError(t, err)

	for who, want := range map[string][]systems.Permission{"reader": {}, "runner": {systems.PermExecute}, "both": {}} {
		ps, err := h.st.UserPerms(ctx, "dev", "sys", who)
		require.NoError(t, err)
		assert.ElementsMatch(t, want, ps, who)
	}
}

func TestShare(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("sys"))
	h.grant(t, "dev", "sys", "mod", systems.PermRead, systems.PermModify)
	h.grant(t, "dev", "sys", "reader", systems.PermRead)

	require.NoError(t, h.svc.Share(ctx, alice, "sys", []string{"bob", "carol"}, false))
	require.NoError(t, h.svc.Share(ctx, user("dev", "mod"), "sys", []string{"dave"}, false), "MODIFY may share")
	public, users, err := h.svc.ShareInfo(ctx, user("dev", "bob"), "sys")
	require.NoError(t, err, "a share lets bob read")
	assert.False(t, public)
	assert.Equal(t, []string{"bob", "carol", "dave"}, users)

	require.NoError(t, h.svc.Share(ctx, alice, "sys", []string{"dave"}, true), "the owner removes a share granted by another")
	_, _, err = h.svc.ShareInfo(ctx, user("dev", "dave"), "sys")
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	_, err = h.svc.Get(ctx, user("dev", "stranger"), "sys", systems.GetOptions{})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	require.NoError(t, h.svc.Share(ctx, alice, "sys", []string{systems.PublicGrantee}, false))
	public, _, err = h.svc.ShareInfo(ctx, user("dev", "stranger"), "sys")
	require.NoError(t, err, "a public share lets anyone of the tenant read")
	assert.True(t, public)
	_, err = h.svc.Get(ctx, user("other", "stranger"), "sys", systems.GetOptions{})
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND") // not another tenant

	err = h.svc.Share(ctx, user("dev", "reader"), "sys", []string{"eve"}, false)
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	err = h.svc.Share(ctx, alice, "sys", nil, false)
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_SHARE_NOUSERS")
	err = h.svc.Share(ctx, alice, "sys", []string{"ok", strings.Repeat("x", 61)}, false)
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_INVALID_STR_ATTR")
	err = h.svc.Share(ctx, alice, "nosuch", []string{"bob"}, false)
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
	_, users, err = h.svc.ShareInfo(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, []string{"bob", "carol"}, users, "nothing refused was shared")
}

// TestWithoutAccessStore: without permissions configured, their operations
// are a 501 and the policy is owner-or-admin (services as themselves read).
func TestWithoutAccessStore(t *testing.T) {
	h := newHarness(t, func(c *systems.Config) { c.Access = nil })
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("sys"))

	_, err := h.svc.UserPerms(ctx, alice, "sys", "bob")
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_PERMS_NOT_CONFIGURED")
	_, err = h.svc.GrantPerms(ctx, alice, "sys", "bob", []string{"READ"})
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_PERMS_NOT_CONFIGURED")
	_, err = h.svc.RevokePerms(ctx, alice, "sys", "bob", []string{"READ"})
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_PERMS_NOT_CONFIGURED")
	_, _, err = h.svc.ShareInfo(ctx, alice, "sys")
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_PERMS_NOT_CONFIGURED")
	err = h.svc.Share(ctx, alice, "sys", []string{"bob"}, false)
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_PERMS_NOT_CONFIGURED")

	desc := "x"
	for _, c := range []struct {
		p       principal
		read    bool
		modify  bool
		comment string
	}{
		{alice, true, true, "the owner"},
		{user("dev", "devadmin"), true, true, "the tenant admin"},
		{service("jobs", "dev"), true, false, "a service as itself reads"},
		{obo("jobs", "dev", "bob"), false, false, "a service for bob is bob"},
		{user("dev", "bob"), false, false, "anyone else"},
		{user("other", "otheradmin"), false, false, "another tenant's admin"},
	} {
		s, err := h.svc.Get(ctx, c.p, "sys", systems.GetOptions{})
		if c.read {
			assert.NoError(t, err, c.comment)
			assert.Nil(t, s.SharedWithUsers, "%s: no sharing facts without an access store", c.comment)
		} else {
			assert.Error(t, err, c.comment)
		}
		_, err = h.svc.Patch(ctx, c.p, "sys", systems.Patch{Description: &desc})
		if c.modify {
			assert.NoError(t, err, c.comment)
		} else {
			assert.Error(t, err, c.comment)
		}
	}
	list, _, err := h.svc.List(ctx, alice, systems.ListQuery{ListType: systems.ListAll})
	require.NoError(t, err)
	assert.Equal(t, []string{"sys"}, idsOf(list))
	list, _, err = h.svc.List(ctx, alice, systems.ListQuery{ListType: systems.ListSharedPublic})
	require.NoError(t, err)
	assert.Empty(t, list)
}

func TestParseListType(t *testing.T) {
	for in, want := range map[string]systems.ListType{"": systems.ListOwned, "owned": systems.ListOwned, " all ": systems.ListAll,
		"Shared_Public": systems.ListSharedPublic} {
		got, err := systems.ParseListType(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	_, err := systems.ParseListType("MINE")
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_LISTTYPE_ERROR")
}

func TestList(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice, bob := user("dev", "alice"), user("dev", "bob")
	for _, id := range []string{"a1", "a2"} {
		h.create(t, alice, newSystem(id))
	}
	_, err := h.svc.Delete(ctx, alice, "a2")
	require.NoError(t, err)
	for _, id := range []string{"b1", "b2", "b3", "b4", "b5"} {
		h.create(t, bob, newSystem(id))
	}
	h.share(t, "dev", "b1", "bob", "alice")
	h.share(t, "dev", "b2", "bob", systems.PublicGrantee)
	h.grant(t, "dev", "b3", "alice", systems.PermRead)
	h.grant(t, "dev", "b4", "alice", systems.PermExecute) // EXECUTE alone does not list
	h.create(t, user("other", "alice"), newSystem("o1"))
	list := func(p principal, q systems.ListQuery) []string {
		t.Helper()
		l, total, err := h.svc.List(ctx, p, q)
		require.NoError(t, err)
		if !q.ComputeTotal {
			assert.Equal(t, -1, total)
		}
		return idsOf(l)
	}

	assert.Equal(t, []string{"a1"}, list(alice, systems.ListQuery{}), "OWNED is the default")
	assert.Equal(t, []string{"a1", "a2"}, list(alice, systems.ListQuery{ShowDeleted: true}))
	assert.Equal(t, []string{"b2"}, list(alice, systems.ListQuery{ListType: systems.ListSharedPublic}))
	assert.Equal(t, []string{"a1", "b1", "b2", "b3"}, list(alice, systems.ListQuery{ListType: systems.ListAll}))
	assert.Equal(t, []string{"o1"}, list(user("other", "alice"), systems.ListQuery{ListType: systems.ListAll}), "another tenant sees its own only")
	assert.Equal(t, []string{"b2"}, list(user("dev", "devadmin"), systems.ListQuery{ListType: systems.ListAll}),
		"a tenant admin does not see every system under ALL")

	// Search, order and page apply inside the visibility.
	n, err := search.ParseQuery("(id.like.b*)", systems.SearchSchema, search.DefaultLimits())
	require.NoError(t, err)
	desc, err := search.ParseOrderBy("id(desc)", systems.SearchSchema)
	require.NoError(t, err)
	all := systems.ListQuery{ListType: systems.ListAll, Search: n, Order: desc}
	assert.Equal(t, []string{"b3", "b2", "b1"}, list(alice, all))
	all.Limit, all.Skip, all.ComputeTotal = 2, 1, true
	l, total, err := h.svc.List(ctx, alice, all)
	require.NoError(t, err)
	assert.Equal(t, []string{"b2", "b1"}, idsOf(l))
	assert.Equal(t, 3, total, "the total counts every match, not the page")

	// Each row shows the caller's login; shares only when asked.
	l, _, err = h.svc.List(ctx, alice, systems.ListQuery{ListType: systems.ListAll, WithShares: true})
	require.NoError(t, err)
	for _, s := range l {
		assert.Equal(t, "alice", s.EffectiveUserID, s.ID)
		assert.NotNil(t, s.SharedWithUsers, s.ID)
	}
	assert.True(t, l[2].IsPublic, "b2")
	assert.Equal(t, []string{"alice"}, l[1].SharedWithUsers, "b1")
	l, _, err = h.svc.List(ctx, alice, systems.ListQuery{ListType: systems.ListAll})
	require.NoError(t, err)
	assert.Nil(t, l[1].SharedWithUsers, "no share lookups unless asked")

	_, _, err = h.svc.List(ctx, principal{TenantID: "dev"}, systems.ListQuery{})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
}

func idsOf(list []systems.System) []string {
	out := []string{}
	for _, s := range list {
		out = append(out, s.ID)
	}
	return out
}
