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
