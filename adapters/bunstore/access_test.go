package bunstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun/dialect"

	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

func runAccess(t *testing.T, open backend) {
	t.Run("conformance", func(t *testing.T) {
		systemstest.RunAccessStoreTests(t, func(t *testing.T) systems.AccessStore { return open(t) })
	})
	t.Run("extra", func(t *testing.T) { runAccessExtra(t, open) })
}

func TestAccessSQLiteFile(t *testing.T) { runAccess(t, sqliteFile) }

// TestAccessPostgres skips unless TAPIS_TEST_POSTGRES_DSN is set.
func TestAccessPostgres(t *testing.T) { runAccess(t, postgres(t)) }

// runAccessExtra checks what the shared suite does not: byte order of ids
// and grantees, unknown permissions, writes scoped by the tenant argument,
// concurrent idempotent writes and long lists.
func runAccessExtra(t *testing.T, open backend) {
	ctx := context.Background()
	R, M, X := systems.PermRead, systems.PermModify, systems.PermExecute

	t.Run("ByteOrder", func(t *testing.T) {
		// Upper case before lower case and punctuation where bytes put it,
		// whatever the database locale.
		st := open(t)
		ids := []string{"b", "B", "a-1", "a_1", "A", "a.1", "Z"}
		for _, id := range ids {
			require.NoError(t, st.GrantPerms(ctx, "dev", id, "u1", []systems.Permission{R}))
			require.NoError(t, st.AddShares(ctx, "dev", id, "o", []string{systems.PublicGrantee}))
		}
		want := slices.Clone(ids)
		slices.Sort(want)
		got, err := st.AccessibleSystems(ctx, "dev", "u1")
		require.NoError(t, err)
		assert.Equal(t, want, got)
		got, err = st.PublicSystems(ctx, "dev")
		require.NoError(t, err)
		assert.Equal(t, want, got)

		require.NoError(t, st.AddShares(ctx, "dev", "s", "o", ids))
		sh, err := st.Shares(ctx, "dev", "s")
		require.NoError(t, err)
		var grantees []string
		for _, s := range sh {
			grantees = append(grantees, s.Grantee)
		}
		assert.Equal(t, want, grantees)

		// A C.UTF-8 test cluster sorts like bytes anyway: check the columns
		// themselves, so that a locale-dependent default cannot slip in.
		if st.DB().Dialect().Name() == dialect.PG {
			var colls []string
			require.NoError(t, st.DB().NewRaw(`SELECT table_name || '.' || column_name || '=' || COALESCE(collation_name, '')
				FROM information_schema.columns
				WHERE table_schema = current_schema() AND table_name IN ('system_perms', 'system_shares')
					AND data_type = 'text'
				ORDER BY 1`).Scan(ctx, &colls))
			assert.Equal(t, []string{
				"system_perms.perm=C", "system_perms.system_id=C", "system_perms.tenant=C", "system_perms.user_name=C",
				"system_shares.grantee=C", "system_shares.grantor=C", "system_shares.system_id=C", "system_shares.tenant=C",
			}, colls)
		}
	})

	t.Run("AccessibleOnceEach", func(t *testing.T) {
		// A system reached by permissions, a direct share and a public share
		// is listed once.
		st := open(t)
		require.NoError(t, st.GrantPerms(ctx, "dev", "s", "u1", []systems.Permission{R, M, X}))
		require.NoError(t, st.AddShares(ctx, "dev", "s", "o", []string{"u1", systems.PublicGrantee}))
		got, err := st.AccessibleSystems(ctx, "dev", "u1")
		require.NoError(t, err)
		assert.Equal(t, []string{"s"}, got)
		got, err = st.AccessibleSystems(ctx, "dev", "nobody")
		require.NoError(t, err)
		assert.Equal(t, []string{"s"}, got, "public shares reach every user")
		got, err = st.AccessibleSystems(ctx, "dev", systems.PublicGrantee)
		require.NoError(t, err)
		assert.Equal(t, []string{"s"}, got)
	})

	t.Run("EmptyResultsAreNonNil", func(t *testing.T) {
		st := open(t)
		perms, err := st.UserPerms(ctx, "dev", "s", "u1")
		require.NoError(t, err)
		assert.NotNil(t, perms)
		ids, err := st.AccessibleSystems(ctx, "dev", "u1")
		require.NoError(t, err)
		assert.NotNil(t, ids)
		ids, err = st.PublicSystems(ctx, "dev")
		require.NoError(t, err)
		assert.NotNil(t, ids)
	})

	t.Run("UnknownPermission", func(t *testing.T) {
		st := open(t)
		err := st.GrantPerms(ctx, "dev", "s", "u1", []systems.Permission{R, "ADMIN"})
		require.ErrorIs(t, err, systems.ErrInvalid)
		got, err := st.UserPerms(ctx, "dev", "s", "u1")
		require.NoError(t, err)
		assert.Empty(t, got, "nothing written")
		require.NoError(t, st.GrantPerms(ctx, "dev", "s", "u1", []systems.Permission{R}))
		require.ErrorIs(t, st.RevokePerms(ctx, "dev", "s", "u1", []systems.Permission{R, "read"}), systems.ErrInvalid)
		got, err = st.UserPerms(ctx, "dev", "s", "u1")
		require.NoError(t, err)
		assert.Equal(t, []systems.Permission{R}, got, "nothing removed")
		// The schema backs the check up for writers that bypass the store.
		_, err = st.DB().ExecContext(ctx,
			`INSERT INTO system_perms (tenant, system_id, user_name, perm) VALUES ('dev', 's', 'u1', 'ADMIN')`)
		require.Error(t, err)
	})

	t.Run("EmptyAndRepeatedArguments", func(t *testing.T) {
		st := open(t)
		require.NoError(t, st.GrantPerms(ctx, "dev", "s", "u1", nil))
		require.NoError(t, st.RevokePerms(ctx, "dev", "s", "u1", []systems.Permission{}))
		require.NoError(t, st.AddShares(ctx, "dev", "s", "o", nil))
		require.NoError(t, st.RemoveShares(ctx, "dev", "s", nil))
		require.NoError(t, st.GrantPerms(ctx, "dev", "s", "u1", []systems.Permission{X, X, R, X}))
		got, err := st.UserPerms(ctx, "dev", "s", "u1")
		require.NoError(t, err)
		assert.Equal(t, []systems.Permission{R, X}, got)
		require.NoError(t, st.AddShares(ctx, "dev", "s", "o", []string{"u2", "u2", "u1"}))
		sh, err := st.Shares(ctx, "dev", "s")
		require.NoError(t, err)
		assert.Equal(t, []systems.Share{{Grantee: "u1", Grantor: "o"}, {Grantee: "u2", Grantor: "o"}}, sh)
		require.NoError(t, st.RemoveShares(ctx, "dev", "s", []string{"u2", "u2"}))
		sh, err = st.Shares(ctx, "dev", "s")
		require.NoError(t, err)
		assert.Equal(t, []systems.Share{{Grantee: "u1", Grantor: "o"}}, sh)
	})

	t.Run("WritesAreScopedByTenant", func(t *testing.T) {
		st := open(t)
		require.NoError(t, st.GrantPerms(ctx, "dev", "s", "u1", []systems.Permission{R, X}))
		require.NoError(t, st.AddShares(ctx, "dev", "s", "o", []string{"u2", systems.PublicGrantee}))
		require.NoError(t, st.RevokePerms(ctx, "other", "s", "u1", systems.AllPermissions()))
		require.NoError(t, st.PurgeSystemPerms(ctx, "other", "s"))
		require.NoError(t, st.RemoveShares(ctx, "other", "s", []string{"u2", systems.PublicGrantee}))
		require.NoError(t, st.AddShares(ctx, "other", "s", "mallory", []string{"u2"}))
		got, err := st.UserPerms(ctx, "dev", "s", "u1")
		require.NoError(t, err)
		assert.Equal(t, []systems.Permission{R, X}, got)
		sh, err := st.Shares(ctx, "dev", "s")
		require.NoError(t, err)
		assert.Equal(t, []systems.Share{{Grantee: "u2", Grantor: "o"}, {Grantee: systems.PublicGrantee, Grantor: "o"}}, sh)
		sh, err = st.Shares(ctx, "other", "s")
		require.NoError(t, err)
		assert.Equal(t, []systems.Share{{Grantee: "u2", Grantor: "mallory"}}, sh)
	})

	t.Run("ConcurrentIdempotentWrites", func(t *testing.T) {
		// Grants and shares of the same rows from several goroutines all
		// succeed; one share survives, with one of the grantors.
		st := open(t)
		const workers = 8
		var wg sync.WaitGroup
		errs := make(chan error, 2*workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- st.GrantPerms(ctx, "dev", "s", "u1", []systems.Permission{X, R, M})
				errs <- st.AddShares(ctx, "dev", "s", fmt.Sprintf("g%d", w), []string{"u2", systems.PublicGrantee})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got, err := st.UserPerms(ctx, "dev", "s", "u1")
		require.NoError(t, err)
		assert.Equal(t, []systems.Permission{R, M, X}, got)
		sh, err := st.Shares(ctx, "dev", "s")
		require.NoError(t, err)
		require.Len(t, sh, 2)
		assert.Equal(t, "u2", sh[0].Grantee)
		assert.Equal(t, systems.PublicGrantee, sh[1].Grantee)
		assert.Regexp(t, `^g[0-9]$`, sh[0].Grantor)
	})

	t.Run("LongGranteeLists", func(t *testing.T) {
		// bun inlines values: a list is not bounded by the number of bind
		// variables (32766 in SQLite, 65535 in PostgreSQL).
		// 7000 shares are 35000 values in one INSERT; the unshare names
		// 70001 grantees, most of them absent.
		st := open(t)
		grantees := make([]string, 70001)
		for i := range grantees {
			grantees[i] = fmt.Sprintf("u%05d", i)
		}
		require.NoError(t, st.AddShares(ctx, "dev", "s", "o", grantees[:7000]))
		sh, err := st.Shares(ctx, "dev", "s")
		require.NoError(t, err)
		require.Len(t, sh, 7000)
		assert.Equal(t, "u00000", sh[0].Grantee)
		assert.Equal(t, "u06999", sh[len(sh)-1].Grantee)
		require.NoError(t, st.RemoveShares(ctx, "dev", "s", grantees[1:]))
		sh, err = st.Shares(ctx, "dev", "s")
		require.NoError(t, err)
		assert.Equal(t, []systems.Share{{Grantee: "u00000", Grantor: "o"}}, sh)
	})
}
