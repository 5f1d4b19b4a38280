package systemstest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
)

// RunAccessStoreTests runs the conformance suite of systems.AccessStore
// against fresh stores from newStore.
func RunAccessStoreTests(t *testing.T, newStore func(t *testing.T) systems.AccessStore) {
	ctx := context.Background()
	R, M, X := systems.PermRead, systems.PermModify, systems.PermExecute
	t.Run("grant, read back in canonical order, revoke", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.GrantPerms(ctx, "dev", "s1", "u1", []systems.Permission{X, R}))
		require.NoError(t, st.GrantPerms(ctx, "dev", "s1", "u1", []systems.Permission{M, R}))
		got, err := st.UserPerms(ctx, "dev", "s1", "u1")
		require.NoError(t, err)
		assert.Equal(t, []systems.Permission{R, M, X}, got)
		require.NoError(t, st.RevokePerms(ctx, "dev", "s1", "u1", []systems.Permission{M, X}))
		got, err = st.UserPerms(ctx, "dev", "s1", "u1")
		require.NoError(t, err)
		assert.Equal(t, []systems.Permission{R}, got)
		require.NoError(t, st.RevokePerms(ctx, "dev", "s1", "u1", []systems.Permission{R, M}), "revoking absent perms is fine")
		got, err = st.UserPerms(ctx, "dev", "s1", "u1")
		require.NoError(t, err)
		assert.NotNil(t, got)
		assert.Empty(t, got)
	})
	t.Run("tenant, system and user isolation", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.GrantPerms(ctx, "dev", "s1", "u1", []systems.Permission{R}))
		for _, k := range [][3]string{{"other", "s1", "u1"}, {"dev", "s2", "u1"}, {"dev", "s1", "u2"}} {
			got, err := st.UserPerms(ctx, k[0], k[1], k[2])
			require.NoError(t, err)
			assert.Empty(t, got, "%v", k)
		}
		ids, err := st.AccessibleSystems(ctx, "other", "u1")
		require.NoError(t, err)
		assert.Empty(t, ids, "a permission in dev lists nothing in other")
		require.NoError(t, st.AddShares(ctx, "dev", "s1", "owner", []string{"u3", systems.PublicGrantee}))
		sh, err := st.Shares(ctx, "other", "s1")
		require.NoError(t, err)
		assert.Empty(t, sh)
		ids, err = st.AccessibleSystems(ctx, "other", "u3")
		require.NoError(t, err)
		assert.Empty(t, ids)
		ids, err = st.PublicSystems(ctx, "other")
		require.NoError(t, err)
		assert.Empty(t, ids)
	})
	t.Run("purge removes every user's permissions on one system", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.GrantPerms(ctx, "dev", "s1", "u1", []systems.Permission{R}))
		require.NoError(t, st.GrantPerms(ctx, "dev", "s1", "u2", []systems.Permission{X}))
		require.NoError(t, st.GrantPerms(ctx, "dev", "s2", "u1", []systems.Permission{R}))
		require.NoError(t, st.GrantPerms(ctx, "other", "s1", "u1", []systems.Permission{R}))
		require.NoError(t, st.PurgeSystemPerms(ctx, "dev", "s1"))
		for _, k := range [][3]string{{"dev", "s1", "u1"}, {"dev", "s1", "u2"}} {
			got, err := st.UserPerms(ctx, k[0], k[1], k[2])
			require.NoError(t, err)
			assert.Empty(t, got)
		}
		for _, k := range [][3]string{{"dev", "s2", "u1"}, {"other", "s1", "u1"}} {
			got, err := st.UserPerms(ctx, k[0], k[1], k[2])
			require.NoError(t, err)
			assert.Equal(t, []systems.Permission{R}, got, "%v untouched", k)
		}
	})
	t.Run("shares: first grantor kept, removal by anyone, ordered", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.AddShares(ctx, "dev", "s1", "owner", []string{"u2", "u1"}))
		require.NoError(t, st.AddShares(ctx, "dev", "s1", "mod", []string{"u1", "u3"}))
		sh, err := st.Shares(ctx, "dev", "s1")
		require.NoError(t, err)
		assert.Equal(t, []systems.Share{{Grantee: "u1", Grantor: "owner"}, {Grantee: "u2", Grantor: "owner"}, {Grantee: "u3", Grantor: "mod"}}, sh)
		require.NoError(t, st.RemoveShares(ctx, "dev", "s1", []string{"u1", "nobody"}))
		sh, err = st.Shares(ctx, "dev", "s1")
		require.NoError(t, err)
		assert.Equal(t, []systems.Share{{Grantee: "u2", Grantor: "owner"}, {Grantee: "u3", Grantor: "mod"}}, sh)
		empty, err := st.Shares(ctx, "dev", "s9")
		require.NoError(t, err)
		assert.NotNil(t, empty)
	})
	t.Run("shares of several systems at once", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.AddShares(ctx, "dev", "s1", "owner", []string{"u2", systems.PublicGrantee, "u1"}))
		require.NoError(t, st.AddShares(ctx, "dev", "s2", "mod", []string{"u3"}))
		require.NoError(t, st.AddShares(ctx, "dev", "s4", "owner", []string{"u9"}))
		require.NoError(t, st.AddShares(ctx, "other", "s3", "owner", []string{"u1"}))
		got, err := st.SharesOf(ctx, "dev", []string{"s2", "s1", "s3", "s1"})
		require.NoError(t, err)
		assert.Equal(t, map[string][]systems.Share{
			"s1": {{Grantee: "u1", Grantor: "owner"}, {Grantee: "u2", Grantor: "owner"}, {Grantee: systems.PublicGrantee, Grantor: "owner"}},
			"s2": {{Grantee: "u3", Grantor: "mod"}},
		}, got, "each system's shares by grantee; s3 is another tenant's, s4 was not asked for")
		for i, id := range []string{"s1", "s2"} {
			one, err := st.Shares(ctx, "dev", id)
			require.NoError(t, err)
			assert.Equal(t, one, got[id], "same answer as Shares (%d)", i)
		}
		empty, err := st.SharesOf(ctx, "dev", nil)
		require.NoError(t, err)
		assert.NotNil(t, empty)
		assert.Empty(t, empty)
	})
	t.Run("accessible and public systems", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.GrantPerms(ctx, "dev", "b-read", "u1", []systems.Permission{R}))
		require.NoError(t, st.GrantPerms(ctx, "dev", "c-modify", "u1", []systems.Permission{M}))
		require.NoError(t, st.GrantPerms(ctx, "dev", "x-exec", "u1", []systems.Permission{X}))
		require.NoError(t, st.AddShares(ctx, "dev", "a-shared", "o", []string{"u1"}))
		require.NoError(t, st.AddShares(ctx, "dev", "d-public", "o", []string{systems.PublicGrantee}))
		require.NoError(t, st.AddShares(ctx, "dev", "e-other", "o", []string{"u2"}))
		ids, err := st.AccessibleSystems(ctx, "dev", "u1")
		require.NoError(t, err)
		assert.Equal(t, []string{"a-shared", "b-read", "c-modify", "d-public"}, ids, "EXECUTE alone does not list a system")
		pub, err := st.PublicSystems(ctx, "dev")
		require.NoError(t, err)
		assert.Equal(t, []string{"d-public"}, pub)
	})
	t.Run("login users: set, replace, remove, isolated", func(t *testing.T) {
		st := newStore(t)
		got, err := st.LoginUser(ctx, "dev", "s1", "u1")
		require.NoError(t, err)
		assert.Empty(t, got)
		require.NoError(t, st.SetLoginUser(ctx, "dev", "s1", "u1", "linux1"))
		require.NoError(t, st.SetLoginUser(ctx, "dev", "s1", "u1", "linux2"))
		got, err = st.LoginUser(ctx, "dev", "s1", "u1")
		require.NoError(t, err)
		assert.Equal(t, "linux2", got, "replaced")
		for _, k := range [][3]string{{"other", "s1", "u1"}, {"dev", "s2", "u1"}, {"dev", "s1", "u2"}} {
			got, err := st.LoginUser(ctx, k[0], k[1], k[2])
			require.NoError(t, err)
			assert.Empty(t, got, "%v", k)
		}
		require.NoError(t, st.SetLoginUser(ctx, "dev", "s1", "u1", ""))
		got, err = st.LoginUser(ctx, "dev", "s1", "u1")
		require.NoError(t, err)
		assert.Empty(t, got, "removed")
		require.NoError(t, st.SetLoginUser(ctx, "dev", "s1", "u1", ""), "removing nothing is fine")
	})
	t.Run("login users of several systems at once", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.SetLoginUser(ctx, "dev", "s1", "u1", "linux1"))
		require.NoError(t, st.SetLoginUser(ctx, "dev", "s2", "u1", "linux2"))
		require.NoError(t, st.SetLoginUser(ctx, "dev", "s3", "u2", "linux3"))
		require.NoError(t, st.SetLoginUser(ctx, "other", "s4", "u1", "linux4"))
		require.NoError(t, st.SetLoginUser(ctx, "dev", "s5", "u1", "linux5"))
		got, err := st.LoginUsers(ctx, "dev", "u1", []string{"s1", "s2", "s3", "s4", "s2"})
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"s1": "linux1", "s2": "linux2"}, got,
			"s3 maps another user, s4 is another tenant's, s5 was not asked for")
		empty, err := st.LoginUsers(ctx, "dev", "u1", nil)
		require.NoError(t, err)
		assert.NotNil(t, empty)
		assert.Empty(t, empty)
	})
}
