package bunstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

// The search benchmark (perf-reliability P7): a three-condition search over
// 100k systems (10 tenants x 10k) on an SQLite file, through the store and
// as the same predicate in hand-written SQL on the same file in the same
// run, and the parse + translate step alone. Each sub-benchmark reports
// ns/op and the p50 and p95 of its iterations; store also reports them as
// multiples of raw's, and the top level logs the ratios (-v). Only ratios within one run mean anything on a shared machine.
//
//	go test -run '^$' -bench SystemSearch -benchtime 200x ./adapters/bunstore/

const (
	searchBenchTenants   = 10
	searchBenchPerTenant = 10000
	// searchBenchQuery selects about 55 of a tenant's 10k systems: owner u7
	// (1 in 20), a port above 1000 (about 9 in 10), a host node1* (node1
	// and node10-node19: 11 in 100).
	searchBenchQuery  = "(owner.eq.u7)~(port.gt.1000)~(host.like.node1*)"
	searchBenchTenant = "t3"
	searchBenchLimit  = 100
)

// searchBenchRawSQL is searchBenchQuery as a developer would write it by
// hand: the same columns as the store reads, the same tenant and deleted
// predicates, GLOB for the case-sensitive LIKE (as the store translates it).
var searchBenchRawSQL = fmt.Sprintf(
	"SELECT %s FROM systems WHERE tenant = ? AND deleted = 0 AND owner = ? AND port > ? AND host GLOB ? ORDER BY id LIMIT %d",
	strings.Join(systemColumns, ", "), searchBenchLimit)

// searchBenchDB caches the seeded database file of the first run for the
// later runs of the process (-count), as long as that run's directory
// exists.
var searchBenchDB struct {
	sync.Mutex
	path string
}

// openSearchBench returns a store on the seeded file, building it when
// needed: one transaction of prepared INSERTs, then a WAL checkpoint.
func openSearchBench(b *testing.B) *bunstore.Store {
	b.Helper()
	ctx := context.Background()
	searchBenchDB.Lock()
	defer searchBenchDB.Unlock()
	open := func(path string) *bunstore.Store {
		st, err := bunstore.Open(ctx, "sqlite:"+path)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = st.Close() })
		return st
	}
	if p := searchBenchDB.path; p != "" {
		if _, err := os.Stat(p); err == nil {
			return open(p)
		}
	}
	start := time.Now()
	path := filepath.Join(b.TempDir(), "search.db")
	st := open(path)
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	db := st.DB().DB
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO systems (tenant, id, description, system_type, owner, host,
		enabled, effective_user_id, default_authn_method, port, can_exec, tags, created, updated)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 11))
	types := []string{"LINUX", "LINUX", "S3", "IRODS", "GLOBUS"}
	tags := []string{`[]`, `["gpu"]`, `["gpu","ml"]`, `["storage"]`}
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for t := range searchBenchTenants {
		tenant := fmt.Sprintf("t%d", t)
		for i := range searchBenchPerTenant {
			port := []int{22, 443, 2222, 8080, r.IntN(65536)}[r.IntN(5)]
			when := base.Add(time.Duration(r.Int64N(int64(365 * 24 * time.Hour)))).Truncate(time.Microsecond)
			_, err := ins.ExecContext(ctx, tenant, fmt.Sprintf("sys-%05d", i), fmt.Sprintf("system %d of %s", i, tenant),
				types[r.IntN(len(types))], fmt.Sprintf("u%d", r.IntN(20)), fmt.Sprintf("node%d.example.org", r.IntN(100)),
				r.IntN(4) != 0, "${apiUserId}", "PKI_KEYS", port, r.IntN(2), tags[r.IntN(len(tags))],
				when.Format(bunstore.SQLiteTimeFormat), when.Format(bunstore.SQLiteTimeFormat))
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := ins.Close(); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		b.Fatal(err)
	}
	searchBenchDB.path = path
	b.Logf("setup: %d systems (%d tenants x %d) in %v", searchBenchTenants*searchBenchPerTenant,
		searchBenchTenants, searchBenchPerTenant, time.Since(start).Round(time.Millisecond))
	return st
}

// latencies records the duration of each iteration of a sub-benchmark and
// reports their p50 and p95.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func (l latencies) mean() time.Duration {
	var sum time.Duration
	for _, d := range l {
		sum += d
	}
	return sum / time.Duration(len(l))
}

func (l latencies) report(b *testing.B) {
	b.ReportMetric(float64(l.quantile(0.50).Nanoseconds()), "p50-ns/op")
	b.ReportMetric(float64(l.quantile(0.95).Nanoseconds()), "p95-ns/op")
}

// BenchmarkSystemSearch: store (ListSystems with the parsed search, Limit
// 100), raw (the same predicate through database/sql, every column scanned)
// and parse+translate (search.ParseQuery and search.ToSQL alone). raw runs
// first, so that store reports its p50 and p95 as multiples of raw's
// (p50-x-raw, p95-x-raw).
func BenchmarkSystemSearch(b *testing.B) {
	ctx := context.Background()
	st := openSearchBench(b)
	db := st.DB().DB
	node, err := search.ParseQuery(searchBenchQuery, systems.SearchSchema, search.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	filter := systems.ListFilter{Search: node, Limit: searchBenchLimit}
	rawArgs := []any{searchBenchTenant, "u7", 1000, "node1*"}
	rawIDs := func() ([]string, error) {
		rows, err := db.QueryContext(ctx, searchBenchRawSQL, rawArgs...)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		vals := make([]any, len(systemColumns))
		for i := range vals {
			vals[i] = new(any)
		}
		var ids []string
		for rows.Next() {
			if err := rows.Scan(vals...); err != nil {
				return nil, err
			}
			ids = append(ids, fmt.Sprint(*vals[1].(*any)))
		}
		return ids, rows.Err()
	}

	// Both sides answer the same rows before anything is timed.
	list, err := st.ListSystems(ctx, searchBenchTenant, filter)
	if err != nil {
		b.Fatal(err)
	}
	want, err := rawIDs()
	if err != nil {
		b.Fatal(err)
	}
	got := make([]string, len(list))
	for i, s := range list {
		got[i] = s.ID
	}
	if !slices.Equal(got, want) || len(got) == 0 {
		b.Fatalf("store and raw SQL disagree:\nstore %v\nraw   %v", got, want)
	}
	b.Logf("%s in tenant %s: %d of %d systems", searchBenchQuery, searchBenchTenant, len(got), searchBenchPerTenant)
	where, args := search.ToSQL(node, search.SQLite)
	b.Logf("plan of the store's WHERE: %s", queryPlan(b, db,
		"SELECT id FROM systems WHERE tenant = ? AND deleted = 0 AND "+where+" ORDER BY id LIMIT 100",
		append([]any{searchBenchTenant}, args...)))
	b.Logf("plan of raw: %s", queryPlan(b, db, searchBenchRawSQL, rawArgs))

	results := map[string]latencies{}
	run := func(name string, op func() error) {
		b.Run(name, func(b *testing.B) {
			lat := make(latencies, 0, b.N)
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if err := op(); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			lat.report(b)
			results[name] = lat // the last run, the one reported
			if raw := results["raw"]; name == "store" && len(raw) > 0 {
				// The ratios beside the figures, measured in this run.
				b.ReportMetric(float64(lat.quantile(0.5))/float64(raw.quantile(0.5)), "p50-x-raw")
				b.ReportMetric(float64(lat.quantile(0.95))/float64(raw.quantile(0.95)), "p95-x-raw")
			}
		})
	}
	run("raw", func() error {
		_, err := rawIDs()
		return err
	})
	run("store", func() error {
		_, err := st.ListSystems(ctx, searchBenchTenant, filter)
		return err
	})
	run("parse+translate", func() error {
		n, err := search.ParseQuery(searchBenchQuery, systems.SearchSchema, search.Limits{})
		if err == nil {
			search.ToSQL(n, search.SQLite)
		}
		return err
	})

	s, r, p := results["store"], results["raw"], results["parse+translate"]
	if len(s) == 0 || len(r) == 0 || len(p) == 0 {
		return // a sub-benchmark was filtered out
	}
	ratio := func(a, b time.Duration) float64 { return float64(a) / float64(b) }
	b.Logf("store/raw: mean %.2fx, p50 %.2fx, p95 %.2fx (store p50 %v p95 %v; raw p50 %v p95 %v); parse+translate p50 %v = %.1f%% of store p50",
		ratio(s.mean(), r.mean()), ratio(s.quantile(0.5), r.quantile(0.5)), ratio(s.quantile(0.95), r.quantile(0.95)),
		s.quantile(0.5), s.quantile(0.95), r.quantile(0.5), r.quantile(0.95),
		p.quantile(0.5), 100*ratio(p.quantile(0.5), s.quantile(0.5)))
}

// queryPlan is SQLite's EXPLAIN QUERY PLAN of q, its steps joined by "; ".
func queryPlan(b *testing.B, db *sql.DB, q string, args []any) string {
	rows, err := db.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var steps []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			b.Fatal(err)
		}
		steps = append(steps, detail)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return strings.Join(steps, "; ")
}
