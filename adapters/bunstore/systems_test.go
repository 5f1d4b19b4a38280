package bunstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

func runSystems(t *testing.T, open backend) {
	t.Run("conformance", func(t *testing.T) {
		systemstest.RunStoreTests(t, func(t *testing.T) systems.Store { return open(t) })
	})
	t.Run("search", func(t *testing.T) {
		systemstest.RunSearchTests(t, func(t *testing.T) systems.Store { return open(t) })
	})
	t.Run("extra", func(t *testing.T) { runSystemsExtra(t, open) })
}

func TestSystemsSQLiteFile(t *testing.T) { runSystems(t, sqliteFile) }

// TestSystemsPostgres skips unless TAPIS_TEST_POSTGRES_DSN is set.
func TestSystemsPostgres(t *testing.T) { runSystems(t, postgres(t)) }

var sysWhen = time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)

func strp(s string) *string { return &s }

// fullSystem sets every attribute, nested values included.
func fullSystem(tenant, id string) systems.System {
	return systems.System{
		Tenant: tenant, ID: id, Description: "a system", SystemType: systems.TypeLinux, Owner: "alice",
		Host: "host.example.org", Enabled: true, EffectiveUserID: systems.VarAPIUserID,
		DefaultAuthnMethod: systems.AuthnPKIKeys, BucketName: "b", RootDir: "/home/${apiUserId}",
		Port: 22, UseProxy: true, ProxyHost: "proxy", ProxyPort: 8080, DTNSystemID: "dtn",
		CanExec: true, CanRunBatch: true, EnableCmdPrefix: true, MPICmd: "mpirun",
		JobRuntimes:     []systems.JobRuntime{{RuntimeType: "DOCKER", Version: strp("24")}, {RuntimeType: "SINGULARITY"}},
		JobWorkingDir:   "/scratch",
		JobEnvVariables: []systems.KeyValuePair{{Key: "K", Value: "v", Description: "d", InputMode: "FIXED", Notes: map[string]any{"x": 1.5}}},
		JobMaxJobs:      10, JobMaxJobsPerUser: 2, BatchScheduler: "SLURM",
		BatchLogicalQueues: []systems.LogicalQueue{{Name: "normal", HPCQueueName: "normal", MaxJobs: 5,
			MaxJobsPerUser: 1, MinNodeCount: 1, MaxNodeCount: 4, MinCoresPerNode: 1, MaxCoresPerNode: 48,
			MinMemoryMB: 1, MaxMemoryMB: 1024, MinMinutes: 1, MaxMinutes: 60}},
		BatchDefaultLogicalQueue: "normal", BatchSchedulerProfile: "prof",
		JobCapabilities: []systems.Capability{{Category: "SCHEDULER", Name: "Type", Datatype: "STRING", Precedence: 100, Value: strp("Slurm")}},
		Tags:            []string{"a", "<b&c>"},
		Notes:           map[string]any{"n": "v", "nested": map[string]any{"k": []any{1.0, "two", true, nil}}},
		ImportRefID:     "ref", UUID: "0b6f8f1c-9c6f-4a39-9d5e-3a3c8f0e1a11", AllowChildren: true,
		Created: sysWhen, Updated: sysWhen, Version: 1,
	}
}

func hist(tenant, id, op, desc string) systems.HistoryRecord {
	return systems.HistoryRecord{Tenant: tenant, SystemID: id, JWTTenant: tenant, JWTUser: "alice",
		OboTenant: tenant, OboUser: "alice", Operation: op, Description: json.RawMessage(desc), Created: sysWhen}
}

// runSystemsExtra checks what the shared suite does not: times in other
// zones, statements scoped by the tenant argument, the foreign key behind
// the history checks, large id lists, and read-modify-save loops under
// contention.
func runSystemsExtra(t *testing.T, open backend) {
	ctx := context.Background()

	t.Run("TimesAreUTCMicroseconds", func(t *testing.T) {
		st := open(t)
		zone := time.FixedZone("UTC+3", 3*3600)
		s := systemstest.Bare("dev", "s")
		s.Created = time.Date(2026, 1, 2, 3, 4, 5, 123456789, zone)
		s.Updated = s.Created.Add(time.Nanosecond)
		h := hist("dev", "s", systems.OpCreate, `{}`)
		h.Created = s.Created
		require.NoError(t, st.CreateSystem(ctx, s, h))
		got, err := st.GetSystem(ctx, "dev", "s")
		require.NoError(t, err)
		want := time.Date(2026, 1, 2, 0, 4, 5, 123456000, time.UTC)
		assert.Equal(t, want, got.Created)
		assert.Equal(t, want, got.Updated, "truncated, never rounded")
		assert.Equal(t, time.UTC, got.Created.Location())
		hs, err := st.ListHistory(ctx, "dev", "s")
		require.NoError(t, err)
		require.Len(t, hs, 1)
		assert.Equal(t, want, hs[0].Created)
	})

	t.Run("SaveIsScopedByTenantArgument", func(t *testing.T) {
		st := open(t)
		require.NoError(t, st.CreateSystem(ctx, systemstest.Bare("dev", "s"), hist("dev", "s", systems.OpCreate, `{}`)))
		s, err := st.GetSystem(ctx, "dev", "s")
		require.NoError(t, err)
		// Relabelled to another tenant, dev's system is out of reach.
		s.Tenant, s.Owner = "other", "mallory"
		err = st.SaveSystems(ctx, "other", []systems.System{s}, nil)
		require.ErrorIs(t, err, systems.ErrNotFound)
		got, err := st.GetSystem(ctx, "dev", "s")
		require.NoError(t, err)
		assert.Equal(t, "testuser1", got.Owner)
		assert.Equal(t, int64(1), got.Version)
		require.ErrorIs(t, st.PurgeSystem(ctx, "other", "s"), systems.ErrNotFound)
		_, err = st.GetSystem(ctx, "dev", "s")
		require.NoError(t, err, "a purge in another tenant leaves the system")
	})

	t.Run("HistoryForeignKey", func(t *testing.T) {
		// The store checks that a record's system exists; the schema backs
		// the check up for writers that bypass the store.
		st := open(t)
		require.NoError(t, st.CreateSystem(ctx, systemstest.Bare("dev", "s"), hist("dev", "s", systems.OpCreate, `{}`)))
		insert := `INSERT INTO system_history (tenant, system_id, operation, description, created) VALUES (?, ?, 'x', '{}', ?)`
		_, err := st.DB().ExecContext(ctx, insert, "other", "s", sysWhen)
		require.Error(t, err, "a record of a system absent from its tenant")
		_, err = st.DB().ExecContext(ctx, insert, "dev", "s", sysWhen)
		require.NoError(t, err)
	})

	t.Run("ManyIDs", func(t *testing.T) {
		// bun inlines values, so an id list is not bounded by the number of
		// bind variables (32766 in SQLite, 65535 in PostgreSQL).
		st := open(t)
		require.NoError(t, st.CreateSystem(ctx, systemstest.Bare("dev", "s-70000"), hist("dev", "s-70000", systems.OpCreate, `{}`)))
		ids := make([]string, 70001)
		for i := range ids {
			ids[i] = fmt.Sprintf("s-%d", i)
		}
		list, err := st.ListSystems(ctx, "dev", systems.ListFilter{IDs: ids})
		require.NoError(t, err)
		require.Len(t, list, 1)
		assert.Equal(t, "s-70000", list[0].ID)
	})

	t.Run("ConcurrentWriters", func(t *testing.T) { testConcurrentWriters(t, open(t)) })
	t.Run("CrossedBatches", func(t *testing.T) { testCrossedBatches(t, open(t)) })
}

// testConcurrentWriters runs read-modify-save loops that retry on conflict:
// every increment lands.
func testConcurrentWriters(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	require.NoError(t, st.CreateSystem(ctx, systemstest.Bare("dev", "s"), hist("dev", "s", systems.OpCreate, `{}`)))
	const workers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				for {
					s, err := st.GetSystem(ctx, "dev", "s")
					if err != nil {
						errs <- err
						return
					}
					s.JobMaxJobs++
					err = st.SaveSystems(ctx, "dev", []systems.System{s}, nil)
					if err == nil {
						break
					}
					if !assert.ErrorIs(t, err, systems.ErrConflict) {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	got, err := st.GetSystem(ctx, "dev", "s")
	require.NoError(t, err)
	assert.Equal(t, workers*rounds, got.JobMaxJobs)
	assert.Equal(t, int64(1+workers*rounds), got.Version)
}

// testCrossedBatches saves two systems from several goroutines, half of them
// listing them in the opposite order (a parent and its children re-synced
// from two requests): no deadlock reaches a caller (PostgreSQL aborts one of
// two transactions that lock rows in crossed order), only conflicts.
func testCrossedBatches(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		require.NoError(t, st.CreateSystem(ctx, systemstest.Bare("dev", id), hist("dev", id, systems.OpCreate, `{}`)))
	}
	const workers, rounds = 6, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				for {
					a, err := st.GetSystem(ctx, "dev", "a")
					if err != nil {
						errs <- err
						return
					}
					b, err := st.GetSystem(ctx, "dev", "b")
					if err != nil {
						errs <- err
						return
					}
					a.JobMaxJobs++
					b.JobMaxJobs++
					batch := []systems.System{a, b}
					if w%2 == 1 {
						batch = []systems.System{b, a}
					}
					err = st.SaveSystems(ctx, "dev", batch, nil)
					if err == nil {
						break
					}
					if !errors.Is(err, systems.ErrConflict) {
						errs <- err
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for _, id := range []string{"a", "b"} {
		got, err := st.GetSystem(ctx, "dev", id)
		require.NoError(t, err)
		assert.Equal(t, workers*rounds, got.JobMaxJobs, id)
	}
}
