package bunstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"time"
	"unicode"

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
	st, err := s.db.DB.PrepareContext(ctx, s.fl.placeholders(query))
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
		rows, err = s.db.DB.QueryContext(ctx, s.fl.placeholders(query), args...)
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

// idsArg is the argument of flavor.in: the ids as one JSON array.
func idsArg(ids []string) string {
	b, _ := json.Marshal(ids) // strings: never fails
	return string(b)
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

// systemAttrColumns maps the attributes of a system (wire names) to the
// columns that fill them, for ListFilter.Fields, from the columns of
// systemRow: each column fills the attribute that is its name in camelCase
// (job_max_jobs: jobMaxJobs), and authnCredential needs
// default_authn_method. Attributes computed elsewhere (isPublic,
// sharedWithUsers) need none, and tenant, id and effective_user_id are
// always read (systemColumns).
func systemAttrColumns(columns []string) map[string][]string {
	out := map[string][]string{"authnCredential": {"default_authn_method"}}
	for _, c := range columns {
		name := camel(c)
		out[name] = append(out[name], c)
	}
	return out
}

// camel is the camelCase of a snake_case name: dtn_system_id: dtnSystemId.
func camel(snake string) string {
	var b strings.Builder
	up := false
	for _, r := range snake {
		switch {
		case r == '_':
			up = true
		case up:
			b.WriteRune(unicode.ToUpper(r))
			up = false
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// systemColumns is the column list of a listing: every column for nil
// fields, else those of the named attributes besides tenant, id and
// effective_user_id, in the table's order.
func (s *Store) systemColumns(fields []string) string {
	if fields == nil {
		return s.q.systemCols
	}
	want := map[string]bool{"tenant": true, "id": true, "effective_user_id": true}
	for _, f := range fields {
		for _, c := range s.q.systemAttrCols[f] {
			want[c] = true
		}
	}
	var cols []string
	for _, c := range s.q.systemColNames {
		if want[c] {
			cols = append(cols, `"`+c+`"`)
		}
	}
	return strings.Join(cols, ", ")
}

// queries are the fixed texts of the prepared queries, built once per Store
// from the row structs.
type queries struct {
	// systemCols lists every column of systems (quoted); systemColNames
	// names them.
	systemCols     string
	systemColNames []string
	// systemAttrCols maps attributes to their columns (systemAttrColumns).
	systemAttrCols                                   map[string][]string
	getSystem, shares, loginUser, userPerms, revoked string
	// Reads of several systems at once (a flavor.in condition).
	sharesOf, loginUsers string
}

func newQueries(db *bun.DB, fl *flavor) queries {
	var names []string
	for _, f := range db.Table(reflect.TypeFor[systemRow]()).Fields {
		names = append(names, f.Name)
	}
	return queries{
		systemCols: columnList(db, (*systemRow)(nil)), systemColNames: names, systemAttrCols: systemAttrColumns(names),
		getSystem: "SELECT " + columnList(db, (*systemRow)(nil)) + " FROM systems WHERE tenant = ? AND id = ?",
		shares:    "SELECT " + columnList(db, (*shareRow)(nil)) + " FROM system_shares WHERE tenant = ? AND system_id = ? ORDER BY grantee",
		loginUser: "SELECT login_user FROM system_login_users WHERE tenant = ? AND system_id = ? AND tapis_user = ?",
		userPerms: "SELECT perm FROM system_perms WHERE tenant = ? AND system_id = ? AND user_name = ?",
		revoked:   "SELECT 1 FROM token_revocations WHERE tenant_id = ? AND jti = ?",
		sharesOf: "SELECT " + columnList(db, (*shareRow)(nil)) + " FROM system_shares WHERE tenant = ? AND " +
			fl.in("system_id") + " ORDER BY system_id, grantee",
		loginUsers: "SELECT " + columnList(db, (*loginRow)(nil)) +
			" FROM system_login_users WHERE tenant = ? AND tapis_user = ? AND " + fl.in("system_id"),
	}
}
