package bunstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"

	"github.com/tapis-go/tapis/search"
)

// flavor is everything that differs between the databases the store runs
// on, as one value per database (dex's storage/sql flavor): New picks it
// from the bun dialect once, and no other code asks which database it is
// on. What both write alike has no field: upserts (INSERT ... ON CONFLICT
// (...) DO UPDATE SET c = EXCLUDED.c, or DO NOTHING), RETURNING, and the
// queries bun builds (bun inlines their arguments in its dialect's forms).
type flavor struct {
	// name is the database's name in messages: "sqlite" or "postgres".
	name string
	// migrations is the folder of the embedded migrations, and
	// schemaMigrations the statement creating the table that records the
	// applied ones.
	migrations, schemaMigrations string
	// numbered says that queries the store binds itself take $1, $2, ...
	// rather than ? (pgdriver).
	numbered bool
	// lockRows is the locking clause of a read that the transaction will
	// write back ("UPDATE": SELECT ... FOR UPDATE), or "" where write
	// transactions already run one at a time (SQLite, BEGIN IMMEDIATE).
	lockRows string
	// namedLock is a statement that takes a lock on a name (its one ?)
	// until the transaction ends, or "" where write transactions already
	// run one at a time.
	namedLock string
	// inList is the condition "column %[1]s is one of the strings of a
	// JSON array bound as one argument": its text does not depend on the
	// number of strings, so it can be prepared, and no list outgrows the
	// bind variables of a statement (32766 in SQLite, 65535 in PostgreSQL).
	inList string
	// visible writes the condition "owned by owner, or one of ids (a JSON
	// array)" of a listing in tenant, with its arguments.
	visible func(tenant, owner, ids string) (string, []any)
	// prepareSearches says whether the texts of searches are prepared and
	// kept by shape; else they are bound unprepared, because the plan
	// depends on the values (a LIKE prefix, a rare owner).
	prepareSearches bool
	// search is the SQL search.ToSQL and search.OrderSQL write.
	search search.Dialect
	// timeArg is a time argument of a query the store binds itself, in
	// the form the column holds what bun writes.
	timeArg func(time.Time) any
	// optimize refreshes the planner's statistics where the database does
	// not keep them itself ("" none).
	optimize string
	// changePoll is how often a change subscription reads the change log
	// for rows it has not seen: the only way news reaches it where the
	// database cannot notify (SQLite), the fallback of the notifications
	// where it can.
	changePoll time.Duration
	// changeChannel is the SQL text of the notification channel of the
	// change log of the schema a connection uses, or "" where the database
	// cannot notify.
	changeChannel string
	// tryLock and unlock take and release a lock on a name (their one ?)
	// held by a connection (until it ends) and answer true when they did;
	// "" where the store locks with files beside the database (SQLite).
	tryLock, unlock string
}

// sqliteTimeFormat is the text form in which bun's sqlitedialect (v1.3,
// schema.BaseDialect.AppendTime) writes a time, in UTC: a Timestamp column
// on SQLite holds this text, and comparing the text compares the instants
// (the fraction has no trailing zeros, and '+' sorts before '.' and the
// digits).
const sqliteTimeFormat = "2006-01-02 15:04:05.999999-07:00"

// sqliteFlavor is SQLite (modernc, through sqliteshim).
func sqliteFlavor() flavor {
	return flavor{
		name:       "sqlite",
		migrations: "migrations/sqlite",
		schemaMigrations: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER NOT NULL PRIMARY KEY,
	name       TEXT    NOT NULL,
	applied_at TEXT    NOT NULL
) STRICT`,
		inList: "%[1]s IN (SELECT value FROM json_each(?))",
		visible: func(tenant, owner, ids string) (string, []any) {
			// SQLite, given an OR, walks the whole tenant in id order to
			// spare a sort; the same set as one id list probes the primary
			// key in order and stops at the page's end (issue 16).
			return "id IN (SELECT id FROM systems WHERE tenant = ? AND owner = ? " +
				"UNION ALL SELECT value FROM json_each(?))", []any{tenant, owner, ids}
		},
		prepareSearches: true,
		search:          search.SQLite,
		timeArg:         func(t time.Time) any { return t.UTC().Format(sqliteTimeFormat) },
		optimize:        "PRAGMA optimize=0x10002",
		changePoll:      250 * time.Millisecond,
	}
}

// postgresFlavor is PostgreSQL (bun's pgdriver).
func postgresFlavor() flavor {
	f := flavor{
		name:       "postgres",
		migrations: "migrations/postgres",
		schemaMigrations: `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT      NOT NULL PRIMARY KEY,
	name       TEXT        NOT NULL,
	applied_at TIMESTAMPTZ NOT NULL
)`,
		numbered: true,
		lockRows: "UPDATE",
		// Advisory locks are the database's: the schema in the name keeps
		// the instances of different schemas (tests) apart.
		namedLock:     "SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || ?))",
		inList:        "%[1]s = ANY (ARRAY(SELECT json_array_elements_text(CAST(? AS json))))",
		search:        search.Postgres,
		timeArg:       func(t time.Time) any { return t },
		changePoll:    500 * time.Millisecond,
		changeChannel: "'tapis_changes_' || md5(coalesce(current_schema(), ''))",
		tryLock:       "SELECT pg_try_advisory_lock(hashtext(coalesce(current_schema(), '') || ?))",
		unlock:        "SELECT pg_advisory_unlock(hashtext(coalesce(current_schema(), '') || ?))",
	}
	f.visible = func(_, owner, ids string) (string, []any) {
		// PostgreSQL unions the two index scans (BitmapOr).
		return "(owner = ? OR " + f.in("id") + ")", []any{owner, ids}
	}
	return f
}

// flavorOf is the flavor of a bun dialect.
func flavorOf(d dialect.Name) flavor {
	if d == dialect.PG {
		return postgresFlavor()
	}
	return sqliteFlavor()
}

// in is the inList condition on column.
func (f *flavor) in(column string) string { return fmt.Sprintf(f.inList, column) }

// placeholders rewrites ? to the flavor's placeholders. The queries given
// to it hold no ? inside literals or identifiers.
func (f *flavor) placeholders(query string) string {
	if !f.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// forUpdate adds the flavor's row lock to a read whose rows the
// transaction will write back.
func (f *flavor) forUpdate(q *bun.SelectQuery) *bun.SelectQuery {
	if f.lockRows == "" {
		return q
	}
	return q.For(f.lockRows)
}

// lockName takes the flavor's lock on name until tx ends (nothing where
// write transactions run one at a time).
func (f *flavor) lockName(ctx context.Context, tx bun.Tx, name string) error {
	if f.namedLock == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, f.namedLock, name)
	return err
}

// args converts the arguments of a query the store binds itself (a
// search.ToSQL fragment) into the forms the columns hold.
func (f *flavor) args(args []any) []any {
	for i, a := range args {
		if t, ok := a.(time.Time); ok {
			args[i] = f.timeArg(t)
		}
	}
	return args
}
