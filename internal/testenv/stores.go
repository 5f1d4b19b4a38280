package testenv

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/bunstore"
)

// Backend starts a seeded instance on one store.
type Backend struct {
	Name string
	New  func(t testing.TB, opts ...func(*tapis.Config)) *Env
}

// Backends are the stores a test should run on: SQLite always, PostgreSQL
// when TAPIS_TEST_POSTGRES_DSN is set (a schema per instance), so the same
// HTTP-level test covers both SQL dialects.
func Backends() []Backend {
	out := []Backend{{Name: "sqlite", New: SQLite}}
	if os.Getenv("TAPIS_TEST_POSTGRES_DSN") != "" {
		out = append(out, Backend{Name: "postgres", New: Postgres})
	}
	return out
}

// SQLite starts a seeded instance on a SQLite file in the test's temp dir.
func SQLite(t testing.TB, opts ...func(*tapis.Config)) *Env {
	t.Helper()
	return SQLiteAt(t, filepath.Join(t.TempDir(), "tapis.db"), opts...)
}

// SQLiteAt is SQLite on the file at path (to inspect it afterwards).
func SQLiteAt(t testing.TB, path string, opts ...func(*tapis.Config)) *Env {
	t.Helper()
	return onBunstore(t, "sqlite:"+path, opts...)
}

// Postgres starts a seeded instance in a fresh schema of the database of
// TAPIS_TEST_POSTGRES_DSN, dropped at the end; it skips without it.
func Postgres(t testing.TB, opts ...func(*tapis.Config)) *Env {
	t.Helper()
	return onBunstore(t, PostgresSchemaDSN(t), opts...)
}

// PostgresSchemaDSN creates a fresh schema in the database of
// TAPIS_TEST_POSTGRES_DSN, drops it when the test ends, and returns the DSN
// whose search_path is that schema. It skips the test without the variable.
func PostgresSchemaDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("TAPIS_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("TAPIS_TEST_POSTGRES_DSN not set: the PostgreSQL variant is skipped")
	}
	ctx := context.Background()
	admin, err := bunstore.Open(ctx, dsn)
	require.NoError(t, err)
	schema := fmt.Sprintf("test_%d_%d_%d", os.Getpid(), time.Now().UnixNano(), schemaSeq.Add(1))
	_, err = admin.DB().ExecContext(ctx, "CREATE SCHEMA ?", bun.Ident(schema))
	require.NoError(t, err)
	t.Cleanup(func() {
		_, err := admin.DB().ExecContext(ctx, "DROP SCHEMA ? CASCADE", bun.Ident(schema))
		assert.NoError(t, err)
		_ = admin.Close()
	})
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

var schemaSeq atomic.Int64

func onBunstore(t testing.TB, dsn string, opts ...func(*tapis.Config)) *Env {
	t.Helper()
	ctx := context.Background()
	st, err := bunstore.Open(ctx, dsn)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	env := NewWithStore(t, st, nil, opts...)
	t.Cleanup(func() { _ = st.Close() })
	return env
}
