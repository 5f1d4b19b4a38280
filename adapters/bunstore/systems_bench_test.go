package bunstore_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/systems"
)

// The benchmarks run the store beside raw database/sql on the same SQLite
// file (the store's own pool, WAL, synchronous=NORMAL, _txlock=immediate), so
// that the ratio, not the absolute figure, says what bun and the store's
// shape cost (perf-reliability P8 for writes).
//
//	go test -run '^$' -bench 'BenchmarkSystem' -benchmem ./adapters/bunstore/

// benchSystemCount is the number of systems BenchmarkSystemGet reads among.
const benchSystemCount = 10000

// systemColumns lists the columns of systems in table order.
var systemColumns = []string{"tenant", "id", "description", "system_type", "owner", "host", "enabled",
	"effective_user_id", "default_authn_method", "bucket_name", "root_dir", "port", "use_proxy", "proxy_host",
	"proxy_port", "dtn_system_id", "can_exec", "can_run_batch", "enable_cmd_prefix", "mpi_cmd", "job_runtimes",
	"job_working_dir", "job_env_variables", "job_max_jobs", "job_max_jobs_per_user", "batch_scheduler",
	"batch_logical_queues", "batch_default_logical_queue", "batch_scheduler_profile", "job_capabilities",
	"tags", "notes", "import_ref_id", "uuid", "allow_children", "parent_id", "deleted", "created", "updated",
	"version"}

func openBenchStore(b *testing.B) *bunstore.Store {
	b.Helper()
	ctx := context.Background()
	st, err := bunstore.Open(ctx, "sqlite:"+filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return st
}

func mustJSON(b *testing.B, v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		b.Fatal(err)
	}
	return string(raw)
}

// rawSystemArgs is the row the store writes for fullSystem(tenant, id), as
// database/sql arguments in systemColumns order.
func rawSystemArgs(b *testing.B, tenant, id string) []any {
	s := fullSystem(tenant, id)
	bit := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	when := s.Created.Format("2006-01-02 15:04:05.999999-07:00")
	return []any{s.Tenant, s.ID, s.Description, string(s.SystemType), s.Owner, s.Host, bit(s.Enabled),
		s.EffectiveUserID, string(s.DefaultAuthnMethod), s.BucketName, s.RootDir, s.Port, bit(s.UseProxy),
		s.ProxyHost, s.ProxyPort, s.DTNSystemID, bit(s.CanExec), bit(s.CanRunBatch), bit(s.EnableCmdPrefix),
		s.MPICmd, mustJSON(b, s.JobRuntimes), s.JobWorkingDir, mustJSON(b, s.JobEnvVariables), s.JobMaxJobs,
		s.JobMaxJobsPerUser, s.BatchScheduler, mustJSON(b, s.BatchLogicalQueues), s.BatchDefaultLogicalQueue,
		s.BatchSchedulerProfile, mustJSON(b, s.JobCapabilities), mustJSON(b, s.Tags), mustJSON(b, s.Notes),
		s.ImportRefID, s.UUID, bit(s.AllowChildren), s.ParentID, bit(s.Deleted), when, when, 1}
}

func insertSQL(table string) string {
	return fmt.Sprintf("INSERT INTO %s (%s) VALUES (?%s)", table, strings.Join(systemColumns, ", "),
		strings.Repeat(", ?", len(systemColumns)-1))
}

// cloneTable creates an empty copy of table, its keys and indexes included,
// with every occurrence of each old name in its DDL replaced by the new one
// (the table's own name and those it references).
func cloneTable(b *testing.B, db *sql.DB, table string, rename ...string) {
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL ORDER BY type DESC`, table)
	if err != nil {
		b.Fatal(err)
	}
	var ddl []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			b.Fatal(err)
		}
		ddl = append(ddl, strings.NewReplacer(rename...).Replace(s))
	}
	if err := rows.Close(); err != nil {
		b.Fatal(err)
	}
	for _, s := range ddl {
		if _, err := db.ExecContext(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSystemCreate compares CreateSystem (a full system and its history
// record in one IMMEDIATE transaction, through bun) with raw database/sql on
// copies of the tables: one autocommit INSERT of the same system row (raw),
// and the same two INSERTs in one transaction (raw-tx).
func BenchmarkSystemCreate(b *testing.B) {
	ctx := context.Background()
	st := openBenchStore(b)
	db := st.DB().DB
	cloneTable(b, db, "systems", "systems", "bench_raw_systems")
	cloneTable(b, db, "systems", "systems", "bench_rawtx_systems")
	cloneTable(b, db, "system_history", "system_history", "bench_rawtx_history", "systems", "bench_rawtx_systems")
	desc := mustJSON(b, fullSystem("dev", "x"))
	// Sub-benchmark bodies run several times (b.N grows): ids keep counting.
	var seq int
	nextID := func(prefix string) string {
		seq++
		return fmt.Sprintf("%s-%d", prefix, seq)
	}

	b.Run("raw", func(b *testing.B) {
		q := insertSQL("bench_raw_systems")
		b.ReportAllocs()
		for b.Loop() {
			if _, err := db.ExecContext(ctx, q, rawSystemArgs(b, "dev", nextID("raw"))...); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-tx", func(b *testing.B) {
		q := insertSQL("bench_rawtx_systems")
		h := `INSERT INTO bench_rawtx_history (tenant, system_id, jwt_tenant, jwt_user, obo_tenant, obo_user, operation, description, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`
		b.ReportAllocs()
		for b.Loop() {
			id := nextID("rawtx")
			tx, err := db.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			_, err = tx.ExecContext(ctx, q, rawSystemArgs(b, "dev", id)...)
			if err == nil {
				_, err = tx.ExecContext(ctx, h, "dev", id, "dev", "alice", "dev", "alice", "create", desc,
					"2026-03-04 05:06:07.123456+00:00")
			}
			if err != nil {
				_ = tx.Rollback()
				b.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			id := nextID("store")
			s := fullSystem("dev", id)
			h := hist("dev", id, systems.OpCreate, desc)
			if err := st.CreateSystem(ctx, s, h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkSystemGet compares GetSystem with a raw point SELECT of the same
// row by primary key, unprepared (raw, what bun does) and prepared
// (raw-prepared), among benchSystemCount systems.
func BenchmarkSystemGet(b *testing.B) {
	ctx := context.Background()
	st := openBenchStore(b)
	db := st.DB().DB
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	ins, err := tx.PrepareContext(ctx, insertSQL("systems"))
	if err != nil {
		b.Fatal(err)
	}
	for i := range benchSystemCount {
		if _, err := ins.ExecContext(ctx, rawSystemArgs(b, "dev", fmt.Sprintf("sys-%05d", i))...); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	// The raw seed decodes as the store's own rows.
	got, err := st.GetSystem(ctx, "dev", "sys-00042")
	if err != nil {
		b.Fatal(err)
	}
	if want := fullSystem("dev", "sys-00042"); !reflect.DeepEqual(got, want) {
		b.Fatalf("seeded row reads back as\n%v\nwant\n%v", got, want)
	}
	id := func(i int) string { return fmt.Sprintf("sys-%05d", (i*7919)%benchSystemCount) }
	sel := fmt.Sprintf("SELECT %s FROM systems WHERE tenant = ? AND id = ?", strings.Join(systemColumns, ", "))
	scanRow := func(row *sql.Row) error {
		vals := make([]any, len(systemColumns))
		for i := range vals {
			vals[i] = new(any)
		}
		return row.Scan(vals...)
	}

	b.Run("raw", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if err := scanRow(db.QueryRowContext(ctx, sel, "dev", id(i))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("raw-prepared", func(b *testing.B) {
		stmt, err := db.PrepareContext(ctx, sel)
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if err := scanRow(stmt.QueryRowContext(ctx, "dev", id(i))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("store", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			i++
			if _, err := st.GetSystem(ctx, "dev", id(i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
