package bunstore_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

// The plans of the searches (issue 16): 100k systems (10 tenants x 10k)
// are generated inside the database, then the store's own SQL for the
// README's example searches and the common listing shapes is explained
// (SQLite EXPLAIN QUERY PLAN after Store.Optimize, PostgreSQL EXPLAIN after
// ANALYZE, as autovacuum would run it), and a plan
// that reads the table (or a whole tenant of it) where an index matching
// the predicates should serve fails the test. Without -short only, and not
// under the race detector, where generating the rows alone takes minutes
// (scripts/test runs it in a step of its own).

const (
	planTenants   = 10
	planPerTenant = 10000
)

// planRowsSQLite generates the rows in SQLite, the k-th system of each
// tenant: owners u0..u19, hosts node0..node99.example.org, two LINUX in
// three, three enabled in four, one in fifty deleted, a third tagged gpu
// and one in 97 also rare, a minute apart.
const planRowsSQLite = `WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < %d),
	r(t, k) AS (SELECT x %% %d, x / %d FROM n)
INSERT INTO systems (tenant, id, description, system_type, owner, host, enabled, effective_user_id,
	default_authn_method, port, tags, deleted, created, updated)
SELECT 't' || t, printf('sys-%%06d', k), 'system ' || k,
	CASE k %% 6 WHEN 3 THEN 'S3' WHEN 5 THEN 'IRODS' ELSE 'LINUX' END,
	'u' || (k %% 20), 'node' || ((k * 13) %% 100) || '.example.org', (k %% 4) <> 0,
	'${apiUserId}', 'PKI_KEYS', CASE k %% 3 WHEN 0 THEN 22 ELSE 2222 END,
	CASE WHEN k %% 97 = 0 THEN '["gpu","rare"]' WHEN k %% 3 = 0 THEN '["gpu"]' ELSE '[]' END, (k %% 50) = 7,
	strftime('%%Y-%%m-%%d %%H:%%M:%%S', '2024-01-01', '+' || k || ' minutes') || '+00:00',
	strftime('%%Y-%%m-%%d %%H:%%M:%%S', '2024-01-01', '+' || k || ' minutes') || '+00:00'
FROM r`

// planRowsPostgres is planRowsSQLite for PostgreSQL.
const planRowsPostgres = `INSERT INTO systems (tenant, id, description, system_type, owner, host, enabled, effective_user_id,
	default_authn_method, port, tags, deleted, created, updated)
SELECT 't' || t, 'sys-' || lpad(k::text, 6, '0'), 'system ' || k,
	CASE k %% 6 WHEN 3 THEN 'S3' WHEN 5 THEN 'IRODS' ELSE 'LINUX' END,
	'u' || (k %% 20), 'node' || ((k * 13) %% 100) || '.example.org', (k %% 4) <> 0,
	'${apiUserId}', 'PKI_KEYS', CASE k %% 3 WHEN 0 THEN 22 ELSE 2222 END,
	CASE WHEN k %% 97 = 0 THEN '["gpu","rare"]' WHEN k %% 3 = 0 THEN '["gpu"]' ELSE '[]' END, (k %% 50) = 7,
	timestamptz '2024-01-01 00:00:00+00' + k * interval '1 minute',
	timestamptz '2024-01-01 00:00:00+00' + k * interval '1 minute'
FROM (SELECT x %% %d AS t, x / %d AS k FROM generate_series(0, %d) AS x) AS r`

// planCase is one search, as the service hands it to the store.
type planCase struct {
	name   string
	filter func(t *testing.T) systems.ListFilter
	// pgOnly: SQLite cannot index membership in a JSON array (migration
	// 0007), so there the case is not checked.
	pgOnly bool
}

func planCases() []planCase {
	query := func(q string) func(t *testing.T) search.Node {
		return func(t *testing.T) search.Node {
			n, err := search.ParseQuery(q, systems.SearchSchema, search.DefaultLimits())
			require.NoError(t, err)
			return n
		}
	}
	sqlq := func(q string) func(t *testing.T) search.Node {
		return func(t *testing.T) search.Node {
			n, err := search.ParseSQL([]string{q}, systems.SearchSchema, search.DefaultLimits())
			require.NoError(t, err)
			return n
		}
	}
	orderBy := func(t *testing.T, o string) []search.Order {
		orders, err := search.ParseOrderBy(o, systems.SearchSchema)
		require.NoError(t, err)
		return orders
	}
	var shared []string // some systems shared with the caller (listType=ALL)
	for i := 0; i < 40; i++ {
		shared = append(shared, fmt.Sprintf("sys-%06d", i*211))
	}
	return []planCase{
		{"README: GET /v3/systems?search=(host.like.login*) (OWNED)", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{Owner: "u7", Search: query("(host.like.node1*)")(t), Limit: 100}
		}, false},
		{"README: POST /v3/systems/search system_type = 'LINUX' AND port < 1024 (listType=ALL)", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{Visible: &systems.Visibility{Owner: "u7", IDs: shared},
				Search: sqlq("system_type = 'LINUX' AND port < 1024")(t), Limit: 100}
		}, false},
		{"issue 16: (systemType.eq.LINUX)~(enabled.eq.true)~(host.like.node1*) (OWNED)", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{Owner: "u7", Search: query("(systemType.eq.LINUX)~(enabled.eq.true)~(host.like.node1*)")(t), Limit: 100}
		}, false},
		{"a plain OWNED page", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{Owner: "u7", Limit: 100}
		}, false},
		{"id prefix (id.like.sys-0001*) (OWNED)", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{Owner: "u7", Search: query("(id.like.sys-0001*)")(t), Limit: 100}
		}, false},
		{"host equality, listType=ALL", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{Visible: &systems.Visibility{Owner: "u7", IDs: shared},
				Search: query("(host.eq.node42.example.org)")(t), Limit: 100}
		}, false},
		{"systemType and enabled, listType=ALL", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{Visible: &systems.Visibility{Owner: "u7", IDs: shared},
				Search: query("(systemType.eq.IRODS)~(enabled.eq.false)")(t), Limit: 100}
		}, false},
		{"orderBy=created(desc), OWNED", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{Owner: "u7", Order: orderBy(t, "created(desc)"), Limit: 10}
		}, false},
		{"orderBy=updated, SHARED_PUBLIC", func(t *testing.T) systems.ListFilter {
			return systems.ListFilter{IDs: shared, Order: orderBy(t, "updated"), Limit: 10}
		}, false},
		{"a rare tag (tags.contains.rare), listType=ALL with many shares", func(t *testing.T) systems.ListFilter {
			many := make([]string, 0, 2000)
			for i := 0; i < 2000; i++ {
				many = append(many, fmt.Sprintf("sys-%06d", i*5))
			}
			return systems.ListFilter{Visible: &systems.Visibility{Owner: "u7", IDs: many},
				Search: query("(tags.contains.rare)")(t), Limit: 100}
		}, true},
	}
}

func TestSearchPlansSQLite(t *testing.T) {
	runSearchPlans(t, sqliteFile, false)
}

// TestSearchPlansPostgres skips unless TAPIS_TEST_POSTGRES_DSN is set.
// Generating the rows is one statement that may run longer than the
// driver's default read timeout (10 s) on a loaded machine.
func TestSearchPlansPostgres(t *testing.T) {
	if os.Getenv("TAPIS_TEST_POSTGRES_DSN") == "" {
		t.Skip("TAPIS_TEST_POSTGRES_DSN not set: PostgreSQL search plans skipped")
	}
	runSearchPlans(t, func(t *testing.T) *bunstore.Store {
		t.Helper()
		u, err := url.Parse(testenv.PostgresSchemaDSN(t))
		require.NoError(t, err)
		q := u.Query()
		q.Set("read_timeout", "3m")
		u.RawQuery = q.Encode()
		return openMigrated(t, u.String())
	}, true)
}

func runSearchPlans(t *testing.T, open backend, pg bool) {
	if testing.Short() {
		t.Skip("-short: generating 100k systems is skipped; run without -short to enable")
	}
	if raceEnabled {
		t.Skip("the race detector makes generating 100k systems take minutes; run without -race to enable (scripts/test does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	st := open(t)
	began := time.Now()
	db := st.DB().DB
	if pg {
		_, err := db.ExecContext(ctx, fmt.Sprintf(planRowsPostgres, planTenants, planTenants, planTenants*planPerTenant-1))
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "ANALYZE systems")
		require.NoError(t, err)
	} else {
		_, err := db.ExecContext(ctx, fmt.Sprintf(planRowsSQLite, planTenants*planPerTenant-1, planTenants, planTenants))
		require.NoError(t, err)
		// What the server's housekeeping does every ten minutes: SQLite
		// plans by statistics only where ANALYZE left some.
		require.NoError(t, st.Optimize(ctx))
	}
	t.Logf("%d systems generated in %v", planTenants*planPerTenant, time.Since(began).Round(time.Millisecond))

	log := &queryLog{}
	st.AddQueryHook(log)
	for _, c := range planCases() {
		t.Run(c.name, func(t *testing.T) {
			if c.pgOnly && !pg {
				t.Skip("SQLite cannot index membership in a JSON array (migration 0007); TAPIS_TEST_POSTGRES_DSN enables this case on PostgreSQL")
			}
			f := c.filter(t)
			var found int
			queries := log.during(t, func() error {
				list, err := st.ListSystems(ctx, "t3", f)
				found = len(list)
				return err
			})
			require.Len(t, queries, 1)
			plan := explain(ctx, t, st, pg, queries[0], log.lastArgs())
			t.Logf("%d found; plan:\n%s", found, plan)
			for _, bad := range fullScans(plan, pg) {
				assert.Failf(t, "a full scan where an index should serve", "%s\nin the plan of\n%s\n%s", bad, queries[0], plan)
			}
		})
	}
}

// explain returns the plan of the store's query, one step a line.
func explain(ctx context.Context, t *testing.T, st *bunstore.Store, pg bool, query string, args []any) string {
	t.Helper()
	prefix := "EXPLAIN QUERY PLAN "
	if pg {
		prefix = "EXPLAIN "
		for n := 1; strings.Contains(query, "?"); n++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", n), 1)
		}
	}
	rows, err := st.DB().DB.QueryContext(ctx, prefix+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	var lines []string
	for rows.Next() {
		if pg {
			var line string
			require.NoError(t, rows.Scan(&line))
			lines = append(lines, line)
			continue
		}
		var id, parent, notUsed int
		var detail string
		require.NoError(t, rows.Scan(&id, &parent, &notUsed, &detail))
		lines = append(lines, detail)
	}
	require.NoError(t, rows.Err())
	return strings.Join(lines, "\n")
}

// fullScans returns the steps of a plan that read all of the systems
// table, or all of one tenant's rows of it: SQLite's SCAN systems (with or
// without an index) or a SEARCH bounded by the tenant alone; PostgreSQL's
// Seq Scan on systems or an index condition naming the tenant only (unless
// it is ANDed with another bitmap).
func fullScans(plan string, pg bool) []string {
	var bad []string
	lines := strings.Split(plan, "\n")
	for i, l := range lines {
		s := strings.TrimSpace(l)
		if !pg {
			table := strings.HasPrefix(s, "SCAN systems") || strings.HasPrefix(s, "SCAN sys ") || s == "SCAN sys"
			tenantOnly := (strings.HasPrefix(s, "SEARCH systems ") || strings.HasPrefix(s, "SEARCH sys ")) &&
				strings.HasSuffix(s, "(tenant=?)")
			if table || tenantOnly {
				bad = append(bad, s)
			}
			continue
		}
		if strings.Contains(s, "Seq Scan on systems") {
			bad = append(bad, s)
		}
		if strings.Contains(s, "Index Cond: (tenant = ") && !strings.Contains(s, " AND ") && i > 0 &&
			strings.Contains(lines[i-1], " on systems") && !underBitmapAnd(lines, i-1) {
			bad = append(bad, strings.TrimSpace(lines[i-1])+" / "+s)
		}
	}
	return bad
}

// underBitmapAnd reports whether the plan node on line i is an input of a
// BitmapAnd: a tenant-only bitmap ANDed with a selective one reads only
// the rows both select.
func underBitmapAnd(lines []string, i int) bool {
	indent := func(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }
	for j := i - 1; j >= 0; j-- {
		if indent(lines[j]) < indent(lines[i]) {
			return strings.Contains(lines[j], "BitmapAnd")
		}
	}
	return false
}
