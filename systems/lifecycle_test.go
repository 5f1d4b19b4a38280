package systems_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
)

// Service-level tests of the lifecycle (enable, disable, delete, undelete,
// change owner, history) and of child systems (reference/systems.md §2.4,
// §3.4-§3.6).

func TestEnableDisable(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("sys"))
	h.grant(t, "dev", "sys", "modifier", systems.PermModify)

	n, err := h.svc.Disable(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	on, err := h.svc.IsEnabled(ctx, alice, "sys")
	require.NoError(t, err)
	assert.False(t, on)
	n, err = h.svc.Enable(ctx, user("dev", "devadmin"), "sys")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the tenant admin may")
	assert.True(t, h.stored(t, "dev", "sys").Enabled)
	hist, err := h.svc.History(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, []string{systems.OpCreate, systems.OpDisable, systems.OpEnable}, ops(hist))
	assert.JSONEq(t, `{"enabled":true}`, string(hist[2].Description))
	assert.Equal(t, "devadmin", hist[2].JWTUser)

	for _, p := range []principal{user("dev", "modifier"), user("dev", "stranger"), service("jobs", "dev")} {
		_, err := h.svc.Disable(ctx, p, "sys")
		refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	}
	assert.True(t, h.stored(t, "dev", "sys").Enabled, "MODIFY does not disable (owner and admin only)")
	_, err = h.svc.Enable(ctx, alice, "nosuch")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
}

func TestDeleteAndUndelete(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("sys"))
	h.grant(t, "dev", "sys", "bob", systems.PermRead, systems.PermModify)
	h.share(t, "dev", "sys", "alice", "carol")

	_, err := h.svc.Delete(ctx, user("dev", "bob"), "sys")
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	n, err := h.svc.Delete(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.True(t, h.stored(t, "dev", "sys").Deleted)

	_, err = h.svc.Get(ctx, alice, "sys", systems.GetOptions{})
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
	_, err = h.svc.Create(ctx, alice, systems.CreateInput{System: newSystem("sys")})
	refusedWith(t, err, systems.ErrAlreadyExists, "SYSAPI_SYS_EXISTS")
	perms, err := h.st.UserPerms(ctx, "dev", "sys", "bob")
	require.NoError(t, err)
	assert.Empty(t, perms, "a deleted system's permissions go")
	shares, err := h.st.Shares(ctx, "dev", "sys")
	require.NoError(t, err)
	assert.Len(t, shares, 1, "its shares stay")
	hist, err := h.svc.History(ctx, alice, "sys")
	require.NoError(t, err, "history of a deleted system is readable")
	assert.Equal(t, systems.OpDelete, hist[len(hist)-1].Operation)

	n, err = h.svc.Undelete(ctx, alice, "sys")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = h.svc.Get(ctx, alice, "sys", systems.GetOptions{})
	require.NoError(t, err)
	_, err = h.svc.Get(ctx, user("dev", "bob"), "sys", systems.GetOptions{})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH") // undelete restores no permission

	_, err = h.svc.Delete(ctx, alice, "nosuch")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
	_, err = h.svc.Undelete(ctx, alice, "nosuch")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
}

// TestDeleteWithChildren: a parent with live children is not deleted; an
// undeleted child needs a live parent that allows children, and catches up
// with it.
func TestDeleteWithChildren(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	parent := newSystem("parent")
	parent.AllowChildren = true
	h.create(t, alice, parent)
	_, err := h.svc.CreateChild(ctx, alice, "parent", systems.ChildInput{ID: "kid", EffectiveUserID: "login", RootDir: "/kid"})
	require.NoError(t, err)

	_, err = h.svc.Delete(ctx, alice, "parent")
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CHILD_HAS_CHILD_ERROR")
	assert.False(t, h.stored(t, "dev", "parent").Deleted)

	_, err = h.svc.Delete(ctx, alice, "kid")
	require.NoError(t, err)
	_, err = h.svc.Delete(ctx, alice, "parent")
	require.NoError(t, err, "deleted children do not count")
	_, err = h.svc.Undelete(ctx, alice, "kid")
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CHILD_ALLOW_CONFLICT_ERROR")
	assert.True(t, h.stored(t, "dev", "kid").Deleted)

	_, err = h.svc.Undelete(ctx, alice, "parent")
	require.NoError(t, err)
	desc := "changed while the child was away"
	_, err = h.svc.Patch(ctx, alice, "parent", systems.Patch{Description: &desc})
	require.NoError(t, err)
	_, err = h.svc.Undelete(ctx, alice, "kid")
	require.NoError(t, err)
	kid := h.stored(t, "dev", "kid")
	assert.Equal(t, desc, kid.Description, "the undeleted child catches up with its parent")
	assert.Equal(t, "/kid", kid.RootDir)
	assert.False(t, kid.Deleted)
}

func TestChangeOwner(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice, bob := user("dev", "alice"), user("dev", "bob")
	h.create(t, alice, newSystem("sys"))
	h.grant(t, "dev", "sys", "modifier", systems.PermModify)

	for _, bad := range []string{"", strings.Repeat("x", 61), "bo\x00b", "bo\nb"} {
		_, err := h.svc.ChangeOwner(ctx, alice, "sys", bad)
		refusedWith(t, err, systems.ErrInvalid, "SYSLIB_INVALID_STR_ATTR")
	}
	_, err := h.svc.ChangeOwner(ctx, user("dev", "modifier"), "sys", "modifier")
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	n, err := h.svc.ChangeOwner(ctx, alice, "sys", "alice")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "the same owner is no change")

	n, err = h.svc.ChangeOwner(ctx, alice, "sys", "bob")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, "bob", h.stored(t, "dev", "sys").Owner)
	desc := "bob's now"
	_, err = h.svc.Patch(ctx, alice, "sys", systems.Patch{Description: &desc})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	_, err = h.svc.Patch(ctx, bob, "sys", systems.Patch{Description: &desc})
	require.NoError(t, err)

	hist, err := h.svc.History(ctx, bob, "sys")
	require.NoError(t, err)
	assert.Equal(t, []string{systems.OpCreate, systems.OpChangeOwner, systems.OpModify}, ops(hist))
	var d map[string]any
	require.NoError(t, json.Unmarshal(hist[1].Description, &d))
	assert.Equal(t, map[string]any{"oldValue": "alice", "newValue": "bob"}, d["owner"])
	_, err = h.svc.History(ctx, user("dev", "stranger"), "sys")
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	_, err = h.svc.History(ctx, bob, "nosuch")
	refusedWith(t, err, systems.ErrNotFound, "SYSAPI_NOT_FOUND")
}

func TestCreateChild(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice, bob := user("dev", "alice"), user("dev", "bob")
	parent := newSystem("parent")
	parent.AllowChildren, parent.Description, parent.Tags = true, "the parent", []string{"p"}
	p := h.create(t, alice, parent)
	h.create(t, alice, newSystem("leaf"))
	h.create(t, alice, newSystem("gone"))
	_, err := h.svc.Delete(ctx, alice, "gone")
	require.NoError(t, err)
	h.grant(t, "dev", "parent", "bob", systems.PermRead)

	c, err := h.svc.CreateChild(ctx, bob, "parent", systems.ChildInput{EffectiveUserID: "bob_login", RootDir: "/work//bob/"})
	require.NoError(t, err, "a reader of the parent makes a child it owns")
	assert.Equal(t, "parent-bob", c.ID, "the default id is <parent>-<user>")
	assert.Equal(t, "bob", c.Owner)
	assert.Equal(t, "parent", c.ParentID)
	assert.Equal(t, "/work/bob", c.RootDir)
	assert.Equal(t, "the parent", c.Description)
	assert.Equal(t, []string{"p"}, c.Tags)
	assert.Equal(t, p.Host, c.Host)
	assert.NotEqual(t, p.UUID, c.UUID, "a child has its own uuid")
	assert.False(t, c.AllowChildren, "a child is a leaf")
	assert.True(t, c.Enabled)
	assert.Equal(t, c, h.stored(t, "dev", "parent-bob"))

	off := false
	c, err = h.svc.CreateChild(ctx, alice, "parent", systems.ChildInput{ID: "named", EffectiveUserID: "l", RootDir: "/r", Enabled: &off})
	require.NoError(t, err)
	assert.False(t, c.Enabled)

	cases := []struct {
		name   string
		p      principal
		parent string
		in     systems.ChildInput
		kind   error
		keys   []string
	}{
		{"a missing parent", alice, "nosuch", systems.ChildInput{EffectiveUserID: "l", RootDir: "/r"}, systems.ErrNotFound, []string{"SYSLIB_CHILD_PARENT_NOT_FOUND"}},
		{"a deleted parent", alice, "gone", systems.ChildInput{EffectiveUserID: "l", RootDir: "/r"}, systems.ErrNotFound, []string{"SYSLIB_CHILD_PARENT_NOT_FOUND"}},
		{"a parent the caller may not read", user("dev", "stranger"), "parent", systems.ChildInput{EffectiveUserID: "l", RootDir: "/r"}, systems.ErrForbidden,
			[]string{"SYSLIB_UNAUTH"}},
		{"a parent without children and no login", alice, "leaf", systems.ChildInput{RootDir: "/r"}, systems.ErrInvalid,
			[]string{"SYSLIB_CHILD_NOT_PERMITTED", "SYSLIB_CREATE_MISSING_ATTR"}},
		{"an id taken is a 400", alice, "parent", systems.ChildInput{ID: "leaf", EffectiveUserID: "l", RootDir: "/r"}, systems.ErrInvalid,
			[]string{"SYSAPI_SYS_EXISTS"}},
		{"a reserved id", alice, "parent", systems.ChildInput{ID: "search", EffectiveUserID: "l", RootDir: "/r"}, systems.ErrInvalid,
			[]string{"SYSAPI_CREATE_RESERVED"}},
		{"a child needs a rootDir", alice, "parent", systems.ChildInput{ID: "noroot", EffectiveUserID: "l"}, systems.ErrInvalid,
			[]string{"SYSLIB_NOROOTDIR"}},
		{"for another owner", bob, "parent", systems.ChildInput{ID: "for-alice", Owner: "alice", EffectiveUserID: "l", RootDir: "/r"}, systems.ErrForbidden,
			[]string{"SYSLIB_UNAUTH"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.svc.CreateChild(ctx, tc.p, tc.parent, tc.in)
			refusedWith(t, err, tc.kind, tc.keys[0])
			for _, k := range tc.keys[1:] {
				assert.Contains(t, err.Error(), k)
			}
		})
	}
	for _, id := range []string{"noroot", "for-alice", "search"} {
		h.absent(t, "dev", id)
	}
}

func TestUnlinkChildren(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	alice := user("dev", "alice")
	parent := newSystem("parent")
	parent.AllowChildren = true
	h.create(t, alice, parent)
	h.create(t, alice, newSystem("standalone"))
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		_, err := h.svc.CreateChild(ctx, alice, "parent", systems.ChildInput{ID: id, EffectiveUserID: "l", RootDir: "/r"})
		require.NoError(t, err)
	}
	linked := func(id string) bool { return h.stored(t, "dev", id).ParentID == "parent" }

	n, err := h.svc.UnlinkFromParent(ctx, alice, "c1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.False(t, linked("c1"))
	n, err = h.svc.UnlinkFromParent(ctx, alice, "standalone")
	require.NoError(t, err)
	assert.Equal(t, 0, n, "a system without a parent is no change")
	hist, err := h.svc.History(ctx, alice, "c1")
	require.NoError(t, err)
	assert.Equal(t, []string{systems.OpCreate, systems.OpModify}, ops(hist))

	_, err = h.svc.UnlinkChildren(ctx, alice, "parent", nil, false)
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CHILD_NO_IDS")
	_, err = h.svc.UnlinkChildren(ctx, alice, "parent", []string{"c2", "standalone"}, false)
	refusedWith(t, err, systems.ErrNotFound, "SYSLIB_CHILD_CHILD_NOT_FOUND")
	assert.True(t, linked("c2"), "nothing is unlinked when one id is not a child")
	_, err = h.svc.UnlinkChildren(ctx, user("dev", "stranger"), "parent", nil, true)
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")

	n, err = h.svc.UnlinkChildren(ctx, alice, "parent", []string{"c2", "c2"}, false)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "a repeated id counts once")
	n, err = h.svc.UnlinkChildren(ctx, alice, "parent", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.False(t, linked("c3"))
	assert.False(t, linked("c4"))
	n, err = h.svc.UnlinkChildren(ctx, alice, "parent", nil, true)
	require.NoError(t, err)
	assert.Equal(t, 0, n)
	no := false
	_, err = h.svc.Patch(ctx, alice, "parent", systems.Patch{AllowChildren: &no})
	assert.NoError(t, err, "without children allowChildren may go false")
}
