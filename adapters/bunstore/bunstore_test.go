package bunstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/oauth2/oauth2test"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// backend opens a fresh, migrated, empty store for one sub-test.
type backend func(t *testing.T) *bunstore.Store

// sqliteFile is a new database file in the test's temporary directory.
func sqliteFile(t *testing.T) *bunstore.Store {
	t.Helper()
	return openMigrated(t, "sqlite:"+filepath.Join(t.TempDir(), "tapis.db"))
}

// sqliteMemory is a private in-memory database.
func sqliteMemory(t *testing.T) *bunstore.Store {
	t.Helper()
	return openMigrated(t, "sqlite::memory:")
}

func openMigrated(t *testing.T, dsn string) *bunstore.Store {
	t.Helper()
	ctx := context.Background()
	st, err := bunstore.Open(ctx, dsn)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, st.Close()) })
	require.NoError(t, st.Migrate(ctx))
	return st
}

// pgTestMaxConns bounds the pool of each PostgreSQL test store.
const pgTestMaxConns = 16

// postgres returns a backend that gives each store a schema of its own in the
// database of TAPIS_TEST_POSTGRES_DSN, dropped when the sub-test ends; it
// skips the test when the variable is not set.
func postgres(t *testing.T) backend {
	if os.Getenv("TAPIS_TEST_POSTGRES_DSN") == "" {
		t.Skip("TAPIS_TEST_POSTGRES_DSN not set: PostgreSQL conformance skipped")
	}
	return func(t *testing.T) *bunstore.Store {
		t.Helper()
		st := openMigrated(t, testenv.PostgresSchemaDSN(t))
		// database/sql pools are unbounded: 100 parallel redemptions would
		// open 100 connections and exceed the server's max_connections
		// (100 by default, some reserved). A deployment bounds its pool the
		// same way.
		st.DB().SetMaxOpenConns(pgTestMaxConns)
		return st
	}
}

// migrationVersions lists the versions of the migration files (both
// dialects have the same ones), in order.
func migrationVersions(t *testing.T) []int64 {
	t.Helper()
	var out []int64
	for _, dir := range []string{"migrations/sqlite", "migrations/postgres"} {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		var versions []int64
		for _, e := range entries {
			prefix, _, _ := strings.Cut(e.Name(), "_")
			v, err := strconv.ParseInt(prefix, 10, 64)
			require.NoError(t, err, e.Name())
			versions = append(versions, v)
		}
		if out != nil {
			require.Equal(t, out, versions, "both dialects have the same migrations")
		}
		out = versions
	}
	return out
}

func runConformance(t *testing.T, open backend) {
	t.Run("tenancy", func(t *testing.T) {
		tenancytest.RunStoreTests(t, func(t *testing.T) tenancy.Store { return open(t) })
	})
	t.Run("mirror", func(t *testing.T) {
		tenancytest.RunSnapshotStoreTests(t, func(t *testing.T) tenancy.SnapshotStore { return open(t) })
	})
	t.Run("oauth2", func(t *testing.T) {
		oauth2test.RunStoreTests(t, func(t *testing.T) oauth2.Store { return open(t) })
	})
	t.Run("auth", func(t *testing.T) {
		oauth2test.RunAuthStoreTests(t, func(t *testing.T) oauth2.AuthStore { return open(t) })
	})
	t.Run("attempts", func(t *testing.T) {
		oauth2test.RunAttemptStoreTests(t, func(t *testing.T) oauth2.AttemptStore { return open(t) })
	})
	t.Run("extra", func(t *testing.T) { runExtra(t, open) })
}

func TestSQLiteFile(t *testing.T)   { runConformance(t, sqliteFile) }
func TestSQLiteMemory(t *testing.T) { runConformance(t, sqliteMemory) }
func TestPostgres(t *testing.T)     { runConformance(t, postgres(t)) }

// runExtra checks what the shared suites do not: migrations, concurrency and
// value normalization.
func runExtra(t *testing.T, open backend) {
	t.Run("MigrateIsIdempotent", func(t *testing.T) {
		ctx := context.Background()
		st := open(t)
		require.NoError(t, st.Migrate(ctx))
		require.NoError(t, st.Migrate(ctx))
		var versions []int64
		require.NoError(t, st.DB().NewSelect().Table("schema_migrations").Column("version").
			Order("version").Scan(ctx, &versions))
		assert.Equal(t, migrationVersions(t), versions, "each migration is recorded once")
	})
	t.Run("ConcurrentTenantUpdates", func(t *testing.T) { testConcurrentUpdates(t, open(t)) })
	t.Run("ConcurrentKeyRotations", func(t *testing.T) { testConcurrentRotations(t, open(t)) })
	t.Run("TimeNormalization", func(t *testing.T) { testTimeNormalization(t, open(t)) })
	t.Run("auth", func(t *testing.T) { runAuthExtra(t, open) })
}

// testConcurrentUpdates runs read-modify-write updates from several
// goroutines: none may fail (SQLite: BEGIN IMMEDIATE + busy_timeout;
// PostgreSQL: row lock) and none may be lost.
func testConcurrentUpdates(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	require.NoError(t, st.CreateSite(ctx, tenancytest.Site("s1", true)))
	require.NoError(t, st.CreateOwner(ctx, tenancytest.Owner("o@x.test")))
	require.NoError(t, st.CreateTenant(ctx, tenancytest.Tenant("dev", "s1", "o@x.test")))
	const workers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				_, err := st.UpdateTenant(ctx, "dev", func(tn *tenancy.Tenant) (tenancy.TenantHistory, error) {
					tn.TokenGenServices = append(tn.TokenGenServices, fmt.Sprintf("w%d-%d", w, r))
					return tenancy.TenantHistory{TenantID: "dev", UpdateTime: tenancytest.When, UpdatedBy: "test",
						Updates: map[string]tenancy.Change{"token_gen_services": {New: len(tn.TokenGenServices)}}}, nil
				})
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := st.GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.Len(t, got.TokenGenServices, 1+workers*rounds, "no lost update")
	hist, err := st.TenantHistory(ctx, "dev")
	require.NoError(t, err)
	assert.Len(t, hist, workers*rounds)
}

// testConcurrentRotations rotates one tenant's key from several goroutines:
// every key is stored and exactly one stays current.
func testConcurrentRotations(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- st.RotateSigningKey(ctx, oauth2.SigningKey{TenantID: "dev", KID: fmt.Sprintf("k%d", w),
				PublicKeyPEM: "pem", Created: tenancytest.When.Add(time.Duration(w) * time.Second)}, tenancytest.When.Add(time.Hour))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	keys, err := st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	require.Len(t, keys, workers)
	current := 0
	for _, k := range keys {
		if k.Current() {
			current++
		}
	}
	assert.Equal(t, 1, current)
}

// testTimeNormalization stores times with nanoseconds in another zone: they
// come back in UTC, truncated to microseconds, the same on every dialect.
func testTimeNormalization(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	zone := time.FixedZone("UTC-5", -5*3600)
	in := time.Date(2026, 1, 2, 3, 4, 5, 123456789, zone)
	require.NoError(t, st.PutAccount(ctx, oauth2.Account{TenantID: "dev", Username: "u", Type: tenancy.AccountUser,
		PasswordHash: []byte("h"), Created: in}))
	got, err := st.GetAccount(ctx, "dev", "u")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2026, 1, 2, 8, 4, 5, 123456000, time.UTC), got.Created)
	assert.Equal(t, time.UTC, got.Created.Location())
}

func TestOpenRejectsBadDSN(t *testing.T) {
	ctx := context.Background()
	_, err := bunstore.Open(ctx, "mysql://x")
	assert.Error(t, err)
	_, err = bunstore.Open(ctx, "postgres://user:s3cret@%zz/db")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cret", "the password is never echoed")
	_, err = bunstore.Open(ctx, "sqlite:")
	assert.Error(t, err)
}
