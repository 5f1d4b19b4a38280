package bunstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Store implements tenancy.Store and oauth2.Store on a bun database, SQLite
// or PostgreSQL. It is safe for concurrent use.
type Store struct {
	db    *bun.DB
	fl    flavor
	stmts stmtCache
	hooks []bun.QueryHook
	q     queries
	subs  subscriptions // change subscriptions, stopped by Close
	locks locks
}

var (
	_ tenancy.Store = (*Store)(nil)
	_ oauth2.Store  = (*Store)(nil)
)

// sqlitePragmas are set on every pooled SQLite connection unless the DSN
// already sets the same pragma (perf-reliability B6): WAL so that readers do
// not block the writer, a busy timeout so that writers queue instead of
// failing, foreign keys (off by default in SQLite), and NORMAL sync, which
// never corrupts and keeps every commit across an application crash.
var sqlitePragmas = []struct{ name, value string }{
	{"busy_timeout", "busy_timeout(5000)"},
	{"journal_mode", "journal_mode(WAL)"},
	{"foreign_keys", "foreign_keys(1)"},
	{"synchronous", "synchronous(NORMAL)"},
}

// SQLiteMaxConns is the size of the connection pool of an SQLite file:
// twice the CPUs Go uses (at least 4), since a reader holds a connection
// only while it runs on a CPU or waits for a page from the OS. An in-memory
// database has one connection.
func SQLiteMaxConns() int { return max(4, 2*runtime.GOMAXPROCS(0)) }

// PostgresMaxConns is the size of the connection pool of a PostgreSQL
// database: open and idle alike, so that a burst never waits for new
// connections and the server's max_connections (100 by default) holds
// several instances. A caller needing another size sets it on DB().DB.
const PostgresMaxConns = 20

// Open connects to the database named by dsn and returns a Store; call
// Migrate before first use. Accepted forms:
//
//	sqlite:PATH                       a database file, e.g. sqlite:./tapis-data/tapis.db
//	sqlite:file:PATH?mode=rwc         an SQLite URI
//	sqlite::memory:                   a private in-memory database (tests)
//	file::memory:?cache=shared        an SQLite URI without the sqlite: prefix
//	postgres://user:pw@host:5432/db?sslmode=disable
//
// SQLite connections get WAL, busy_timeout(5000), foreign_keys(1) and
// synchronous(NORMAL) unless the DSN sets those pragmas itself, and begin
// write transactions IMMEDIATE (_txlock=immediate) so that concurrent writers
// wait for each other instead of failing. An in-memory database lives in a
// single connection, so that every query sees the same data; a file gets a
// pool of SQLiteMaxConns connections, a PostgreSQL database one of
// PostgresMaxConns, kept open while idle. Extra query
// parameters of a PostgreSQL DSN (search_path=..., for example) become
// run-time parameters of each connection.
func Open(ctx context.Context, dsn string) (*Store, error) {
	var db *bun.DB
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		// bun's pgdriver, not pgx's stdlib driver: measured side by side
		// in one process on the same schema (issue 16), pgx served the
		// prepared point reads at 0.78x and bun's own queries at 0.76x of
		// pgdriver (medians of 5 runs; a 100-row search 1.13x).
		connector, err := pgConnector(dsn)
		if err != nil {
			return nil, err
		}
		sqldb := sql.OpenDB(connector)
		// database/sql pools are unbounded; a burst of requests would exceed
		// the server's max_connections. Idle connections are kept (up to
		// the pool size) for the same reason as SQLite's.
		sqldb.SetMaxOpenConns(PostgresMaxConns)
		sqldb.SetMaxIdleConns(PostgresMaxConns)
		sqldb.SetConnMaxIdleTime(0)
		db = bun.NewDB(sqldb, pgdialect.New())
	case strings.HasPrefix(dsn, "sqlite:"), strings.HasPrefix(dsn, "file:"):
		name, memory, err := sqliteDSN(strings.TrimPrefix(dsn, "sqlite:"))
		if err != nil {
			return nil, err
		}
		sqldb, err := sql.Open(sqliteshim.ShimName, name)
		if err != nil {
			return nil, fmt.Errorf("bunstore: open sqlite: %w", err)
		}
		// Each connection to ":memory:" is a database of its own, and a
		// shared cache vanishes with its last connection: keep exactly one
		// connection open for the life of the pool. A file gets a fixed set
		// of connections that are never closed for being idle: opening one
		// runs the pragmas and reads the schema again, and database/sql's
		// default of 2 idle connections turned every burst into such
		// reopenings (a third of the CPU of a GET under load, issue 16).
		// WAL lets the readers run beside the one writer, which
		// _txlock=immediate and busy_timeout queue.
		conns := SQLiteMaxConns()
		if memory {
			conns = 1
		}
		sqldb.SetMaxOpenConns(conns)
		sqldb.SetMaxIdleConns(conns)
		sqldb.SetConnMaxLifetime(0)
		sqldb.SetConnMaxIdleTime(0)
		db = bun.NewDB(sqldb, sqlitedialect.New())
	default:
		return nil, errors.New(`bunstore: unsupported DSN: want "sqlite:PATH" or "postgres://..."`)
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("bunstore: connect: %w", err)
	}
	return New(db), nil
}

// pgConnector builds a pgdriver connector. The DSN carries a password, so
// parse errors are reported without echoing it.
func pgConnector(dsn string) (c *pgdriver.Connector, err error) {
	if _, perr := url.Parse(dsn); perr != nil {
		return nil, errors.New("bunstore: invalid PostgreSQL DSN: not a URL")
	}
	defer func() {
		// pgdriver.WithDSN panics on a DSN it cannot use (bad sslmode, unreadable
		// certificate, ...); its messages do not contain the password.
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("bunstore: invalid PostgreSQL DSN: %v", r)
		}
	}()
	return pgdriver.NewConnector(pgdriver.WithDSN(dsn)), nil
}

// sqliteDSN turns the part after "sqlite:" into a modernc DSN with the
// project's pragmas, and reports whether the database lives in memory.
func sqliteDSN(spec string) (name string, memory bool, err error) {
	if s, ok := strings.CutPrefix(spec, "//"); ok && !strings.HasPrefix(spec, "file:") {
		spec = s // sqlite:///abs/path.db
	}
	base, rawQuery, _ := strings.Cut(spec, "?")
	if base == "" {
		return "", false, errors.New("bunstore: sqlite DSN names no database file")
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", false, fmt.Errorf("bunstore: sqlite DSN query: %w", err)
	}
	memory = base == ":memory:" || strings.HasPrefix(base, "file::memory:") || q.Get("mode") == "memory"
	have := map[string]bool{}
	for _, p := range q["_pragma"] {
		n := strings.ToLower(strings.TrimSpace(p))
		if i := strings.IndexAny(n, "(= "); i >= 0 {
			n = n[:i]
		}
		have[n] = true
	}
	for _, p := range sqlitePragmas {
		if have[p.name] || (memory && p.name == "journal_mode") {
			continue
		}
		q.Add("_pragma", p.value)
	}
	if !q.Has("_txlock") {
		q.Set("_txlock", "immediate")
	}
	return base + "?" + q.Encode(), memory, nil
}

// New returns a Store on an open bun database whose dialect is SQLite or
// PostgreSQL. The caller keeps the pool settings (and, for SQLite, the
// pragmas: foreign_keys(1) and _txlock=immediate are strongly advised).
func New(db *bun.DB) *Store {
	fl := flavorOf(db.Dialect().Name())
	return &Store{db: db, fl: fl, q: newQueries(db, &fl)}
}

// DB returns the underlying bun database.
func (s *Store) DB() *bun.DB { return s.db }

// Close stops the change subscriptions and closes the prepared statements
// and the database.
func (s *Store) Close() error {
	s.subs.stopAll()
	s.closeStmts()
	return s.db.Close()
}
