package systems

import (
	"time"

	"github.com/tapis-go/tapis/search"
)

// attr is one searchable attribute of a system: its allowlist entry (name,
// column, type) and how it is read from a system, with the value a store
// holds (the stored effectiveUserId, an absent optional string as "", times
// in UTC at microsecond precision).
type attr struct {
	search.Attr
	get func(s System) any
}

// attrs is the one list of searchable and sortable system attributes
// (reference/systems.md §7.4): SearchSchema and Row are derived from it, so
// a new searchable attribute is one entry here (plus its column, which is
// the store's: bunstore's row struct and migrations). Everything not
// listed (notes, job runtimes, queues, env variables, capabilities,
// credentials) is refused by name.
func attrs() []attr {
	return []attr{
		{search.Attr{Name: "id", Type: search.String}, func(s System) any { return s.ID }},
		{search.Attr{Name: "description", Type: search.String}, func(s System) any { return s.Description }},
		{search.Attr{Name: "systemType", Type: search.Enum, Enum: enumNames(SystemTypes())}, func(s System) any { return string(s.SystemType) }},
		{search.Attr{Name: "owner", Type: search.String}, func(s System) any { return s.Owner }},
		{search.Attr{Name: "host", Type: search.String}, func(s System) any { return s.Host }},
		{search.Attr{Name: "enabled", Type: search.Bool}, func(s System) any { return s.Enabled }},
		{search.Attr{Name: "effectiveUserId", Type: search.String}, func(s System) any { return s.EffectiveUserID }},
		{search.Attr{Name: "defaultAuthnMethod", Type: search.Enum, Enum: enumNames(authnMethods)}, func(s System) any { return string(s.DefaultAuthnMethod) }},
		{search.Attr{Name: "bucketName", Type: search.String}, func(s System) any { return s.BucketName }},
		{search.Attr{Name: "rootDir", Type: search.String}, func(s System) any { return s.RootDir }},
		{search.Attr{Name: "port", Type: search.Int}, func(s System) any { return int64(s.Port) }},
		{search.Attr{Name: "useProxy", Type: search.Bool}, func(s System) any { return s.UseProxy }},
		{search.Attr{Name: "proxyHost", Type: search.String}, func(s System) any { return s.ProxyHost }},
		{search.Attr{Name: "proxyPort", Type: search.Int}, func(s System) any { return int64(s.ProxyPort) }},
		{search.Attr{Name: "dtnSystemId", Type: search.String}, func(s System) any { return s.DTNSystemID }},
		{search.Attr{Name: "canExec", Type: search.Bool}, func(s System) any { return s.CanExec }},
		{search.Attr{Name: "canRunBatch", Type: search.Bool}, func(s System) any { return s.CanRunBatch }},
		{search.Attr{Name: "enableCmdPrefix", Type: search.Bool}, func(s System) any { return s.EnableCmdPrefix }},
		{search.Attr{Name: "mpiCmd", Type: search.String}, func(s System) any { return s.MPICmd }},
		{search.Attr{Name: "jobWorkingDir", Type: search.String}, func(s System) any { return s.JobWorkingDir }},
		{search.Attr{Name: "jobMaxJobs", Type: search.Int}, func(s System) any { return int64(s.JobMaxJobs) }},
		{search.Attr{Name: "jobMaxJobsPerUser", Type: search.Int}, func(s System) any { return int64(s.JobMaxJobsPerUser) }},
		{search.Attr{Name: "batchScheduler", Type: search.Enum, Enum: schedulers}, func(s System) any { return s.BatchScheduler }},
		{search.Attr{Name: "batchDefaultLogicalQueue", Type: search.String}, func(s System) any { return s.BatchDefaultLogicalQueue }},
		{search.Attr{Name: "batchSchedulerProfile", Type: search.String}, func(s System) any { return s.BatchSchedulerProfile }},
		{search.Attr{Name: "tags", Type: search.Tags}, func(s System) any { return s.Tags }},
		{search.Attr{Name: "importRefId", Type: search.String}, func(s System) any { return s.ImportRefID }},
		{search.Attr{Name: "uuid", Type: search.String}, func(s System) any { return s.UUID }},
		{search.Attr{Name: "allowChildren", Type: search.Bool}, func(s System) any { return s.AllowChildren }},
		{search.Attr{Name: "parentId", Type: search.String}, func(s System) any { return s.ParentID }},
		{search.Attr{Name: "deleted", Type: search.Bool}, func(s System) any { return s.Deleted }},
		{search.Attr{Name: "created", Type: search.Timestamp}, func(s System) any { return s.Created.UTC().Truncate(time.Microsecond) }},
		{search.Attr{Name: "updated", Type: search.Timestamp}, func(s System) any { return s.Updated.UTC().Truncate(time.Microsecond) }},
	}
}

// SearchSchema is the allowlist of searchable and sortable system
// attributes and their columns: the entries of attrs.
var SearchSchema = func() *search.Schema {
	list := attrs()
	entries := make([]search.Attr, len(list))
	for i, a := range list {
		entries[i] = a.Attr
	}
	return search.MustSchema(entries...)
}()

// getters reads each attribute of attrs from a system, by name.
var getters = func() map[string]func(System) any {
	list := attrs()
	m := make(map[string]func(System) any, len(list))
	for _, a := range list {
		m[a.Name] = a.get
	}
	return m
}()

func enumNames[T ~string](vals []T) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = string(v)
	}
	return out
}

// ByID returns the order of last resort: by id, ascending.
func ByID() search.Order {
	a, _ := SearchSchema.Lookup("id")
	return search.Order{Attr: a}
}

// SummaryAttributes returns what select=summaryAttributes stands for.
func SummaryAttributes() []string {
	return []string{"id", "systemType", "owner", "host", "effectiveUserId", "defaultAuthnMethod", "canExec", "parentId"}
}

// Row adapts a system to search.Row with the values stores hold (the
// stored effectiveUserId, optional strings as ""): Field answers the
// attributes of SearchSchema, and nil for any other name.
type Row System

// Field implements search.Row.
func (r Row) Field(name string) any {
	if get, ok := getters[name]; ok {
		return get(System(r))
	}
	return nil
}
