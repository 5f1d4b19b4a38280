package bunstore

import (
	"context"
	"database/sql"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// Prepared statements. bun writes every argument into the SQL text, so each
// of its queries is parsed and planned anew: for a 41-column point read on
// SQLite that costs more than the read (issue 16). The queries of the read
// path are therefore written here with placeholders, prepared once per
// connection by database/sql and cached by text; bun only scans the rows
// into the row structs. Queries that must stay unprepared (PostgreSQL
// searches, whose plans depend on the values: a LIKE prefix, a rare owner)
// still bind their arguments instead of inlining them.

// maxDynamicStmts bounds the statements kept for query texts built at run
// time (search shapes); beyond it they run unprepared.
const maxDynamicStmts = 256

// stmtCache holds the prepared statements of a Store by query text.
type stmtCache struct {
	mu      sync.RWMutex
	m       map[string]*sql.Stmt
	dynamic int
}

// AddQueryHook adds a bun query hook that sees every query of the store:
// those bun builds and the prepared ones. Call it before the store is used
// concurrently. Hooks added to the bun.DB directly (DB().AddQueryHook) miss
// the prepared queries.
func (s *Store) AddQueryHook(h bun.QueryHook) {
	s.db = s.db.WithQueryHook(h)
	s.hooks = append(s.hooks, h)
}

// placeholders rewrites ? to $1, $2, ... for PostgreSQL. The queries given
// to it hold no ? inside literals or identifiers.
func (s *Store) placeholders(query string) string {
	if !s.pg || !strings.Contains(query, "?") {
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

// stmt returns the prepared statement of query (? placeholders), preparing
// it on first use. dynamic marks a text built at run time: once
// maxDynamicStmts of those are cached, stmt returns nil for new ones.
func (s *Store) stmt(ctx context.Context, query string, dynamic bool) (*sql.Stmt, error) {
	c := &s.stmts
	c.mu.RLock()
	st, ok := c.m[query]
	full := c.dynamic >= maxDynamicStmts
	c.mu.RUnlock()
	if ok {
		return st, nil
	}
	if dynamic && full {
		return nil, nil
	}
	st, err := s.db.DB.PrepareContext(ctx, s.placeholders(query))
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok { // prepared concurrently
		_ = st.Close()
		return prev, nil
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	if dynamic {
		c.dynamic++
	}
	return st, nil
}

// closeStmts closes every cached statement.
func (s *Store) closeStmts() {
	c := &s.stmts
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		_ = st.Close()
	}
	c.m, c.dynamic = nil, 0
}

// query runs query (? placeholders) with args and reports it to the query
// hooks. prepare says whether it may be prepared and cached: always for
// the fixed queries of the store, by shape (dynamic) for searches.
func (s *Store) query(ctx context.Context, prepare, dynamic bool, query string, args ...any) (*sql.Rows, error) {
	var ev *bun.QueryEvent
	if len(s.hooks) > 0 {
		ev = &bun.QueryEvent{DB: s.db, Query: query, QueryTemplate: query, QueryArgs: args, StartTime: time.Now()}
		for _, h := range s.hooks {
			ctx = h.BeforeQuery(ctx, ev)
		}
	}
	var (
		rows *sql.Rows
		st   *sql.Stmt
		err  error
	)
	if prepare {
		st, err = s.stmt(ctx, query, dynamic)
	}
	switch {
	case err != nil:
	case st != nil:
		rows, err = st.QueryContext(ctx, args...)
	default:
		rows, err = s.db.DB.QueryContext(ctx, s.placeholders(query), args...)
	}
	if ev != nil {
		ev.Err = err
		for i := len(s.hooks) - 1; i >= 0; i-- {
			s.hooks[i].AfterQuery(ctx, ev)
		}
	}
	return rows, err
}

// selectInto runs a fixed query, prepared, and scans every row into dest
// (a pointer to a slice of row structs or of scalars) with bun's scanner.
func (s *Store) selectInto(ctx context.Context, dest any, query string, args ...any) error {
	rows, err := s.query(ctx, true, false, query, args...)
	if err != nil {
		return err
	}
	return s.db.ScanRows(ctx, rows, dest)
}

// selectDynamic is selectInto for a text built at run time whose shape
// varies with the number of arguments (IN lists): bound, not prepared.
func (s *Store) selectDynamic(ctx context.Context, dest any, query string, args ...any) error {
	rows, err := s.query(ctx, false, false, query, args...)
	if err != nil {
		return err
	}
	return s.db.ScanRows(ctx, rows, dest)
}

// inList is "(?, ?, ...)" with n placeholders.
func inList(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

func stringArgs(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}

// columnList is the quoted, comma-separated column list of a row struct,
// in bun's order.
func columnList(db *bun.DB, model any) string {
	t := db.Table(reflect.TypeOf(model).Elem())
	names := make([]string, len(t.Fields))
	for i, f := range t.Fields {
		names[i] = `"` + f.Name + `"`
	}
	return strings.Join(names, ", ")
}

// queries are the fixed texts of the prepared queries, built once per Store
// from the row structs.
type queries struct {
	getSystem, shares, loginUser, userPerms, revoked string
	// Heads of queries completed by an IN list of system ids.
	sharesOf, loginUsers string
}

func newQueries(db *bun.DB) queries {
	return queries{
		getSystem: "SELECT " + columnList(db, (*systemRow)(nil)) + " FROM systems WHERE tenant = ? AND id = ?",
		shares:    "SELECT " + columnList(db, (*shareRow)(nil)) + " FROM system_shares WHERE tenant = ? AND system_id = ? ORDER BY grantee",
		loginUser: "SELECT login_user FROM system_login_users WHERE tenant = ? AND system_id = ? AND tapis_user = ?",
		userPerms: "SELECT perm FROM system_perms WHERE tenant = ? AND system_id = ? AND user_name = ?",
		revoked:   "SELECT 1 FROM token_revocations WHERE tenant_id = ? AND jti = ?",
		sharesOf:  "SELECT " + columnList(db, (*shareRow)(nil)) + " FROM system_shares WHERE tenant = ? AND system_id IN ",
		loginUsers: "SELECT " + columnList(db, (*loginRow)(nil)) +
			" FROM system_login_users WHERE tenant = ? AND tapis_user = ? AND system_id IN ",
	}
}
