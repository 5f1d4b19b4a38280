package systems

import (
	"time"

	"github.com/tapis-go/tapis/search"
)

// SearchSchema is the allowlist of searchable and sortable system
// attributes and their columns (reference/systems.md §7.4). Everything not
// listed (notes, job runtimes, queues, env variables, capabilities,
// credentials) is refused by name.
var SearchSchema = search.MustSchema(
	search.Attr{Name: "id", Type: search.String},
	search.Attr{Name: "description", Type: search.String},
	search.Attr{Name: "systemType", Type: search.Enum, Enum: enumNames(SystemTypes)},
	search.Attr{Name: "owner", Type: search.String},
	search.Attr{Name: "host", Type: search.String},
	search.Attr{Name: "enabled", Type: search.Bool},
	search.Attr{Name: "effectiveUserId", Type: search.String},
	search.Attr{Name: "defaultAuthnMethod", Type: search.Enum, Enum: enumNames(authnMethods)},
	search.Attr{Name: "bucketName", Type: search.String},
	search.Attr{Name: "rootDir", Type: search.String},
	search.Attr{Name: "port", Type: search.Int},
	search.Attr{Name: "useProxy", Type: search.Bool},
	search.Attr{Name: "proxyHost", Type: search.String},
	search.Attr{Name: "proxyPort", Type: search.Int},
	search.Attr{Name: "dtnSystemId", Type: search.String},
	search.Attr{Name: "canExec", Type: search.Bool},
	search.Attr{Name: "canRunBatch", Type: search.Bool},
	search.Attr{Name: "enableCmdPrefix", Type: search.Bool},
	search.Attr{Name: "mpiCmd", Type: search.String},
	search.Attr{Name: "jobWorkingDir", Type: search.String},
	search.Attr{Name: "jobMaxJobs", Type: search.Int},
	search.Attr{Name: "jobMaxJobsPerUser", Type: search.Int},
	search.Attr{Name: "batchScheduler", Type: search.Enum, Enum: schedulers},
	search.Attr{Name: "batchDefaultLogicalQueue", Type: search.String},
	search.Attr{Name: "batchSchedulerProfile", Type: search.String},
	search.Attr{Name: "tags", Type: search.Tags},
	search.Attr{Name: "importRefId", Type: search.String},
	search.Attr{Name: "uuid", Type: search.String},
	search.Attr{Name: "allowChildren", Type: search.Bool},
	search.Attr{Name: "parentId", Type: search.String},
	search.Attr{Name: "deleted", Type: search.Bool},
	search.Attr{Name: "created", Type: search.Timestamp},
	search.Attr{Name: "updated", Type: search.Timestamp},
)

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
// stored effectiveUserId, optional strings as "").
type Row System

// Field implements search.Row.
func (r Row) Field(name string) any {
	s := System(r)
	switch name {
	case "id":
		return s.ID
	case "description":
		return s.Description
	case "systemType":
		return string(s.SystemType)
	case "owner":
		return s.Owner
	case "host":
		return s.Host
	case "enabled":
		return s.Enabled
	case "effectiveUserId":
		return s.EffectiveUserID
	case "defaultAuthnMethod":
		return string(s.DefaultAuthnMethod)
	case "bucketName":
		return s.BucketName
	case "rootDir":
		return s.RootDir
	case "port":
		return int64(s.Port)
	case "useProxy":
		return s.UseProxy
	case "proxyHost":
		return s.ProxyHost
	case "proxyPort":
		return int64(s.ProxyPort)
	case "dtnSystemId":
		return s.DTNSystemID
	case "canExec":
		return s.CanExec
	case "canRunBatch":
		return s.CanRunBatch
	case "enableCmdPrefix":
		return s.EnableCmdPrefix
	case "mpiCmd":
		return s.MPICmd
	case "jobWorkingDir":
		return s.JobWorkingDir
	case "jobMaxJobs":
		return int64(s.JobMaxJobs)
	case "jobMaxJobsPerUser":
		return int64(s.JobMaxJobsPerUser)
	case "batchScheduler":
		return s.BatchScheduler
	case "batchDefaultLogicalQueue":
		return s.BatchDefaultLogicalQueue
	case "batchSchedulerProfile":
		return s.BatchSchedulerProfile
	case "tags":
		return s.Tags
	case "importRefId":
		return s.ImportRefID
	case "uuid":
		return s.UUID
	case "allowChildren":
		return s.AllowChildren
	case "parentId":
		return s.ParentID
	case "deleted":
		return s.Deleted
	case "created":
		return s.Created.UTC().Truncate(time.Microsecond)
	case "updated":
		return s.Updated.UTC().Truncate(time.Microsecond)
	}
	return nil
}
