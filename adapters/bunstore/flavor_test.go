package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// internalStores opens a migrated store on an SQLite file and, when
// TAPIS_TEST_POSTGRES_DSN is set, one in a fresh PostgreSQL schema.
func internalStores(t *testing.T) map[string]*Store {
	t.Helper()
	ctx := context.Background()
	dsns := map[string]string{"sqlite": "sqlite:" + filepath.Join(t.TempDir(), "f.db")}
	if pg := os.Getenv("TAPIS_TEST_POSTGRES_DSN"); pg != "" {
		admin, err := Open(ctx, pg)
		require.NoError(t, err)
		t.Cleanup(func() { _ = admin.Close() })
		schema := fmt.Sprintf("bunstore_flavor_%d_%d", os.Getpid(), time.Now().UnixNano())
		_, err = admin.DB().ExecContext(ctx, "CREATE SCHEMA ?", bun.Ident(schema))
		require.NoError(t, err)
		t.Cleanup(func() {
			_, _ = admin.DB().ExecContext(context.Background(), "DROP SCHEMA ? CASCADE", bun.Ident(schema))
		})
		u, err := url.Parse(pg)
		require.NoError(t, err)
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		dsns["postgres"] = u.String()
	} else {
		t.Log("PostgreSQL skipped: set TAPIS_TEST_POSTGRES_DSN to run it")
	}
	out := map[string]*Store{}
	for name, dsn := range dsns {
		st, err := Open(ctx, dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.Close() })
		require.NoError(t, st.Migrate(ctx))
		out[name] = st
	}
	return out
}

// TestFlavorOf: each bun dialect gets its database's flavor, and the
// flavors differ where the databases do.
func TestFlavorOf(t *testing.T) {
	pg, lite := flavorOf(dialect.PG), flavorOf(dialect.SQLite)
	assert.Equal(t, "postgres", pg.name)
	assert.Equal(t, "sqlite", lite.name)
	assert.Equal(t, "migrations/postgres", pg.migrations)
	assert.Equal(t, "migrations/sqlite", lite.migrations)
	assert.Equal(t, search.Postgres, pg.search)
	assert.Equal(t, search.SQLite, lite.search)
	assert.Equal(t, "UPDATE", pg.lockRows, "PostgreSQL locks the rows a transaction writes back")
	assert.Empty(t, lite.lockRows, "SQLite's write transactions are exclusive (and it has no FOR UPDATE)")
	assert.NotEmpty(t, pg.namedLock)
	assert.Empty(t, lite.namedLock)
	assert.False(t, pg.prepareSearches, "a PostgreSQL search plan depends on its values")
	assert.True(t, lite.prepareSearches)
	assert.Empty(t, pg.optimize, "autovacuum keeps PostgreSQL's statistics")
	assert.NotEmpty(t, lite.optimize)

	const q = "SELECT a FROM t WHERE b = ? AND " + "c IN (?)"
	assert.Equal(t, "SELECT a FROM t WHERE b = $1 AND c IN ($2)", pg.placeholders(q))
	assert.Equal(t, q, lite.placeholders(q))
	assert.Equal(t, "id = ANY (ARRAY(SELECT json_array_elements_text(CAST(? AS json))))", pg.in("id"))
	assert.Equal(t, "id IN (SELECT value FROM json_each(?))", lite.in("id"))

	w, args := pg.visible("dev", "alice", `["a"]`)
	assert.Equal(t, "(owner = ? OR "+pg.in("id")+")", w)
	assert.Equal(t, []any{"alice", `["a"]`}, args)
	w, args = lite.visible("dev", "alice", `["a"]`)
	assert.Contains(t, w, "tenant = ? AND owner = ?", "the owner's branch stays scoped by tenant")
	assert.Equal(t, []any{"dev", "alice", `["a"]`}, args)
}

// TestSQLiteTimeFormatIsBuns: a time argument the store binds itself on
// SQLite is the text bun writes into the column (compared as text by the
// searches), for every fraction and offset; PostgreSQL binds the time.
func TestSQLiteTimeFormatIsBuns(t *testing.T) {
	lite, pg := sqliteFlavor(), postgresFlavor()
	bunSQLite := sqlitedialect.New()
	east := time.FixedZone("east", 5*3600+30*60)
	for _, tm := range []time.Time{
		time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 120000000, time.UTC),
		time.Date(2024, 2, 29, 23, 59, 59, 123456000, time.UTC),
		time.Date(1800, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(2200, 4, 29, 14, 15, 52, 500000000, east),
	} {
		want := string(bunSQLite.AppendTime(nil, tm))
		assert.Equal(t, want, "'"+lite.timeArg(tm).(string)+"'", "%v", tm)
		assert.Equal(t, tm, pg.timeArg(tm))
	}
	args := lite.args([]any{"x", int64(1), time.Date(2024, 1, 2, 3, 4, 5, 0, east), true})
	assert.Equal(t, []any{"x", int64(1), "2024-01-01 21:34:05+00:00", true}, args, "only times change")
}

// TestUpdate: the read-modify-write helper on every database.
func TestUpdate(t *testing.T) {
	for name, st := range internalStores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := utc(time.Now())
			_, err := st.db.NewInsert().Model(&siteRow{ID: "s1", BaseURL: "https://s1", Services: "[]",
				CreateTime: now, LastUpdateTime: now}).Exec(ctx)
			require.NoError(t, err)
			site := func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("id = ?", "s1") }
			stored := func() siteRow {
				var r siteRow
				require.NoError(t, st.db.NewSelect().Model(&r).Where("id = ?", "s1").Scan(ctx))
				return r
			}

			// A missing row is ErrNotFound; change is not called.
			called := false
			_, err = update(ctx, st, "update site", func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("id = ?", "none") },
				func(context.Context, bun.Tx, *siteRow) (*siteRow, error) { called = true; return nil, nil })
			assert.ErrorIs(t, err, tenancy.ErrNotFound)
			assert.False(t, called)

			// The row change returns is written back and returned.
			got, err := update(ctx, st, "update site", site, func(_ context.Context, _ bun.Tx, cur *siteRow) (*siteRow, error) {
				cur.CreatedBy = "alice"
				return cur, nil
			})
			require.NoError(t, err)
			assert.Equal(t, "alice", got.CreatedBy)
			assert.Equal(t, "alice", stored().CreatedBy)

			// A kept error comes back as it is, even one that would be
			// translated (sql.ErrNoRows is ErrNotFound otherwise), and
			// nothing is written, what change wrote through tx included.
			_, err = update(ctx, st, "update site", site, func(ctx context.Context, tx bun.Tx, cur *siteRow) (*siteRow, error) {
				if _, err := tx.NewInsert().Model(&ownerRow{Email: "o@x", CreateTime: now, LastUpdateTime: now}).Exec(ctx); err != nil {
					return nil, err
				}
				cur.CreatedBy = "mallory"
				return nil, keep(sql.ErrNoRows)
			})
			assert.Same(t, sql.ErrNoRows, err) // the very error, unwrapped
			assert.NotErrorIs(t, err, tenancy.ErrNotFound)
			assert.Equal(t, "alice", stored().CreatedBy)
			n, err := st.db.NewSelect().Model((*ownerRow)(nil)).Count(ctx)
			require.NoError(t, err)
			assert.Zero(t, n, "the transaction was rolled back")

			// An error that is not kept is translated: a unique violation
			// of the write is ErrAlreadyExists, without driver text.
			_, err = st.db.NewInsert().Model(&siteRow{ID: "s2", BaseURL: "https://s2", Services: "[]",
				CreateTime: now, LastUpdateTime: now}).Exec(ctx)
			require.NoError(t, err)
			_, err = update(ctx, st, "update site", site, func(_ context.Context, _ bun.Tx, cur *siteRow) (*siteRow, error) {
				cur.BaseURL = "https://s2"
				return cur, nil
			})
			assert.ErrorIs(t, err, tenancy.ErrAlreadyExists)
			assert.Equal(t, "https://s1", stored().BaseURL)

			// While one read-modify-write holds the row, a second one waits
			// for it (the flavor's row lock on PostgreSQL, the exclusive
			// write transaction on SQLite) and then builds on its change:
			// none is lost. Without the lock the second would finish inside
			// the first, from the old value, and the first would overwrite
			// it. (The wait only gives a broken lock time to show; the
			// assertion is on the stored value.)
			second := make(chan error, 1)
			var secondDone error
			finishedInside := false
			_, err = update(ctx, st, "update site", site, func(_ context.Context, _ bun.Tx, cur *siteRow) (*siteRow, error) {
				go func() {
					_, err := update(ctx, st, "update site", site, func(_ context.Context, _ bun.Tx, cur *siteRow) (*siteRow, error) {
						cur.LastUpdatedBy += "b"
						return cur, nil
					})
					second <- err
				}()
				select {
				case secondDone = <-second:
					finishedInside = true
				case <-time.After(300 * time.Millisecond):
				}
				cur.LastUpdatedBy += "a"
				return cur, nil
			})
			require.NoError(t, err)
			if !finishedInside {
				secondDone = <-second
			}
			require.NoError(t, secondDone)
			assert.False(t, finishedInside, "the second read-modify-write ran while the first held the row")
			assert.Equal(t, "ab", stored().LastUpdatedBy)
		})
	}
}

// TestSentinelsPassThrough: a sentinel the store made keeps its message
// through a second translation (SaveSystems' ErrConflict, for one).
func TestSentinelsPassThrough(t *testing.T) {
	conflict := errors.New("conflict")
	err := sentinel(conflict, "save system \"a\"")
	assert.Same(t, err, writeErr(err, "save systems")) // the very error
	assert.ErrorIs(t, writeErr(err, "save systems"), conflict)
	assert.Equal(t, `bunstore: save system "a": conflict`, writeErr(err, "save systems").Error())
}

// TestSystemAttrColumns: every attribute of a system on the wire (the JSON
// names of systems.System) is filled by a column of systemRow, found by
// name, or is computed elsewhere; a column named otherwise than its
// attribute fails here.
func TestSystemAttrColumns(t *testing.T) {
	assert.Equal(t, "dtnSystemId", camel("dtn_system_id"))
	assert.Equal(t, "jobMaxJobsPerUser", camel("job_max_jobs_per_user"))
	assert.Equal(t, "uuid", camel("uuid"))

	st := internalStores(t)["sqlite"]
	cols := st.q.systemAttrCols
	computed := map[string]bool{"tenant": true, "id": true, "effectiveUserId": true} // always read
	for f := range reflect.TypeFor[systems.System]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || computed[name] {
			continue
		}
		assert.NotEmpty(t, cols[name], "attribute %s has no column", name)
	}
	assert.Equal(t, []string{"default_authn_method"}, cols["authnCredential"])
	assert.Equal(t, []string{"job_max_jobs_per_user"}, cols["jobMaxJobsPerUser"])
	assert.Empty(t, cols["isPublic"], "computed from shares")
}
