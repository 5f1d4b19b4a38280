package systems_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
)

// PATCH, child re-sync and the version check of every update.

func TestPatch(t *testing.T) {
	keys := &hostKeys{}
	h := newHarness(t, func(c *systems.Config) { c.HostKeys = keys })
	ctx := context.Background()
	alice := user("dev", "alice")
	orig := newSystem("sys")
	orig.Description, orig.Tags = "before", []string{"a"}
	h.create(t, alice, orig)

	desc := "after"
	s, err := h.svc.Patch(ctx, alice, "sys", systems.Patch{Description: &desc})
	require.NoError(t, err)
	assert.Equal(t, "after", s.Description)
	assert.Equal(t, []string{"a"}, s.Tags, "what the patch does not name stays")
	assert.Equal(t, "host.example.org", s.Host)
	assert.Empty(t, keys.deleted)

	_, err = h.svc.Patch(ctx, alice, "sys", systems.Patch{Description: &desc, Immutable: []string{"owner", "systemType"}})
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_UPDATE_IMMUTABLE")
	assert.Contains(t, err.Error(), "owner, systemType")

	yes := true
	_, err = h.svc.Patch(ctx, alice, "sys", systems.Patch{CanRunBatch: &yes})
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_ISBATCH_NOSCHED")
	prof := "nosuch"
	_, err = h.svc.Patch(ctx, alice, "sys", systems.Patch{BatchSchedulerProfile: &prof})
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_PRF_NO_PROFILE")
	_, err = h.svc.Patch(ctx, user("dev", "bob"), "sys", systems.Patch{Description: &prof})
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
	assert.Equal(t, "after", h.stored(t, "dev", "sys").Description, "refused patches change nothing")
	assert.False(t, h.stored(t, "dev", "sys").CanRunBatch)
}

// TestPatchParentAndChild: a child accepts only effectiveUserId; a patched
// parent re-syncs its children in the same write, which keep their own
// identity, owner, login and rootDir and stay leaves.
func TestPatchParentAndChild(t *testing.T) {
	keys := &hostKeys{}
	h := newHarness(t, func(c *systems.Config) { c.HostKeys = keys })
	ctx := context.Background()
	alice := user("dev", "alice")
	parent := newSystem("parent")
	parent.AllowChildren = true
	h.create(t, alice, parent)
	child, err := h.svc.CreateChild(ctx, alice, "parent", systems.ChildInput{EffectiveUserID: "alice_login", RootDir: "/child"})
	require.NoError(t, err)
	require.Equal(t, "parent-alice", child.ID)

	host, login := "moved.example.org", "other_login"
	_, err = h.svc.Patch(ctx, alice, child.ID, systems.Patch{Host: &host, EffectiveUserID: &login})
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CHILD_PATCH_ERROR")
	assert.Contains(t, err.Error(), "not host")
	c, err := h.svc.Patch(ctx, alice, child.ID, systems.Patch{EffectiveUserID: &login})
	require.NoError(t, err)
	assert.Equal(t, "other_login", c.EffectiveUserID)
	_, err = h.svc.Put(ctx, alice, child.ID, systems.Defaults(), nil, false)
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CHILD_PUT_NOT_ALLOWED")

	no := false
	_, err = h.svc.Patch(ctx, alice, "parent", systems.Patch{AllowChildren: &no})
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CHILD_HAS_CHILD_ERROR")
	put := systems.Defaults()
	put.Host, put.DefaultAuthnMethod = "host.example.org", systems.AuthnPassword
	_, err = h.svc.Put(ctx, alice, "parent", put, nil, false)
	refusedWith(t, err, systems.ErrInvalid, "SYSLIB_CHILD_ALLOW_CONFLICT_ERROR")

	desc := "synced"
	_, err = h.svc.Patch(ctx, alice, "parent", systems.Patch{Host: &host, Description: &desc})
	require.NoError(t, err)
	got := h.stored(t, "dev", child.ID)
	assert.Equal(t, "moved.example.org", got.Host)
	assert.Equal(t, "synced", got.Description)
	assert.Equal(t, child.UUID, got.UUID)
	assert.Equal(t, "other_login", got.EffectiveUserID)
	assert.Equal(t, "/child", got.RootDir)
	assert.Equal(t, "parent", got.ParentID)
	assert.False(t, got.AllowChildren)
	assert.ElementsMatch(t, []string{"dev/parent", "dev/parent-alice"}, keys.deleted, "the parent's and the child's pinned keys go")
}

// TestConcurrentUpdateIsAConflict: an update whose read version is no
// longer the stored one is a 409, and nothing is written.
func TestConcurrentUpdateIsAConflict(t *testing.T) {
	h := newHarness(t, func(c *systems.Config) { c.Store = staleStore{c.Store} })
	ctx := context.Background()
	alice := user("dev", "alice")
	h.create(t, alice, newSystem("sys"))
	desc := "lost"
	_, err := h.svc.Patch(ctx, alice, "sys", systems.Patch{Description: &desc})
	refusedWith(t, err, systems.ErrConflict, "SYSLIB_UPDATE_CONFLICT")
	_, err = h.svc.Put(ctx, alice, "sys", newSystem("sys"), nil, false)
	refusedWith(t, err, systems.ErrConflict, "SYSLIB_UPDATE_CONFLICT")
	_, err = h.svc.Disable(ctx, alice, "sys")
	refusedWith(t, err, systems.ErrConflict, "SYSLIB_UPDATE_CONFLICT")
	_, err = h.svc.ChangeOwner(ctx, alice, "sys", "bob")
	refusedWith(t, err, systems.ErrConflict, "SYSLIB_UPDATE_CONFLICT")
	s := h.stored(t, "dev", "sys")
	assert.EqualValues(t, 1, s.Version)
	assert.True(t, s.Enabled)
	assert.Equal(t, "alice", s.Owner)
}
