// Package systemstest holds the conformance suites every adapter of the
// systems stores runs (RunStoreTests and RunSearchTests for systems.Store,
// with a random differential search oracle; RunAccessStoreTests;
// RunGlobusSessionTests), so that memory, SQLite and PostgreSQL give the
// same answers.
//
// The contract it checks, beyond the comments of systems.Store:
//
//   - Empty values. JobEnvVariables, BatchLogicalQueues, JobCapabilities and
//     Tags come back as empty non-nil slices when stored nil, and Notes as an
//     empty non-nil map (the NOT NULL json columns of the original, and the
//     [] / {} defaults of the wire format). JobRuntimes is kept exactly: nil
//     stays nil (JSON null, "no runtimes"), a non-nil slice stays non-nil.
//     Inside the nested values everything round-trips as encoding/json does:
//     a nil KeyValuePair.Notes stays nil and {} stays {}, a nil
//     JobRuntime.Version or Capability.Value stays nil. A profile's
//     ModuleLoads and HiddenOptions come back empty non-nil when stored nil; a
//     nil ModuleLoad.ModulesToLoad stays nil.
//   - Notes are JSON objects: they read back as encoding/json decodes them
//     into any (numbers are float64, arrays []any, objects map[string]any).
//     History descriptions are JSON values compared semantically (a jsonb
//     column may reformat them).
//   - Times are stored at microsecond precision and read back in UTC, as the
//     same instant whatever the zone they were given in.
//   - Lists are ordered by id (systems) or name (profiles) in byte order
//     (COLLATE "C" on PostgreSQL), and are never nil.
//   - Values are copies: mutating what a store returned, or what was passed
//     to it, never changes the stored state.
//   - Tenancy: SaveSystems refuses, with ErrInvalid, a system or history
//     record whose Tenant is not the tenant argument, and CreateSystem a
//     history record whose Tenant or SystemID is not the system's; history (AddHistory,
//     SaveSystems) for a system absent from the tenant is ErrNotFound.
//   - SaveSystems of a system absent from the tenant is ErrNotFound; the same
//     id twice in one batch is ErrConflict (the second copy is stale once
//     the first is written). A failed call writes nothing.
package systemstest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
)

// When is a fixed UTC timestamp with microseconds, as the services store them.
var When = time.Date(2026, 11, 23, 9, 30, 15, 123456000, time.UTC)

func ptr(s string) *string { return &s }

// System returns a system fixture in which every field is set.
func System(tenant, id string) systems.System {
	return systems.System{
		Tenant:             tenant,
		ID:                 id,
		Description:        "system " + id,
		SystemType:         systems.TypeLinux,
		Owner:              "testuser1",
		Host:               "login." + id + ".test",
		Enabled:            true,
		EffectiveUserID:    systems.VarAPIUserID,
		DefaultAuthnMethod: systems.AuthnPKIKeys,
		BucketName:         "bucket-" + id,
		RootDir:            "/home/testuser1",
		Port:               2222,
		UseProxy:           true,
		ProxyHost:          "proxy.test",
		ProxyPort:          3128,
		DTNSystemID:        "dtn-" + id,
		CanExec:            true,
		CanRunBatch:        true,
		EnableCmdPrefix:    true,
		MPICmd:             "mpirun",
		JobRuntimes: []systems.JobRuntime{
			{RuntimeType: "SINGULARITY", Version: ptr("3.7")},
			{RuntimeType: "DOCKER"},
		},
		JobWorkingDir: "HOST_EVAL($SCRATCH)/jobs",
		JobEnvVariables: []systems.KeyValuePair{
			{Key: "A", Value: "1", Description: "first", InputMode: "INCLUDE_BY_DEFAULT",
				Notes: map[string]any{"kind": "x", "n": 2.5, "nested": map[string]any{"list": []any{"a", 1.0, true, nil}}}},
			{Key: "B", Value: systems.EnvNotSet, InputMode: "REQUIRED"},
			{Key: "C", InputMode: "FIXED", Notes: map[string]any{}},
		},
		JobMaxJobs:        10,
		JobMaxJobsPerUser: 2,
		BatchScheduler:    "SLURM",
		BatchLogicalQueues: []systems.LogicalQueue{
			{Name: "normal", HPCQueueName: "normal", MaxJobs: 50, MaxJobsPerUser: 10, MinNodeCount: 1, MaxNodeCount: 16,
				MinCoresPerNode: 1, MaxCoresPerNode: 68, MinMemoryMB: 1, MaxMemoryMB: 16384, MinMinutes: 1, MaxMinutes: 2880},
			{Name: "dev", HPCQueueName: "development", MaxJobs: 1},
		},
		BatchDefaultLogicalQueue: "normal",
		BatchSchedulerProfile:    "tacc",
		JobCapabilities: []systems.Capability{
			{Category: "SCHEDULER", Name: "Type", Datatype: "STRING", Precedence: 100, Value: ptr("Slurm")},
			{Category: "CUSTOM", Name: "any", Datatype: "STRING"},
		},
		Tags:          []string{"hpc", "test tag"},
		Notes:         map[string]any{"project": "tapis", "cores": 64.0, "gpu": false, "none": nil, "obj": map[string]any{"k": []any{"v"}}},
		ImportRefID:   "ref-" + id,
		UUID:          "8f14e45f-ceea-467f-a0e3-5c3b6e9a2d4b",
		AllowChildren: true,
		ParentID:      "parent-" + id,
		Created:       When,
		Updated:       When.Add(90 * time.Minute),
	}
}

// Bare returns a system fixture with only the identifying fields set and
// every slice and map nil.
func Bare(tenant, id string) systems.System {
	return systems.System{Tenant: tenant, ID: id, SystemType: systems.TypeS3, Owner: "testuser1",
		Host: "s3.test", DefaultAuthnMethod: systems.AuthnAccessKey, Created: When, Updated: When}
}

// History returns a history record fixture.
func History(tenant, systemID, op, description string) systems.HistoryRecord {
	return systems.HistoryRecord{Tenant: tenant, SystemID: systemID, JWTTenant: "admin", JWTUser: "jobs",
		OboTenant: tenant, OboUser: "testuser1", Operation: op, Description: json.RawMessage(description), Created: When}
}

// Profile returns a scheduler profile fixture in which every field is set.
func Profile(tenant, name string) systems.SchedulerProfile {
	return systems.SchedulerProfile{Tenant: tenant, Name: name, Description: "profile " + name, Owner: "testuser1",
		ModuleLoads: []systems.ModuleLoad{
			{ModuleLoadCommand: "module load", ModulesToLoad: []string{"tacc-apptainer", "gcc/13"}},
			{ModuleLoadCommand: "module purge"},
		},
		HiddenOptions: []string{"MEM"}, UUID: "c9bf9e57-1685-4c89-bafb-ff5af830be8a",
		Created: When, Updated: When.Add(time.Second)}
}

// RunStoreTests runs the suite; newStore must return a fresh, empty store.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) systems.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, st systems.Store)
	}{
		{"CreateGetRoundTrip", testRoundTrip},
		{"NilAndEmpty", testNilAndEmpty},
		{"TimesInUTC", testTimesInUTC},
		{"CreateExisting", testCreateExisting},
		{"CreateConcurrent", testCreateConcurrent},
		{"GetMissing", testGetMissing},
		{"Purge", testPurge},
		{"TenantIsolation", testTenantIsolation},
		{"TenantMismatch", testTenantMismatch},
		{"Save", testSave},
		{"SaveStale", testSaveStale},
		{"SaveStaleBatch", testSaveStaleBatch},
		{"SaveMissing", testSaveMissing},
		{"SaveSameIDTwice", testSaveSameIDTwice},
		{"SaveConcurrent", testSaveConcurrent},
		{"ListFilter", testListFilter},
		{"ListOrderAndPaging", testListOrderAndPaging},
		{"History", testHistory},
		{"Copies", testCopies},
		{"ProfileCRUD", testProfileCRUD},
		{"ProfileIsolation", testProfileIsolation},
		{"ProfileCopies", testProfileCopies},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

var ctx = context.Background()

func create(t *testing.T, st systems.Store, s systems.System) {
	t.Helper()
	require.NoError(t, st.CreateSystem(ctx, s, History(s.Tenant, s.ID, systems.OpCreate, `{"id":"`+s.ID+`"}`)))
}

func get(t *testing.T, st systems.Store, tenant, id string) systems.System {
	t.Helper()
	s, err := st.GetSystem(ctx, tenant, id)
	require.NoError(t, err)
	return s
}

func ids(t *testing.T, st systems.Store, tenant string, f systems.ListFilter) []string {
	t.Helper()
	list, err := st.ListSystems(ctx, tenant, f)
	require.NoError(t, err)
	require.NotNil(t, list, "lists are never nil")
	out := []string{}
	for _, s := range list {
		assert.Equal(t, tenant, s.Tenant)
		out = append(out, s.ID)
	}
	return out
}

func history(t *testing.T, st systems.Store, tenant, id string) []systems.HistoryRecord {
	t.Helper()
	h, err := st.ListHistory(ctx, tenant, id)
	require.NoError(t, err)
	require.NotNil(t, h, "lists are never nil")
	return h
}

func ops(h []systems.HistoryRecord) []string {
	out := []string{}
	for _, r := range h {
		out = append(out, r.Operation)
	}
	return out
}

// assertHistory compares records field by field, descriptions as JSON.
func assertHistory(t *testing.T, want, got []systems.HistoryRecord) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		assert.JSONEq(t, string(w.Description), string(g.Description), "record %d description", i)
		w.Description, g.Description = nil, nil
		assert.Equal(t, w, g, "record %d", i)
		assert.Equal(t, time.UTC, got[i].Created.Location(), "record %d created in UTC", i)
	}
}

func testRoundTrip(t *testing.T, st systems.Store) {
	in := System("dev", "sys-1")
	in.Version = 7 // ignored: a created system is at version 1
	h := History("dev", "sys-1", systems.OpCreate, `{"id": "sys-1", "tags": ["hpc"], "port": 2222}`)
	require.NoError(t, st.CreateSystem(ctx, in, h))

	got := get(t, st, "dev", "sys-1")
	want := System("dev", "sys-1")
	want.Version = 1
	assert.Equal(t, want, got)
	assert.Equal(t, time.UTC, got.Created.Location())
	assert.Equal(t, time.UTC, got.Updated.Location())
	assert.Equal(t, 123456000, got.Created.Nanosecond(), "microseconds are kept")

	list, err := st.ListSystems(ctx, "dev", systems.ListFilter{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, want, list[0], "list returns the same full system")

	assertHistory(t, []systems.HistoryRecord{h}, history(t, st, "dev", "sys-1"))
}

func testNilAndEmpty(t *testing.T, st systems.Store) {
	create(t, st, Bare("dev", "bare"))
	got := get(t, st, "dev", "bare")
	assert.Nil(t, got.JobRuntimes, "nil JobRuntimes stays nil")
	assert.Equal(t, []systems.KeyValuePair{}, got.JobEnvVariables)
	assert.Equal(t, []systems.LogicalQueue{}, got.BatchLogicalQueues)
	assert.Equal(t, []systems.Capability{}, got.JobCapabilities)
	assert.Equal(t, []string{}, got.Tags)
	assert.Equal(t, map[string]any{}, got.Notes)
	want := Bare("dev", "bare")
	want.JobEnvVariables, want.BatchLogicalQueues, want.JobCapabilities = []systems.KeyValuePair{}, []systems.LogicalQueue{}, []systems.Capability{}
	want.Tags, want.Notes, want.Version = []string{}, map[string]any{}, 1
	assert.Equal(t, want, got, "nothing else changes")

	empty := Bare("dev", "empty")
	empty.JobRuntimes = []systems.JobRuntime{}
	empty.JobEnvVariables = []systems.KeyValuePair{}
	empty.Tags = []string{}
	empty.Notes = map[string]any{}
	create(t, st, empty)
	got = get(t, st, "dev", "empty")
	assert.Equal(t, []systems.JobRuntime{}, got.JobRuntimes, "empty JobRuntimes stays empty")
	assert.Equal(t, []systems.KeyValuePair{}, got.JobEnvVariables)
	assert.Equal(t, []string{}, got.Tags)
	assert.Equal(t, map[string]any{}, got.Notes)

	// Nested nil and empty values are kept as encoding/json keeps them.
	full := get(t, st, "dev", "bare")
	full.JobRuntimes = []systems.JobRuntime{{RuntimeType: "ZIP"}}
	full.JobEnvVariables = []systems.KeyValuePair{{Key: "nil"}, {Key: "empty", Notes: map[string]any{}}}
	full.JobCapabilities = []systems.Capability{{Category: "OS", Name: "n", Datatype: "STRING"}}
	full.Notes = map[string]any{"int": 3} // an int reads back as a JSON number
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{full}, nil))
	got = get(t, st, "dev", "bare")
	assert.Equal(t, []systems.JobRuntime{{RuntimeType: "ZIP"}}, got.JobRuntimes)
	require.Len(t, got.JobEnvVariables, 2)
	assert.Nil(t, got.JobEnvVariables[0].Notes, "nil env notes stay nil")
	assert.Equal(t, map[string]any{}, got.JobEnvVariables[1].Notes, "empty env notes stay empty")
	require.Len(t, got.JobCapabilities, 1)
	assert.Nil(t, got.JobCapabilities[0].Value)
	assert.Equal(t, map[string]any{"int": 3.0}, got.Notes)

	// Saving nil slices again gives the same normalisation as create.
	got.JobRuntimes, got.JobEnvVariables, got.JobCapabilities, got.Tags, got.Notes = nil, nil, nil, nil, nil
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{got}, nil))
	got = get(t, st, "dev", "bare")
	assert.Nil(t, got.JobRuntimes)
	assert.Equal(t, []systems.KeyValuePair{}, got.JobEnvVariables)
	assert.Equal(t, []systems.Capability{}, got.JobCapabilities)
	assert.Equal(t, []string{}, got.Tags)
	assert.Equal(t, map[string]any{}, got.Notes)
}

func testTimesInUTC(t *testing.T, st systems.Store) {
	zone := time.FixedZone("IST", 5*3600+1800)
	s := System("dev", "a")
	s.Created, s.Updated = When.In(zone), When.Add(time.Hour).In(zone)
	h := History("dev", "a", systems.OpCreate, `{}`)
	h.Created = When.In(zone)
	require.NoError(t, st.CreateSystem(ctx, s, h))
	got := get(t, st, "dev", "a")
	assert.Equal(t, When, got.Created, "the same instant, in UTC")
	assert.Equal(t, When.Add(time.Hour), got.Updated)
	hist := history(t, st, "dev", "a")
	require.Len(t, hist, 1)
	assert.Equal(t, When, hist[0].Created)

	got.Updated = When.Add(2 * time.Hour).In(zone)
	saved := History("dev", "a", systems.OpModify, `{}`)
	saved.Created = got.Updated
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{got}, []systems.HistoryRecord{saved}))
	assert.Equal(t, When.Add(2*time.Hour), get(t, st, "dev", "a").Updated)
	assert.Equal(t, When.Add(2*time.Hour), history(t, st, "dev", "a")[1].Created)

	p := Profile("dev", "p")
	p.Created, p.Updated = When.In(zone), When.Add(time.Second).In(zone)
	require.NoError(t, st.CreateProfile(ctx, p))
	gp, err := st.GetProfile(ctx, "dev", "p")
	require.NoError(t, err)
	assert.Equal(t, When, gp.Created)
	assert.Equal(t, When.Add(time.Second), gp.Updated)
}

func testCreateConcurrent(t *testing.T, st systems.Store) {
	const n = 20
	sysErrs, profErrs := make([]error, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := System("dev", "a")
			s.Description = fmt.Sprintf("creator %d", i)
			p := Profile("dev", "p")
			p.Description = s.Description
			<-start
			sysErrs[i] = st.CreateSystem(ctx, s, History("dev", "a", systems.OpCreate, fmt.Sprintf(`{"creator":%d}`, i)))
			profErrs[i] = st.CreateProfile(ctx, p)
		}()
	}
	close(start)
	wg.Wait()
	count := func(errs []error) (winner int) {
		winner = -1
		for i, err := range errs {
			if err == nil {
				assert.Equal(t, -1, winner, "more than one creator won")
				winner = i
			} else {
				assert.ErrorIs(t, err, systems.ErrAlreadyExists, "creator %d", i)
			}
		}
		require.NotEqual(t, -1, winner, "no creator won")
		return winner
	}
	w := count(sysErrs)
	got := get(t, st, "dev", "a")
	assert.Equal(t, fmt.Sprintf("creator %d", w), got.Description)
	assert.Equal(t, int64(1), got.Version)
	h := history(t, st, "dev", "a")
	require.Len(t, h, 1, "only the winner's history")
	assert.JSONEq(t, fmt.Sprintf(`{"creator":%d}`, w), string(h[0].Description))
	w = count(profErrs)
	p, err := st.GetProfile(ctx, "dev", "p")
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("creator %d", w), p.Description)
}

func testCreateExisting(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "sys-1"))
	dup := System("dev", "sys-1")
	dup.Description = "second"
	err := st.CreateSystem(ctx, dup, History("dev", "sys-1", systems.OpCreate, `{}`))
	assert.ErrorIs(t, err, systems.ErrAlreadyExists)
	assert.Equal(t, "system sys-1", get(t, st, "dev", "sys-1").Description, "a failed create changes nothing")
	assert.Len(t, history(t, st, "dev", "sys-1"), 1, "a failed create writes no history")

	deleted := get(t, st, "dev", "sys-1")
	deleted.Deleted = true
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{deleted}, nil))
	err = st.CreateSystem(ctx, dup, History("dev", "sys-1", systems.OpCreate, `{}`))
	assert.ErrorIs(t, err, systems.ErrAlreadyExists, "a deleted system keeps its id")
	got := get(t, st, "dev", "sys-1")
	assert.True(t, got.Deleted, "GetSystem returns deleted systems")
	assert.Equal(t, "system sys-1", got.Description)
	assert.Len(t, history(t, st, "dev", "sys-1"), 1)

	// Ids are case-sensitive.
	create(t, st, System("dev", "SYS-1"))
	assert.Equal(t, "system SYS-1", get(t, st, "dev", "SYS-1").Description)
}

func testGetMissing(t *testing.T, st systems.Store) {
	_, err := st.GetSystem(ctx, "dev", "nope")
	assert.ErrorIs(t, err, systems.ErrNotFound)
	create(t, st, System("dev", "sys-1"))
	_, err = st.GetSystem(ctx, "other", "sys-1")
	assert.ErrorIs(t, err, systems.ErrNotFound, "another tenant's system is absent")
	_, err = st.GetSystem(ctx, "dev", "sys-")
	assert.ErrorIs(t, err, systems.ErrNotFound, "no prefix match")
	assert.Empty(t, ids(t, st, "other", systems.ListFilter{IncludeDeleted: true}))
	assert.Empty(t, history(t, st, "dev", "nope"), "history of an unknown system is an empty list")
}

func testPurge(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "a"))
	create(t, st, System("dev", "b"))
	create(t, st, System("other", "a"))
	require.NoError(t, st.AddHistory(ctx, History("dev", "a", systems.OpSetCred, `{}`)))
	require.NoError(t, st.CreateProfile(ctx, Profile("dev", "a")))

	assert.ErrorIs(t, st.PurgeSystem(ctx, "dev", "nope"), systems.ErrNotFound)
	require.NoError(t, st.PurgeSystem(ctx, "dev", "a"))
	_, err := st.GetSystem(ctx, "dev", "a")
	assert.ErrorIs(t, err, systems.ErrNotFound)
	assert.Empty(t, history(t, st, "dev", "a"), "the history goes with the system")
	assert.Equal(t, []string{"b"}, ids(t, st, "dev", systems.ListFilter{IncludeDeleted: true}))
	assert.ErrorIs(t, st.PurgeSystem(ctx, "dev", "a"), systems.ErrNotFound)

	assert.Equal(t, "system a", get(t, st, "other", "a").Description, "other tenants keep theirs")
	assert.Len(t, history(t, st, "other", "a"), 1)
	assert.Len(t, history(t, st, "dev", "b"), 1)
	_, err = st.GetProfile(ctx, "dev", "a")
	assert.NoError(t, err, "profiles are another namespace")

	// The id is free again, with a fresh version and history.
	create(t, st, System("dev", "a"))
	got := get(t, st, "dev", "a")
	assert.Equal(t, int64(1), got.Version)
	assert.Equal(t, []string{systems.OpCreate}, ops(history(t, st, "dev", "a")))

	// Deleted systems can be purged too.
	got.Deleted = true
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{got}, nil))
	require.NoError(t, st.PurgeSystem(ctx, "dev", "a"))
	_, err = st.GetSystem(ctx, "dev", "a")
	assert.ErrorIs(t, err, systems.ErrNotFound)
}

func testTenantIsolation(t *testing.T, st systems.Store) {
	a, b := System("t1", "sys-1"), System("t2", "sys-1")
	b.Description, b.Owner = "other tenant", "testuser2"
	create(t, st, a)
	require.NoError(t, st.CreateSystem(ctx, b, History("t2", "sys-1", systems.OpCreate, `{"tenant":"t2"}`)),
		"the same id in another tenant is fine")
	create(t, st, System("t2", "only-t2"))

	assert.Equal(t, "system sys-1", get(t, st, "t1", "sys-1").Description)
	assert.Equal(t, "other tenant", get(t, st, "t2", "sys-1").Description)
	_, err := st.GetSystem(ctx, "t1", "only-t2")
	assert.ErrorIs(t, err, systems.ErrNotFound)

	assert.Equal(t, []string{"sys-1"}, ids(t, st, "t1", systems.ListFilter{IncludeDeleted: true}))
	assert.Equal(t, []string{"sys-1"}, ids(t, st, "t1", systems.ListFilter{IDs: []string{"sys-1", "only-t2"}}))
	assert.Empty(t, ids(t, st, "t1", systems.ListFilter{Owner: "testuser2"}))
	assert.Equal(t, []string{"only-t2", "sys-1"}, ids(t, st, "t2", systems.ListFilter{}))

	// Saving one tenant's system leaves the other's alone, versions included.
	s := get(t, st, "t1", "sys-1")
	s.Description = "changed in t1"
	require.NoError(t, st.SaveSystems(ctx, "t1", []systems.System{s},
		[]systems.HistoryRecord{History("t1", "sys-1", systems.OpModify, `{}`)}))
	other := get(t, st, "t2", "sys-1")
	assert.Equal(t, "other tenant", other.Description)
	assert.Equal(t, int64(1), other.Version)
	other.Description = "changed in t2"
	require.NoError(t, st.SaveSystems(ctx, "t2", []systems.System{other}, nil), "t2's version is its own")
	assert.Equal(t, "changed in t1", get(t, st, "t1", "sys-1").Description)

	assert.Equal(t, []string{systems.OpCreate, systems.OpModify}, ops(history(t, st, "t1", "sys-1")))
	h2 := history(t, st, "t2", "sys-1")
	require.Len(t, h2, 1)
	assert.JSONEq(t, `{"tenant":"t2"}`, string(h2[0].Description))
	assert.Equal(t, "t2", h2[0].Tenant)
	require.NoError(t, st.AddHistory(ctx, History("t2", "sys-1", systems.OpGrantPerms, `{}`)))
	assert.Len(t, history(t, st, "t1", "sys-1"), 2, "AddHistory in t2 does not reach t1")
	assert.ErrorIs(t, st.AddHistory(ctx, History("t1", "only-t2", systems.OpSetCred, `{}`)), systems.ErrNotFound,
		"history for a system of another tenant")
	assert.Empty(t, history(t, st, "t1", "only-t2"))
	assert.Len(t, history(t, st, "t2", "only-t2"), 1)
}

func testTenantMismatch(t *testing.T, st systems.Store) {
	create(t, st, System("t1", "sys-1"))
	create(t, st, System("t2", "sys-1"))
	s := get(t, st, "t2", "sys-1")
	s.Description = "moved?"
	err := st.SaveSystems(ctx, "t1", []systems.System{s}, nil)
	assert.ErrorIs(t, err, systems.ErrInvalid, "a system of another tenant")
	s = get(t, st, "t1", "sys-1")
	s.Description = "moved?"
	err = st.SaveSystems(ctx, "t1", []systems.System{s}, []systems.HistoryRecord{History("t2", "sys-1", systems.OpModify, `{}`)})
	assert.ErrorIs(t, err, systems.ErrInvalid, "a history record of another tenant")
	err = st.CreateSystem(ctx, System("t1", "sys-2"), History("t2", "sys-1", systems.OpCreate, `{}`))
	assert.ErrorIs(t, err, systems.ErrInvalid, "a create with another tenant's history record")
	err = st.CreateSystem(ctx, System("t1", "sys-2"), History("t1", "sys-1", systems.OpCreate, `{}`))
	assert.ErrorIs(t, err, systems.ErrInvalid, "a create with another system's history record")

	for _, tn := range []string{"t1", "t2"} {
		got := get(t, st, tn, "sys-1")
		assert.Equal(t, "system sys-1", got.Description, tn)
		assert.Equal(t, int64(1), got.Version, tn)
		assert.Len(t, history(t, st, tn, "sys-1"), 1, tn)
	}
	_, err = st.GetSystem(ctx, "t1", "sys-2")
	assert.ErrorIs(t, err, systems.ErrNotFound, "a refused create writes nothing")
}

func testSave(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "a"))
	create(t, st, System("dev", "b"))
	a, b := get(t, st, "dev", "a"), get(t, st, "dev", "b")
	later := When.Add(3 * time.Hour)
	a.Enabled, a.Updated, a.Tags = false, later, []string{"changed"}
	a.JobRuntimes = []systems.JobRuntime{{RuntimeType: "ZIP", Version: ptr("1")}}
	a.Notes = map[string]any{"new": "notes"}
	b.Deleted, b.Updated, b.ParentID, b.Owner = true, later, "", "testuser2"
	hist := []systems.HistoryRecord{
		History("dev", "a", systems.OpDisable, `{"enabled":false}`),
		History("dev", "b", systems.OpDelete, `{"deleted":true}`),
		History("dev", "a", systems.OpModify, `{"tags":["changed"]}`),
	}
	hist[2].Created = later
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{a, b}, hist))

	wantA, wantB := a, b
	wantA.Version, wantB.Version = 2, 2
	assert.Equal(t, wantA, get(t, st, "dev", "a"))
	assert.Equal(t, wantB, get(t, st, "dev", "b"))
	assertHistory(t, []systems.HistoryRecord{
		History("dev", "a", systems.OpCreate, `{"id":"a"}`), hist[0], hist[2],
	}, history(t, st, "dev", "a"))
	assertHistory(t, []systems.HistoryRecord{
		History("dev", "b", systems.OpCreate, `{"id":"b"}`), hist[1],
	}, history(t, st, "dev", "b"))

	// Each save bumps the version by one; an empty history is fine.
	a = get(t, st, "dev", "a")
	a.Description = "third"
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{a}, nil))
	got := get(t, st, "dev", "a")
	assert.Equal(t, int64(3), got.Version)
	assert.Equal(t, "third", got.Description)
	assert.Len(t, history(t, st, "dev", "a"), 3)

	// History alone (no system) through SaveSystems.
	require.NoError(t, st.SaveSystems(ctx, "dev", nil, []systems.HistoryRecord{History("dev", "a", systems.OpRemoveCred, `{}`)}))
	assert.Equal(t, int64(3), get(t, st, "dev", "a").Version, "no system, no version bump")
	assert.Len(t, history(t, st, "dev", "a"), 4)
}

func testSaveStale(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "a"))
	first := get(t, st, "dev", "a")
	second := first
	first.Description = "first writer"
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{first}, []systems.HistoryRecord{History("dev", "a", systems.OpModify, `{"n":1}`)}))
	second.Description = "second writer"
	err := st.SaveSystems(ctx, "dev", []systems.System{second}, []systems.HistoryRecord{History("dev", "a", systems.OpModify, `{"n":2}`)})
	assert.ErrorIs(t, err, systems.ErrConflict)
	got := get(t, st, "dev", "a")
	assert.Equal(t, "first writer", got.Description)
	assert.Equal(t, int64(2), got.Version)
	h := history(t, st, "dev", "a")
	require.Len(t, h, 2, "a conflict writes no history")
	assert.JSONEq(t, `{"n":1}`, string(h[1].Description))

	ahead := got
	ahead.Version = 5
	assert.ErrorIs(t, st.SaveSystems(ctx, "dev", []systems.System{ahead}, nil), systems.ErrConflict, "a version ahead of the store")
	assert.Equal(t, int64(2), get(t, st, "dev", "a").Version)
}

func testSaveStaleBatch(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "a"))
	create(t, st, System("dev", "b"))
	staleB := get(t, st, "dev", "b")
	b := staleB
	b.Description = "moved on"
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{b}, nil))

	a := get(t, st, "dev", "a")
	a.Description, staleB.Description = "batch a", "batch b"
	for name, batch := range map[string][]systems.System{"fresh first": {a, staleB}, "stale first": {staleB, a}} {
		err := st.SaveSystems(ctx, "dev", batch, []systems.HistoryRecord{
			History("dev", "a", systems.OpModify, `{}`), History("dev", "b", systems.OpModify, `{}`)})
		assert.ErrorIs(t, err, systems.ErrConflict, name)
		gotA, gotB := get(t, st, "dev", "a"), get(t, st, "dev", "b")
		assert.Equal(t, "system a", gotA.Description, "%s: the fresh system is not written", name)
		assert.Equal(t, int64(1), gotA.Version, name)
		assert.Equal(t, "moved on", gotB.Description, name)
		assert.Equal(t, int64(2), gotB.Version, name)
		assert.Len(t, history(t, st, "dev", "a"), 1, "%s: no history", name)
		assert.Len(t, history(t, st, "dev", "b"), 1, "%s: no history", name)
	}
}

func testSaveMissing(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "a"))
	a := get(t, st, "dev", "a")
	a.Description = "changed"
	ghost := System("dev", "ghost")
	ghost.Version = 1
	err := st.SaveSystems(ctx, "dev", []systems.System{a, ghost}, nil)
	assert.ErrorIs(t, err, systems.ErrNotFound)
	err = st.SaveSystems(ctx, "dev", []systems.System{a}, []systems.HistoryRecord{History("dev", "ghost", systems.OpModify, `{}`)})
	assert.ErrorIs(t, err, systems.ErrNotFound, "history for a missing system")
	assert.ErrorIs(t, st.AddHistory(ctx, History("dev", "ghost", systems.OpSetCred, `{}`)), systems.ErrNotFound)
	got := get(t, st, "dev", "a")
	assert.Equal(t, "system a", got.Description, "nothing written")
	assert.Equal(t, int64(1), got.Version)
	assert.Len(t, history(t, st, "dev", "a"), 1)
	assert.Empty(t, history(t, st, "dev", "ghost"))
	_, err = st.GetSystem(ctx, "dev", "ghost")
	assert.ErrorIs(t, err, systems.ErrNotFound, "save never creates")
}

func testSaveSameIDTwice(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "a"))
	one, two := get(t, st, "dev", "a"), get(t, st, "dev", "a")
	one.Description, two.Description = "one", "two"
	err := st.SaveSystems(ctx, "dev", []systems.System{one, two}, nil)
	assert.ErrorIs(t, err, systems.ErrConflict)
	got := get(t, st, "dev", "a")
	assert.Equal(t, "system a", got.Description)
	assert.Equal(t, int64(1), got.Version)
}

func testSaveConcurrent(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "a"))
	read := get(t, st, "dev", "a")
	const n = 50
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := read.Clone()
			s.Description = fmt.Sprintf("writer %d", i)
			<-start
			errs[i] = st.SaveSystems(ctx, "dev", []systems.System{s},
				[]systems.HistoryRecord{History("dev", "a", systems.OpModify, fmt.Sprintf(`{"writer":%d}`, i))})
		}()
	}
	close(start)
	wg.Wait()
	winner, conflicts := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			assert.Equal(t, -1, winner, "more than one writer won")
			winner = i
		case assert.ErrorIs(t, err, systems.ErrConflict, "writer %d", i):
			conflicts++
		}
	}
	require.NotEqual(t, -1, winner, "no writer won")
	assert.Equal(t, n-1, conflicts)
	got := get(t, st, "dev", "a")
	assert.Equal(t, int64(2), got.Version)
	assert.Equal(t, fmt.Sprintf("writer %d", winner), got.Description)
	h := history(t, st, "dev", "a")
	require.Len(t, h, 2, "only the winner's history")
	assert.JSONEq(t, fmt.Sprintf(`{"writer":%d}`, winner), string(h[1].Description))
}

func testListFilter(t *testing.T, st systems.Store) {
	mk := func(id, owner, parent string, deleted bool) {
		s := System("dev", id)
		s.Owner, s.ParentID = owner, parent
		create(t, st, s)
		if deleted {
			s = get(t, st, "dev", id)
			s.Deleted = true
			require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{s}, nil))
		}
	}
	mk("p1", "u1", "", false)
	mk("c1", "u2", "p1", false)
	mk("c2", "u1", "p1", true)
	mk("c3", "u1", "p2", false)
	mk("d1", "u2", "", true)
	create(t, st, System("other", "p1"))

	f := systems.ListFilter{}
	assert.Equal(t, []string{"c1", "c3", "p1"}, ids(t, st, "dev", f), "deleted systems are left out")
	f.IncludeDeleted = true
	assert.Equal(t, []string{"c1", "c2", "c3", "d1", "p1"}, ids(t, st, "dev", f))

	assert.Equal(t, []string{"c3", "p1"}, ids(t, st, "dev", systems.ListFilter{Owner: "u1"}))
	assert.Equal(t, []string{"c2", "c3", "p1"}, ids(t, st, "dev", systems.ListFilter{Owner: "u1", IncludeDeleted: true}))
	assert.Empty(t, ids(t, st, "dev", systems.ListFilter{Owner: "nobody"}))

	assert.Equal(t, []string{"c1"}, ids(t, st, "dev", systems.ListFilter{ParentID: "p1"}))
	assert.Equal(t, []string{"c1", "c2"}, ids(t, st, "dev", systems.ListFilter{ParentID: "p1", IncludeDeleted: true}))
	assert.Equal(t, []string{"c2"}, ids(t, st, "dev", systems.ListFilter{ParentID: "p1", Owner: "u1", IncludeDeleted: true}))
	assert.Empty(t, ids(t, st, "dev", systems.ListFilter{ParentID: "c1"}))

	assert.Equal(t, []string{"c1", "p1"}, ids(t, st, "dev", systems.ListFilter{IDs: []string{"p1", "c1", "c2", "zz"}}),
		"ids in any order, deleted left out, unknown ignored")
	assert.Equal(t, []string{"c1", "c2", "p1"}, ids(t, st, "dev", systems.ListFilter{IDs: []string{"p1", "c1", "c2"}, IncludeDeleted: true}))
	assert.Equal(t, []string{"p1"}, ids(t, st, "dev", systems.ListFilter{IDs: []string{"p1", "c1"}, Owner: "u1"}))
	assert.Empty(t, ids(t, st, "dev", systems.ListFilter{IDs: []string{}, IncludeDeleted: true}), "an empty non-nil IDs keeps nothing")
	assert.Equal(t, []string{"p1"}, ids(t, st, "dev", systems.ListFilter{IDs: []string{"p1", "p1"}}), "duplicate ids give one system")
}

func testListOrderAndPaging(t *testing.T, st systems.Store) {
	// Byte order: upper case before lower case, '-' < '.' < '_' < '~'.
	for _, id := range []string{"b", "a~x", "a_x", "a.x", "a-x", "B", "a", "Z9", "10", "9"} {
		create(t, st, System("dev", id))
	}
	all := []string{"10", "9", "B", "Z9", "a", "a-x", "a.x", "a_x", "a~x", "b"}
	assert.Equal(t, all, ids(t, st, "dev", systems.ListFilter{}))
	assert.Equal(t, all[:3], ids(t, st, "dev", systems.ListFilter{Limit: 3}))
	assert.Equal(t, all[3:6], ids(t, st, "dev", systems.ListFilter{Skip: 3, Limit: 3}))
	assert.Equal(t, all[8:], ids(t, st, "dev", systems.ListFilter{Skip: 8, Limit: 5}))
	assert.Equal(t, all[7:], ids(t, st, "dev", systems.ListFilter{Skip: 7}))
	assert.Empty(t, ids(t, st, "dev", systems.ListFilter{Skip: 10}))
	assert.Empty(t, ids(t, st, "dev", systems.ListFilter{Skip: 50, Limit: 2}))
	assert.Equal(t, all, ids(t, st, "dev", systems.ListFilter{Limit: 100}))

	// Paging applies after the filters.
	s := get(t, st, "dev", "B")
	s.Deleted = true
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{s}, nil))
	assert.Equal(t, []string{"Z9", "a"}, ids(t, st, "dev", systems.ListFilter{Skip: 2, Limit: 2}))
	assert.Equal(t, []string{"a.x"}, ids(t, st, "dev", systems.ListFilter{IDs: []string{"b", "a.x", "B", "a-x"}, Skip: 1, Limit: 1}))
}

func testHistory(t *testing.T, st systems.Store) {
	create(t, st, System("dev", "a"))
	create(t, st, System("dev", "b"))
	var want []systems.HistoryRecord
	want = append(want, History("dev", "a", systems.OpCreate, `{"id":"a"}`))
	for i, op := range []string{systems.OpGrantPerms, systems.OpSetCred, systems.OpRevokePerms, systems.OpRemoveCred, systems.OpGrantPerms} {
		h := History("dev", "a", op, fmt.Sprintf(`{"System":"a","n":%d,"Permissions":["READ"]}`, i))
		h.Created = When.Add(-time.Duration(i) * time.Minute) // insertion order, not time order
		h.JWTUser, h.OboUser = "files", fmt.Sprintf("user%d", i)
		require.NoError(t, st.AddHistory(ctx, h))
		require.NoError(t, st.AddHistory(ctx, History("dev", "b", op, `{"System":"b"}`)))
		want = append(want, h)
	}
	assertHistory(t, want, history(t, st, "dev", "a"))
	assert.Len(t, history(t, st, "dev", "b"), 6)

	// History survives a delete, and other description shapes are kept.
	a := get(t, st, "dev", "a")
	a.Deleted = true
	del := History("dev", "a", systems.OpDelete, `{"deleted":true}`)
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{a}, []systems.HistoryRecord{del}))
	arr := History("dev", "a", systems.OpModify, `["x", 1, null, {"k": "v"}]`)
	require.NoError(t, st.AddHistory(ctx, arr), "history of a deleted system")
	want = append(want, del, arr)
	assertHistory(t, want, history(t, st, "dev", "a"))
}

func testCopies(t *testing.T, st systems.Store) {
	in := System("dev", "a")
	h := History("dev", "a", systems.OpCreate, `{"id":"a"}`)
	require.NoError(t, st.CreateSystem(ctx, in, h))
	mutate := func(s *systems.System) {
		s.Tags[0] = "mutated"
		s.Notes["project"] = "mutated"
		s.Notes["obj"].(map[string]any)["k"].([]any)[0] = "mutated"
		*s.JobRuntimes[0].Version = "mutated"
		s.JobRuntimes[1].RuntimeType = "mutated"
		s.JobEnvVariables[0].Notes["kind"] = "mutated"
		s.JobEnvVariables[0].Notes["nested"].(map[string]any)["list"].([]any)[0] = "mutated"
		s.JobEnvVariables[1].Value = "mutated"
		s.BatchLogicalQueues[0].Name = "mutated"
		*s.JobCapabilities[0].Value = "mutated"
		s.JobCapabilities[1].Name = "mutated"
	}
	want := System("dev", "a")
	want.Version = 1
	mutate(&in)
	h.Description[2] = 'X'
	assert.Equal(t, want, get(t, st, "dev", "a"), "the created value is copied in")
	assert.JSONEq(t, `{"id":"a"}`, string(history(t, st, "dev", "a")[0].Description), "the history record is copied in")

	got := get(t, st, "dev", "a")
	mutate(&got)
	assert.Equal(t, want, get(t, st, "dev", "a"), "GetSystem returns a copy")
	list, err := st.ListSystems(ctx, "dev", systems.ListFilter{})
	require.NoError(t, err)
	mutate(&list[0])
	assert.Equal(t, want, get(t, st, "dev", "a"), "ListSystems returns copies")
	hist := history(t, st, "dev", "a")
	hist[0].Description[2] = 'X'
	hist[0].Operation = "mutated"
	assert.Equal(t, systems.OpCreate, history(t, st, "dev", "a")[0].Operation, "ListHistory returns copies")
	assert.JSONEq(t, `{"id":"a"}`, string(history(t, st, "dev", "a")[0].Description))

	save := get(t, st, "dev", "a")
	save.Description = "saved"
	hs := []systems.HistoryRecord{History("dev", "a", systems.OpModify, `{"d":"saved"}`)}
	require.NoError(t, st.SaveSystems(ctx, "dev", []systems.System{save}, hs))
	mutate(&save)
	hs[0].Description[2] = 'X'
	want.Description, want.Version = "saved", 2
	assert.Equal(t, want, get(t, st, "dev", "a"), "the saved value is copied in")
	assert.JSONEq(t, `{"d":"saved"}`, string(history(t, st, "dev", "a")[1].Description))

	added := History("dev", "a", systems.OpSetCred, `{"c":1}`)
	require.NoError(t, st.AddHistory(ctx, added))
	added.Description[2] = 'X'
	assert.JSONEq(t, `{"c":1}`, string(history(t, st, "dev", "a")[2].Description), "AddHistory copies in")
}

func testProfileCRUD(t *testing.T, st systems.Store) {
	p := Profile("dev", "tacc")
	require.NoError(t, st.CreateProfile(ctx, p))
	got, err := st.GetProfile(ctx, "dev", "tacc")
	require.NoError(t, err)
	assert.Equal(t, p, got)
	require.Len(t, got.ModuleLoads, 2)
	assert.Nil(t, got.ModuleLoads[1].ModulesToLoad, "nil ModulesToLoad stays nil")
	assert.Equal(t, time.UTC, got.Created.Location())

	dup := Profile("dev", "tacc")
	dup.Description = "second"
	assert.ErrorIs(t, st.CreateProfile(ctx, dup), systems.ErrAlreadyExists)
	got, err = st.GetProfile(ctx, "dev", "tacc")
	require.NoError(t, err)
	assert.Equal(t, "profile tacc", got.Description, "a failed create changes nothing")

	bare := systems.SchedulerProfile{Tenant: "dev", Name: "Bare", Owner: "testuser2", UUID: "0d7a1b2c-3e4f-4a5b-8c9d-0e1f2a3b4c5d", Created: When, Updated: When}
	require.NoError(t, st.CreateProfile(ctx, bare))
	got, err = st.GetProfile(ctx, "dev", "Bare")
	require.NoError(t, err)
	assert.Equal(t, []systems.ModuleLoad{}, got.ModuleLoads, "nil ModuleLoads come back empty")
	assert.Equal(t, []string{}, got.HiddenOptions, "nil HiddenOptions come back empty")
	bare.ModuleLoads, bare.HiddenOptions = []systems.ModuleLoad{}, []string{}
	assert.Equal(t, bare, got)

	require.NoError(t, st.CreateProfile(ctx, Profile("dev", "a-1")))
	require.NoError(t, st.CreateProfile(ctx, Profile("dev", "a.1")))
	list, err := st.ListProfiles(ctx, "dev")
	require.NoError(t, err)
	names := []string{}
	for _, p := range list {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{"Bare", "a-1", "a.1", "tacc"}, names, "ordered by name in byte order")
	assert.Equal(t, p, list[3], "list returns full profiles")

	_, err = st.GetProfile(ctx, "dev", "nope")
	assert.ErrorIs(t, err, systems.ErrNotFound)
	_, err = st.GetProfile(ctx, "dev", "bare")
	assert.ErrorIs(t, err, systems.ErrNotFound, "names are case-sensitive")
	assert.ErrorIs(t, st.DeleteProfile(ctx, "dev", "nope"), systems.ErrNotFound)
	require.NoError(t, st.DeleteProfile(ctx, "dev", "tacc"))
	_, err = st.GetProfile(ctx, "dev", "tacc")
	assert.ErrorIs(t, err, systems.ErrNotFound)
	assert.ErrorIs(t, st.DeleteProfile(ctx, "dev", "tacc"), systems.ErrNotFound)
	require.NoError(t, st.CreateProfile(ctx, Profile("dev", "tacc")), "a deleted name is free again")
	list, err = st.ListProfiles(ctx, "dev")
	require.NoError(t, err)
	assert.Len(t, list, 4)

	empty, err := st.ListProfiles(ctx, "other")
	require.NoError(t, err)
	assert.NotNil(t, empty, "lists are never nil")
	assert.Empty(t, empty)
}

func testProfileIsolation(t *testing.T, st systems.Store) {
	require.NoError(t, st.CreateProfile(ctx, Profile("t1", "tacc")))
	p2 := Profile("t2", "tacc")
	p2.Description = "other tenant"
	require.NoError(t, st.CreateProfile(ctx, p2), "the same name in another tenant is fine")
	require.NoError(t, st.CreateProfile(ctx, Profile("t2", "only-t2")))

	got, err := st.GetProfile(ctx, "t1", "tacc")
	require.NoError(t, err)
	assert.Equal(t, "profile tacc", got.Description)
	_, err = st.GetProfile(ctx, "t1", "only-t2")
	assert.ErrorIs(t, err, systems.ErrNotFound)
	list, err := st.ListProfiles(ctx, "t1")
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "t1", list[0].Tenant)

	assert.ErrorIs(t, st.DeleteProfile(ctx, "t1", "only-t2"), systems.ErrNotFound)
	require.NoError(t, st.DeleteProfile(ctx, "t1", "tacc"))
	got, err = st.GetProfile(ctx, "t2", "tacc")
	require.NoError(t, err, "deleting in t1 leaves t2's profile")
	assert.Equal(t, p2, got)
	list, err = st.ListProfiles(ctx, "t2")
	require.NoError(t, err)
	assert.Len(t, list, 2)
}

func testProfileCopies(t *testing.T, st systems.Store) {
	in := Profile("dev", "tacc")
	require.NoError(t, st.CreateProfile(ctx, in))
	mutate := func(p *systems.SchedulerProfile) {
		p.ModuleLoads[0].ModulesToLoad[0] = "mutated"
		p.ModuleLoads[1].ModuleLoadCommand = "mutated"
		p.HiddenOptions[0] = "mutated"
	}
	mutate(&in)
	want := Profile("dev", "tacc")
	got, err := st.GetProfile(ctx, "dev", "tacc")
	require.NoError(t, err)
	assert.Equal(t, want, got, "copied in")
	mutate(&got)
	got, err = st.GetProfile(ctx, "dev", "tacc")
	require.NoError(t, err)
	assert.Equal(t, want, got, "GetProfile returns a copy")
	list, err := st.ListProfiles(ctx, "dev")
	require.NoError(t, err)
	mutate(&list[0])
	got, err = st.GetProfile(ctx, "dev", "tacc")
	require.NoError(t, err)
	assert.Equal(t, want, got, "ListProfiles returns copies")
}
