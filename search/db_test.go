package search

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/pgdriver"
	_ "modernc.org/sqlite"
)

// dbRow is a row of the scratch table, written by bun as the bun adapters
// write systems. Pointers are the nullable columns.
type dbRow struct {
	ID             string     `bun:"id,pk"`
	Name           *string    `bun:"name"`
	Description    string     `bun:"description"`
	Owner          *string    `bun:"owner"`
	Host           string     `bun:"host"`
	SystemType     string     `bun:"system_type"`
	BucketName     string     `bun:"bucket_name"`
	RootDir        string     `bun:"root_dir"`
	JobWorkingDir  string     `bun:"job_working_dir"`
	BatchScheduler *string    `bun:"batch_scheduler"`
	Port           *int64     `bun:"port"`
	ProxyPort      int64      `bun:"proxy_port"`
	Enabled        bool       `bun:"enabled"`
	Deleted        *bool      `bun:"deleted"`
	Created        time.Time  `bun:"created"`
	Updated        *time.Time `bun:"updated"`
	Tags           *string    `bun:"tags"` // JSON array

	TagList []string `bun:"-"` // what Tags holds; nil with Tags nil is NULL
}

// fields is the row as Eval sees it.
func (r *dbRow) fields() Fields {
	f := Fields{
		"id": r.ID, "name": r.Name, "description": r.Description, "owner": r.Owner, "host": r.Host,
		"systemType": sysType(r.SystemType), "bucketName": r.BucketName, "rootDir": r.RootDir,
		"jobWorkingDir": r.JobWorkingDir, "batchScheduler": r.BatchScheduler, "port": r.Port,
		"proxyPort": r.ProxyPort, "enabled": r.Enabled, "deleted": r.Deleted, "created": r.Created,
		"updated": r.Updated,
	}
	if r.Tags != nil {
		f["tags"] = r.TagList
	}
	return f
}

const sqliteDDL = `CREATE TABLE %s (
	id TEXT NOT NULL PRIMARY KEY, name TEXT, description TEXT NOT NULL, owner TEXT,
	host TEXT NOT NULL, system_type TEXT NOT NULL, bucket_name TEXT NOT NULL,
	root_dir TEXT NOT NULL, job_working_dir TEXT NOT NULL, batch_scheduler TEXT,
	port INTEGER, proxy_port INTEGER NOT NULL, enabled INTEGER NOT NULL, deleted INTEGER,
	created TEXT NOT NULL, updated TEXT, tags TEXT
) STRICT`

const postgresDDL = `CREATE TABLE %s (
	id TEXT NOT NULL PRIMARY KEY, name TEXT, description TEXT NOT NULL, owner TEXT,
	host TEXT NOT NULL, system_type TEXT NOT NULL, bucket_name TEXT NOT NULL,
	root_dir TEXT NOT NULL, job_working_dir TEXT NOT NULL, batch_scheduler TEXT,
	port BIGINT, proxy_port BIGINT NOT NULL, enabled BOOLEAN NOT NULL, deleted BOOLEAN,
	created TIMESTAMPTZ NOT NULL, updated TIMESTAMPTZ, tags TEXT
)`

// backend is one database holding the scratch table.
type backend struct {
	name    string
	dialect Dialect
	db      *bun.DB
	table   string
	n       int // tables created
}

// backends opens SQLite (always) and PostgreSQL (when
// TAPIS_TEST_POSTGRES_DSN is set).
func backends(t *testing.T) []*backend {
	t.Helper()
	sqldb, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "search.db"))
	require.NoError(t, err)
	sqlite := &backend{name: "sqlite", dialect: SQLite, db: bun.NewDB(sqldb, sqlitedialect.New())}
	t.Cleanup(func() { _ = sqlite.db.Close() })
	out := []*backend{sqlite}

	dsn := os.Getenv("TAPIS_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Log("PostgreSQL skipped: set TAPIS_TEST_POSTGRES_DSN (scripts/pg-start.sh prints one) to run it")
		return out
	}
	pg := &backend{name: "postgres", dialect: Postgres,
		db: bun.NewDB(sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn))), pgdialect.New())}
	t.Cleanup(func() { _ = pg.db.Close() })
	require.NoError(t, pg.db.Ping(), "TAPIS_TEST_POSTGRES_DSN")
	return append(out, pg)
}

// load creates a fresh scratch table holding rows.
func (b *backend) load(t *testing.T, rows []dbRow) {
	t.Helper()
	ctx := context.Background()
	b.n++
	b.table = fmt.Sprintf("search_test_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, b.n)
	ddl := sqliteDDL
	if b.dialect == Postgres {
		ddl = postgresDDL
	}
	_, err := b.db.ExecContext(ctx, fmt.Sprintf(ddl, b.table))
	require.NoError(t, err)
	table := b.table
	t.Cleanup(func() { _, _ = b.db.ExecContext(context.Background(), "DROP TABLE IF EXISTS "+table) })
	_, err = b.db.NewInsert().Model(&rows).ModelTableExpr(b.table).Exec(ctx)
	require.NoError(t, err)
}

// ids runs a search through bun, as the bun adapters do: the ToSQL
// fragment in Where, OrderSQL in OrderExpr.
func (b *backend) ids(t *testing.T, n Node, orders []Order, p Page) []string {
	t.Helper()
	if p.Limit == 0 {
		return []string{} // bun's Limit(0) is "no limit": a store must not query
	}
	where, args := ToSQL(AndOf(n, p.After), b.dialect)
	q := b.db.NewSelect().TableExpr(b.table).Column("id").Where(where, args...).
		OrderExpr(OrderSQL(withID(orders), b.dialect)).Limit(int64(p.Limit)).Offset(int64(p.Skip))
	var ids []string
	require.NoError(t, q.Scan(context.Background(), &ids), "%s: %s %v", b.name, where, args)
	if ids == nil {
		ids = []string{}
	}
	return ids
}

// sqliteTimeText is the text form in which bun's sqlitedialect writes a
// time (the scratch table's rows and bun's own query arguments): the form a
// store binding arguments itself must give time.Time arguments on SQLite
// (bunstore does; search passes times as they are).
const sqliteTimeText = "2006-01-02 15:04:05.999999-07:00"

// rawIDs runs the same search through database/sql with ? placeholders
// bound by the driver (SQLite only: pgdriver wants $n), times encoded as
// the table holds them.
func (b *backend) rawIDs(t *testing.T, n Node, orders []Order, p Page) []string {
	t.Helper()
	where, args := ToSQL(AndOf(n, p.After), b.dialect)
	for i, a := range args {
		if tm, ok := a.(time.Time); ok {
			args[i] = tm.UTC().Format(sqliteTimeText)
		}
	}
	query := fmt.Sprintf("SELECT id FROM %s WHERE %s ORDER BY %s LIMIT ? OFFSET ?", b.table, where, OrderSQL(withID(orders), b.dialect))
	rows, err := b.db.DB.QueryContext(context.Background(), query, append(args, p.Limit, p.Skip)...)
	require.NoError(t, err, "%s: %s %v", b.name, where, args)
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

var idOrder = Order{Attr: sysSchema.byKey["id"]}

func withID(orders []Order) []Order {
	return append(slices.Clone(orders), idOrder)
}

// evalIDs answers a search in memory: Eval, CompareRows, skip and limit.
func evalIDs(rows []dbRow, n Node, orders []Order, p Page) []string {
	filter := AndOf(n, p.After)
	var hits []Fields
	for i := range rows {
		if f := rows[i].fields(); Eval(filter, f) {
			hits = append(hits, f)
		}
	}
	all := withID(orders)
	slices.SortFunc(hits, func(a, b Fields) int { return CompareRows(a, b, all) })
	ids := []string{}
	for i, h := range hits {
		if i >= p.Skip && len(ids) < p.Limit {
			ids = append(ids, h["id"].(string))
		}
	}
	return ids
}

// check runs one search on every backend and in memory and requires the
// same ids in the same order; it returns them.
func check(t *testing.T, bs []*backend, rows []dbRow, n Node, orders []Order, p Page, label string) []string {
	t.Helper()
	want := evalIDs(rows, n, orders, p)
	for _, b := range bs {
		assert.Equal(t, want, b.ids(t, n, orders, p), "%s (bun): %s", b.name, label)
		if b.dialect == SQLite {
			assert.Equal(t, want, b.rawIDs(t, n, orders, p), "%s (database/sql): %s", b.name, label)
		}
	}
	return want
}

const key = "Kx9"

func sysID(i int) string   { return fmt.Sprintf("TestSys_%s_%03d", key, i) }
func sysHost(i int) string { return fmt.Sprintf("host%s%03d.test.org", key, i) }

// searchDaoRows is the dataset of the original's SearchDaoTest (reference
// §7.7 D): 20 LINUX systems, 001-010 owned by owner2, 011-020 by owner1.
func searchDaoRows() []dbRow {
	tags := []string{"value1", "value2", "value 3"}
	tagsJSON, _ := json.Marshal(tags)
	rows := make([]dbRow, 20)
	for i := range rows {
		n := i + 1
		owner := "owner2"
		if n > 10 {
			owner = "owner1"
		}
		port := int64(n)
		deleted := false
		sched := "SLURM"
		rows[i] = dbRow{
			ID: sysID(n), Description: fmt.Sprintf("description %s %03d", key, n), Owner: &owner,
			Host: sysHost(n), SystemType: "LINUX", BucketName: fmt.Sprintf("bucket%03d", n),
			RootDir: fmt.Sprintf("/root/%03d", n), JobWorkingDir: fmt.Sprintf("/work/%03d", n),
			BatchScheduler: &sched, Port: &port, ProxyPort: -1, Enabled: true, Deleted: &deleted,
			Created: time.Date(2023, 6, 1, 12, 0, n, 500000000+n, time.UTC),
			Tags:    ptr(string(tagsJSON)), TagList: tags,
		}
	}
	rows[18].Description = ".:_"
	rows[19].Description = `,()~*!\`
	rows[19].JobWorkingDir = `abc\,def`
	return rows
}

func ptr[T any](v T) *T { return &v }

// Reference §7.7 D: the original's DAO tests, through the query-string and
// the SQL-like syntax, on every backend and in memory.
func TestSearchDAO(t *testing.T) {
	bs := backends(t)
	rows := searchDaoRows()
	for _, b := range bs {
		b.load(t, rows)
	}
	page := Page{Limit: 1000}
	scopeQ := mustQuery(t, "id.like.*"+key+"*")
	scopeS := mustSQL(t, "id LIKE '%"+key+"%'")
	ts2200 := []string{"2200-04-29T14:15:52.123456Z", "2200-04-29T14:15:52.123456", "2200-04-29T14:15:52.123456-06:00",
		"2200-04-29T14:15:52.123-01:00", "2200-04-29T14:15:52+05:30", "2200-04-29T14:15:52Z", "2200-04-29T14:15:52",
		"2200-04-29T14:15+01:00", "2200-04-29T14:15Z", "2200-04-29T14:15", "2200-04-29T14-06:00", "2200-04-29T14Z",
		"2200-04-29T14", "2200-04-29-06:00", "2200-04-29Z", "2200-04-29", "2200-04+03:00", "2200-04Z", "2200-04",
		"2200-06:00", "2200Z", "2200", "2200-04-29t14:15:52"}
	const t1800 = "1800-01-01T00:00:00.123456Z"
	type tc struct {
		query, sql string
		count      int
		unscoped   bool
	}
	cases := []tc{
		{"id.eq." + sysID(1), "id = '" + sysID(1) + "'", 1, false},
		{"description.eq.description " + key + " 001", "description = 'description " + key + " 001'", 1, false},
		{"host.eq." + sysHost(1), "host = '" + sysHost(1) + "'", 1, false},
		{"bucket_name.eq.bucket001", "bucket_name = 'bucket001'", 1, false},
		{"root_dir.eq./root/001", "root_dir = '/root/001'", 1, false},
		{"job_working_dir.eq./work/001", "job_working_dir = '/work/001'", 1, false},
		{"batch_scheduler.eq.SLURM", "batch_scheduler = 'SLURM'", 20, false},
		{"owner.eq.owner1", "owner = 'owner1'", 10, false},
		{"owner.eq.owner2", "owner = 'owner2'", 10, false},
		{"enabled.eq.true", "enabled = true", 20, false},
		{"deleted.eq.false", "deleted = false", 20, false},
		{"deleted.neq.true", "deleted <> true", 20, false},
		{"deleted.eq.true", "deleted = true", 0, false},
		{"id.like." + sysID(1), "id LIKE '" + sysID(1) + "'", 1, false},
		{"id.nlike." + sysID(1), "id NLIKE '" + sysID(1) + "'", 19, false},
		{"id.in.noSuchName1,noSuchName2," + sysID(1) + ",noSuchName3", "id IN ('noSuchName1','noSuchName2','" + sysID(1) + "','noSuchName3')", 1, false},
		{"id.nin.noSuchName1,noSuchName2," + sysID(1) + ",noSuchName3", "id NIN ('noSuchName1','noSuchName2','" + sysID(1) + "','noSuchName3')", 19, false},
		{"system_type.eq.LINUX", "system_type = LINUX", 20, false},
		{"(system_type.eq.LINUX)~(owner.neq.owner2)", "system_type = LINUX AND owner <> 'owner2'", 10, false},
		{"tags.in.value1", "tags IN ('value1')", 20, false},
		{"tags.in.value1,value2", "tags IN ('value1','value2')", 20, false},
		{"tags.in.value 3", "tags IN ('value 3')", 20, false},
		{"tags.contains.value 3", "", 20, false},
		{"tags.in.no such tag value", "tags IN ('no such tag value')", 0, false},
		{"tags.nin.value1", "tags NIN ('value1')", 0, false},
		{"tags.ncontains.nope", "tags NOT IN ('nope')", 20, false},
		{"port.between.1,10", "port BETWEEN '1' AND '10'", 10, false},
		{"port.between.2,10", "port BETWEEN '2' AND '10'", 9, false},
		{"port.nbetween.1,10", "port NBETWEEN '1' AND '10'", 10, false},
		{"port.lte.13", "port <= '13'", 13, false},
		{"(port.gt.1)~(port.lt.7)", "port > '1' AND port < '7'", 5, false},
		{"host.lte." + sysHost(1), "host < '" + sysHost(2) + "'", 1, false},
		{"host.gt." + sysHost(7), "", 13, false},
		{"", "host > '" + sysHost(8) + "'", 12, false},
		{"(host.gt." + sysHost(1) + ")~(host.lt." + sysHost(7) + ")", "host > '" + sysHost(2) + "' AND host < '" + sysHost(8) + "'", 5, false},
		{"host.between." + sysHost(1) + "," + sysHost(7), "host BETWEEN '" + sysHost(2) + "' AND '" + sysHost(8) + "'", 7, false},
		{"host.nbetween." + sysHost(1) + "," + sysHost(7), "host NBETWEEN '" + sysHost(2) + "' AND '" + sysHost(8) + "'", 13, false},
		{"created.gt." + t1800, "created > '" + t1800 + "'", 20, false},
		{"created.lte." + t1800, "created <= '" + t1800 + "'", 0, false},
		{"created.gte." + ts2200[0], "created >= '" + ts2200[0] + "'", 0, false},
		{"created.between." + t1800 + "," + ts2200[0], "created BETWEEN '" + t1800 + "' AND '" + ts2200[0] + "'", 20, false},
		{"created.nbetween." + t1800 + "," + ts2200[0], "created NOT BETWEEN '" + t1800 + "' AND '" + ts2200[0] + "'", 0, false},
		{"host.like.host" + key + "*", "host LIKE 'host" + key + "%'", 20, true},
		{"host.nlike.host" + key + "*", "host NLIKE 'host" + key + "%'", 0, true},
		{"host.like.host" + key + "00!.test.org", "host LIKE 'host" + key + "00_.test.org'", 9, false},
		{"host.nlike.host" + key + "00!.test.org", "host NLIKE 'host" + key + "00_.test.org'", 11, false},
		{"host.like.host" + key + "__", "", 0, false},
		{"host.like.host" + key + "00%", "", 0, false},
		{`description.like.\,\(\)\~\*\!\\`, `description LIKE ',()~*!\\'`, 1, false},
		{`description.nlike.\,\(\)\~\*\!\\`, `description NLIKE ',()~*!\\'`, 19, false},
		{`description.eq.\,\(\)\~*!\`, `description = ',()~*!\'`, 1, false},
		{`description.neq.\,\(\)\~*!\`, `description <> ',()~*!\'`, 19, false},
		{"", `description = '.:_'`, 1, false},
		{"", `description LIKE '.:_'`, 1, false},
		{`job_working_dir.in.noSuchDir,abc\,def`, `job_working_dir IN ('noSuchDir','abc\,def')`, 1, false},
		// the exact instant of one row, at microsecond precision
		{"created.eq.2023-06-01T12:00:03.500000Z", "created = '2023-06-01T12:00:03.500000003Z'", 1, false},
		{"created.lt.2023-06-01T12:00:03.5Z", "created < '2023-06-01T12:00:03.5Z'", 2, false},
		{"created.lte.2023-06-01T12:00:03.5Z", "created <= '2023-06-01T14:00:03.5+02:00'", 3, false},
	}
	for _, ts := range ts2200 {
		cases = append(cases, tc{"created.lt." + ts, "created < '" + ts + "'", 20, false})
	}
	for _, c := range cases {
		if c.query != "" {
			n := mustQuery(t, c.query)
			if !c.unscoped {
				n = AndOf(scopeQ, n)
			}
			ids := check(t, bs, rows, n, nil, page, c.query)
			assert.Len(t, ids, c.count, c.query)
			p, err := ParseParams(toParams(t, c.query), sysSchema, nil, Limits{})
			require.NoError(t, err, c.query)
			assert.Equal(t, conds(mustQuery(t, c.query)), conds(p), "params: %s", c.query)
		}
		if c.sql != "" {
			n := mustSQL(t, c.sql)
			if !c.unscoped {
				n = AndOf(scopeS, n)
			}
			ids := check(t, bs, rows, n, nil, page, c.sql)
			assert.Len(t, ids, c.count, c.sql)
		}
	}
}

// Reference §7.7 D: paging and sorting over the same 20 rows.
func TestSearchDAOPaging(t *testing.T) {
	bs := backends(t)
	rows := searchDaoRows()
	for _, b := range bs {
		b.load(t, rows)
	}
	ids := func(from, to int) []string { // inclusive, either direction
		var out []string
		for i := from; ; {
			out = append(out, sysID(i))
			if i == to {
				return out
			}
			if from < to {
				i++
			} else {
				i--
			}
		}
	}
	run := func(limit, skip, orderBy, startAfter string) []string {
		t.Helper()
		orders, err := ParseOrderBy(orderBy, sysSchema)
		require.NoError(t, err)
		p, err := ParsePage(limit, skip, startAfter, orders, 0)
		require.NoError(t, err)
		label := fmt.Sprintf("limit=%s skip=%s orderBy=%s startAfter=%s", limit, skip, orderBy, startAfter)
		return check(t, bs, rows, nil, orders, p, label)
	}
	for _, tc := range []struct {
		limit, skip string
		count       int
	}{
		{"-1", "", 20}, {"0", "", 20}, {"1", "", 1}, {"5", "", 5}, {"19", "", 19}, {"20", "", 20}, {"200", "", 20},
		{"20", "17", 3}, {"100", "0", 20}, {"0", "1", 19}, {"10", "15", 5}, {"10", "100", 0},
	} {
		assert.Len(t, run(tc.limit, tc.skip, "", ""), tc.count, "limit %s skip %s", tc.limit, tc.skip)
	}
	assert.Equal(t, ids(1, 20), run("", "", "id(asc)", ""))
	assert.Equal(t, ids(20, 1), run("", "", "id(desc)", ""))
	assert.Equal(t, ids(1, 4), run("4", "", "id(asc)", ""))
	assert.Equal(t, ids(20, 2), run("19", "", "id(desc)", ""))
	assert.Equal(t, ids(6, 7), run("2", "5", "id(asc)", ""))
	assert.Equal(t, ids(17, 14), run("4", "3", "id(desc)", ""))
	assert.Equal(t, ids(1, 20), run("", "", "system_type(asc),id(asc)", ""))
	assert.Equal(t, ids(20, 1), run("", "", "system_type(asc),id(desc)", ""))
	assert.Equal(t, ids(6, 7), run("2", "", "id(asc)", sysID(5)))
	assert.Equal(t, ids(17, 14), run("4", "", "id(desc)", sysID(18)))
	assert.Equal(t, ids(17, 14), run("4", "", "bucket_name(desc),id(asc)", "bucket018"))
	assert.Equal(t, ids(11, 12), run("2", "", "created", "2023-06-01T12:00:10.500000010Z"))
	assert.Equal(t, ids(9, 8), run("2", "", "created(desc)", "2023-06-01T12:00:10.5Z"))
	assert.Equal(t, append(ids(11, 20), ids(1, 10)...), run("", "", "owner,port", ""))
	assert.Empty(t, run("", "", "enabled", "true"))
	assert.Len(t, run("", "", "enabled", "false"), 20)
}

// A value that would be an injection if it reached the SQL text only ever
// travels as an argument.
func TestSearchInjection(t *testing.T) {
	bs := backends(t)
	rows := searchDaoRows()
	evil := `x'); DROP TABLE sys; --`
	rows[0].Description = evil
	for _, b := range bs {
		b.load(t, rows)
	}
	for _, q := range []string{
		"description = '" + strings.ReplaceAll(evil, "'", "''") + "'",
		"description LIKE '%DROP TABLE%'",
		`description IN ('a'' OR ''1''=''1', 'b')`,
		`description = ''' OR 1=1 --'`,
		`description = '?'`, `description = '$1'`, `description LIKE '?%'`, `description = '\'`,
	} {
		n := mustSQL(t, q)
		ids := check(t, bs, rows, n, nil, Page{Limit: 100}, q)
		if strings.Contains(q, "DROP") || strings.HasPrefix(q, "description = 'x") {
			assert.Len(t, ids, 1, q)
		}
	}
	n := mustSQL(t, "description = '"+strings.ReplaceAll(evil, "'", "''")+"'")
	assert.Equal(t, []string{sysID(1)}, check(t, bs, rows, n, nil, Page{Limit: 100}, "evil"))
}
