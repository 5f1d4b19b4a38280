package bunstore_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/cluster"
	"github.com/tapis-go/tapis/cluster/clustertest"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// pair opens two stores on one database: two instances (two processes on
// one SQLite file, two servers on one PostgreSQL schema).
type pair func(t *testing.T) (a, b *bunstore.Store)

func sqliteFilePair(t *testing.T) (*bunstore.Store, *bunstore.Store) {
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "tapis.db")
	return openMigrated(t, dsn), openMigrated(t, dsn)
}

func postgresPair(t *testing.T) pair {
	if os.Getenv("TAPIS_TEST_POSTGRES_DSN") == "" {
		t.Skip("TAPIS_TEST_POSTGRES_DSN not set: PostgreSQL cluster conformance skipped")
	}
	return func(t *testing.T) (*bunstore.Store, *bunstore.Store) {
		dsn := testenv.PostgresSchemaDSN(t)
		a, b := openMigrated(t, dsn), openMigrated(t, dsn)
		a.DB().SetMaxOpenConns(pgTestMaxConns)
		b.DB().SetMaxOpenConns(pgTestMaxConns)
		return a, b
	}
}

// memoryPair is one in-memory SQLite database: one process, so the same
// store twice.
func memoryPair(t *testing.T) (*bunstore.Store, *bunstore.Store) {
	st := sqliteMemory(t)
	return st, st
}

func runCluster(t *testing.T, open pair) {
	t.Run("feed", func(t *testing.T) {
		clustertest.RunFeedTests(t, func(t *testing.T) (cluster.Feed, cluster.Feed) { return open(t) })
	})
	t.Run("locker", func(t *testing.T) {
		clustertest.RunLockerTests(t, func(t *testing.T) (cluster.Locker, cluster.Locker) { return open(t) })
	})
	t.Run("canary", func(t *testing.T) {
		clustertest.RunCanaryTests(t, func(t *testing.T) cluster.CanaryStore { a, _ := open(t); return a })
	})
	t.Run("extra", func(t *testing.T) { runClusterExtra(t, open) })
}

func TestClusterSQLiteFile(t *testing.T)   { runCluster(t, sqliteFilePair) }
func TestClusterSQLiteMemory(t *testing.T) { runCluster(t, memoryPair) }
func TestClusterPostgres(t *testing.T)     { runCluster(t, postgresPair(t)) }

// runClusterExtra checks what the shared suites cannot: the rows behind
// the feed, and what counts as sealed data.
func runClusterExtra(t *testing.T, open pair) {
	ctx := context.Background()
	t.Run("purge deletes old rows but the newest, and a lagging reader resyncs", func(t *testing.T) {
		a, b := open(t)
		for _, k := range []string{"1", "2", "3"} {
			require.NoError(t, a.PublishChange(ctx, cluster.Change{Kind: "registry", Key: k}))
		}
		n, err := a.PurgeChanges(ctx, time.Now().Add(-time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 0, n, "nothing is an hour old")
		n, err = a.PurgeChanges(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
		assert.Equal(t, 2, n, "all but the newest")
		// A subscription that had read nothing when they were purged: it
		// cannot know what it missed.
		var got []cluster.Change
		done := make(chan struct{}, 16)
		stop := bunstore.SubscribeAt(b, 0, func(c cluster.Change) { got = append(got, c); done <- struct{}{} })
		defer stop()
		for range 2 {
			select {
			case <-done:
			case <-time.After(clustertest.Propagation):
				stop()
				t.Fatalf("the lagging subscription delivered only %+v", got)
			}
		}
		stop()
		require.Len(t, got, 2)
		assert.Equal(t, cluster.Resync, got[0].Kind, "a gap is announced")
		assert.Equal(t, "3", got[1].Key)
	})
	t.Run("sealed signing keys are sealed data, public ones are not", func(t *testing.T) {
		st, _ := open(t)
		holds, err := st.HoldsSealedData(ctx)
		require.NoError(t, err)
		require.False(t, holds)
		require.NoError(t, st.RotateSigningKey(ctx, oauth2.SigningKey{TenantID: "dev", KID: "public-only",
			PublicKeyPEM: "pem", Created: tenancytest.When}, tenancytest.When.Add(time.Hour)))
		holds, err = st.HoldsSealedData(ctx)
		require.NoError(t, err)
		assert.False(t, holds, "a verification-only key is not sealed")
		require.NoError(t, st.RotateSigningKey(ctx, oauth2.SigningKey{TenantID: "dev", KID: "sealed",
			PublicKeyPEM: "pem", SealedPrivateKey: []byte("sealed"), Created: tenancytest.When.Add(time.Second)},
			tenancytest.When.Add(time.Hour)))
		holds, err = st.HoldsSealedData(ctx)
		require.NoError(t, err)
		assert.True(t, holds)
	})
	t.Run("bad lock names are refused", func(t *testing.T) {
		st, _ := open(t)
		for _, name := range []string{"", "Upper", "../x", "a/b", "x y"} {
			_, _, err := st.TryLock(ctx, name)
			assert.Error(t, err, "%q", name)
		}
	})
}
