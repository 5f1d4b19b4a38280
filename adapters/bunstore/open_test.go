package bunstore

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSQLiteDSN(t *testing.T) {
	name, memory, err := sqliteDSN("/data/tapis.db")
	require.NoError(t, err)
	assert.False(t, memory)
	base, rawQuery, _ := strings.Cut(name, "?")
	assert.Equal(t, "/data/tapis.db", base)
	q, err := url.ParseQuery(rawQuery)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"busy_timeout(5000)", "journal_mode(WAL)", "foreign_keys(1)", "synchronous(NORMAL)"}, q["_pragma"])
	assert.Equal(t, "immediate", q.Get("_txlock"))

	name, memory, err = sqliteDSN(":memory:")
	require.NoError(t, err)
	assert.True(t, memory)
	assert.NotContains(t, name, "journal_mode")

	_, memory, err = sqliteDSN("file::memory:?cache=shared")
	require.NoError(t, err)
	assert.True(t, memory)

	name, _, err = sqliteDSN("///abs/x.db?_pragma=synchronous(FULL)&_txlock=deferred")
	require.NoError(t, err)
	base, rawQuery, _ = strings.Cut(name, "?")
	assert.Equal(t, "/abs/x.db", base)
	q, err = url.ParseQuery(rawQuery)
	require.NoError(t, err)
	assert.Contains(t, q["_pragma"], "synchronous(FULL)", "the DSN's own pragma wins")
	assert.NotContains(t, q["_pragma"], "synchronous(NORMAL)")
	assert.Equal(t, "deferred", q.Get("_txlock"))
}

// TestSQLitePragmas checks that a pooled connection really has the pragmas.
func TestSQLitePragmas(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "p.db"))
	require.NoError(t, err)
	defer st.Close()
	for pragma, want := range map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "synchronous": "1"} {
		var got string
		require.NoError(t, st.DB().QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got))
		assert.Equal(t, want, got, pragma)
	}
}

// TestOpenSQLiteForms opens each accepted SQLite DSN form and uses it.
func TestOpenSQLiteForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, dsn := range []string{
		"sqlite:" + filepath.Join(dir, "plain.db"),
		"sqlite://" + filepath.Join(dir, "slashes.db"),
		"sqlite:file:" + filepath.Join(dir, "uri.db") + "?mode=rwc",
		"sqlite::memory:",
		"file:bunstore_forms?mode=memory&cache=shared",
	} {
		t.Run(dsn, func(t *testing.T) {
			st, err := Open(ctx, dsn)
			require.NoError(t, err)
			defer st.Close()
			require.NoError(t, st.Migrate(ctx))
			require.NoError(t, st.Migrate(ctx))
			var fk int
			require.NoError(t, st.DB().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
			assert.Equal(t, 1, fk)
			if !strings.Contains(dsn, "memory") {
				var mode string
				require.NoError(t, st.DB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
				assert.Equal(t, "wal", mode)
			}
			_, err = st.ListSites(ctx)
			require.NoError(t, err)
		})
	}
}

// TestPoolSizes: a file keeps SQLiteMaxConns connections open while idle
// (a burst then reuses them instead of reopening, which re-runs the pragmas
// and re-reads the schema); an in-memory database has exactly one.
func TestPoolSizes(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "pool.db"))
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Migrate(ctx))
	db := st.DB().DB
	assert.Equal(t, SQLiteMaxConns(), db.Stats().MaxOpenConnections)
	// Hold every connection at once, then release them: all stay idle.
	conns := make([]interface{ Close() error }, 0, SQLiteMaxConns())
	for range SQLiteMaxConns() {
		c, err := db.Conn(ctx)
		require.NoError(t, err)
		require.NoError(t, c.PingContext(ctx))
		conns = append(conns, c)
	}
	for _, c := range conns {
		require.NoError(t, c.Close())
	}
	stats := db.Stats()
	assert.Equal(t, SQLiteMaxConns(), stats.Idle, "every connection is kept while idle")
	assert.Zero(t, stats.MaxIdleClosed, "none was closed for exceeding the idle limit")

	mem, err := Open(ctx, "sqlite::memory:")
	require.NoError(t, err)
	defer mem.Close()
	assert.Equal(t, 1, mem.DB().DB.Stats().MaxOpenConnections)
}

// Ping (the "database" readiness check) answers while the database does,
// and fails once it cannot reach it.
func TestPing(t *testing.T) {
	ctx := context.Background()
	for name, st := range internalStores(t) {
		require.NoError(t, st.Ping(ctx), name)
		require.NoError(t, st.DB().Close(), name)
		err := st.Ping(ctx)
		require.Error(t, err, "%s: a closed pool does not answer", name)
		assert.Contains(t, err.Error(), "bunstore: ping", name)
	}
}
