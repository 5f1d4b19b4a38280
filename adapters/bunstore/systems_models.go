package bunstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/systems"
)

// Row structs of the Systems tables (migration 0003). Scalar attributes, the
// ones search filters on, are columns of their own; lists and objects are
// JSON text. The nil/empty contract is systemstest's: a nil list or map is
// stored as [] or {} and reads back empty, non-nil (the NOT NULL columns of
// the original), except JobRuntimes, whose nil is NULL and stays nil. Nested
// values round-trip as encoding/json does. Times are UTC microseconds.

// systemRow is a row of systems.
type systemRow struct {
	bun.BaseModel `bun:"table:systems,alias:sys"`

	Tenant                   string    `bun:"tenant,pk"`
	ID                       string    `bun:"id,pk"`
	Description              string    `bun:"description"`
	SystemType               string    `bun:"system_type"`
	Owner                    string    `bun:"owner"`
	Host                     string    `bun:"host"`
	Enabled                  bool      `bun:"enabled"`
	EffectiveUserID          string    `bun:"effective_user_id"`
	DefaultAuthnMethod       string    `bun:"default_authn_method"`
	BucketName               string    `bun:"bucket_name"`
	RootDir                  string    `bun:"root_dir"`
	Port                     int       `bun:"port"`
	UseProxy                 bool      `bun:"use_proxy"`
	ProxyHost                string    `bun:"proxy_host"`
	ProxyPort                int       `bun:"proxy_port"`
	DTNSystemID              string    `bun:"dtn_system_id"`
	CanExec                  bool      `bun:"can_exec"`
	CanRunBatch              bool      `bun:"can_run_batch"`
	EnableCmdPrefix          bool      `bun:"enable_cmd_prefix"`
	MPICmd                   string    `bun:"mpi_cmd"`
	JobRuntimes              *string   `bun:"job_runtimes"` // JSON list
	JobWorkingDir            string    `bun:"job_working_dir"`
	JobEnvVariables          string    `bun:"job_env_variables"` // JSON list
	JobMaxJobs               int       `bun:"job_max_jobs"`
	JobMaxJobsPerUser        int       `bun:"job_max_jobs_per_user"`
	BatchScheduler           string    `bun:"batch_scheduler"`
	BatchLogicalQueues       string    `bun:"batch_logical_queues"` // JSON list
	BatchDefaultLogicalQueue string    `bun:"batch_default_logical_queue"`
	BatchSchedulerProfile    string    `bun:"batch_scheduler_profile"`
	JobCapabilities          string    `bun:"job_capabilities"` // JSON list
	Tags                     string    `bun:"tags"`             // JSON list
	Notes                    string    `bun:"notes"`            // JSON object
	ImportRefID              string    `bun:"import_ref_id"`
	UUID                     string    `bun:"uuid"`
	AllowChildren            bool      `bun:"allow_children"`
	ParentID                 string    `bun:"parent_id"`
	Deleted                  bool      `bun:"deleted"`
	Created                  time.Time `bun:"created"`
	Updated                  time.Time `bun:"updated"`
	Version                  int64     `bun:"version"`
}

// systemHistoryRow is a row of system_history; Seq orders the records.
type systemHistoryRow struct {
	bun.BaseModel `bun:"table:system_history,alias:sh"`

	Seq         int64     `bun:"seq,pk,autoincrement"`
	Tenant      string    `bun:"tenant"`
	SystemID    string    `bun:"system_id"`
	JWTTenant   string    `bun:"jwt_tenant"`
	JWTUser     string    `bun:"jwt_user"`
	OboTenant   string    `bun:"obo_tenant"`
	OboUser     string    `bun:"obo_user"`
	Operation   string    `bun:"operation"`
	Description *string   `bun:"description"` // JSON value, as given
	Created     time.Time `bun:"created"`
}

// profileRow is a row of scheduler_profiles.
type profileRow struct {
	bun.BaseModel `bun:"table:scheduler_profiles,alias:sp"`

	Tenant        string    `bun:"tenant,pk"`
	Name          string    `bun:"name,pk"`
	Description   string    `bun:"description"`
	Owner         string    `bun:"owner"`
	ModuleLoads   string    `bun:"module_loads"`   // JSON list
	HiddenOptions string    `bun:"hidden_options"` // JSON list
	UUID          string    `bun:"uuid"`
	Created       time.Time `bun:"created"`
	Updated       time.Time `bun:"updated"`
}

// nullableList encodes a list as JSON text; nil is NULL.
func nullableList[E any](column string, l []E) (*string, error) {
	if l == nil {
		return nil, nil
	}
	text, err := jsonText(column, l)
	return &text, err
}

// jsonList encodes a list as JSON text; nil is [].
func jsonList[E any](column string, l []E) (string, error) {
	if l == nil {
		return "[]", nil
	}
	return jsonText(column, l)
}

// jsonObject encodes a JSON object; nil is {}.
func jsonObject(column string, m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	return jsonText(column, m)
}

func jsonText(column string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("bunstore: encode %s: %w", column, err)
	}
	return string(b), nil
}

// fromJSON decodes a stored JSON column into out, a pointer to a slice or
// map: an empty list or object decodes to an empty, non-nil value.
func fromJSON(column, s string, out any) error {
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("bunstore: column %s holds no valid JSON: %w", column, err)
	}
	return nil
}

// nonNil makes a decoded list or map non-nil (a column holding JSON null
// decodes to nil).
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func systemToRow(s systems.System) (*systemRow, error) {
	r := &systemRow{
		Tenant: s.Tenant, ID: s.ID, Description: s.Description, SystemType: string(s.SystemType),
		Owner: s.Owner, Host: s.Host, Enabled: s.Enabled, EffectiveUserID: s.EffectiveUserID,
		DefaultAuthnMethod: string(s.DefaultAuthnMethod), BucketName: s.BucketName, RootDir: s.RootDir,
		Port: s.Port, UseProxy: s.UseProxy, ProxyHost: s.ProxyHost, ProxyPort: s.ProxyPort,
		DTNSystemID: s.DTNSystemID, CanExec: s.CanExec, CanRunBatch: s.CanRunBatch,
		EnableCmdPrefix: s.EnableCmdPrefix, MPICmd: s.MPICmd, JobWorkingDir: s.JobWorkingDir,
		JobMaxJobs: s.JobMaxJobs, JobMaxJobsPerUser: s.JobMaxJobsPerUser, BatchScheduler: s.BatchScheduler,
		BatchDefaultLogicalQueue: s.BatchDefaultLogicalQueue, BatchSchedulerProfile: s.BatchSchedulerProfile,
		ImportRefID: s.ImportRefID, UUID: s.UUID, AllowChildren: s.AllowChildren, ParentID: s.ParentID,
		Deleted: s.Deleted, Created: utc(s.Created), Updated: utc(s.Updated), Version: s.Version,
	}
	var err error
	if r.JobRuntimes, err = nullableList("systems.job_runtimes", s.JobRuntimes); err != nil {
		return nil, err
	}
	if r.JobEnvVariables, err = jsonList("systems.job_env_variables", s.JobEnvVariables); err != nil {
		return nil, err
	}
	if r.BatchLogicalQueues, err = jsonList("systems.batch_logical_queues", s.BatchLogicalQueues); err != nil {
		return nil, err
	}
	if r.JobCapabilities, err = jsonList("systems.job_capabilities", s.JobCapabilities); err != nil {
		return nil, err
	}
	if r.Tags, err = jsonList("systems.tags", s.Tags); err != nil {
		return nil, err
	}
	if r.Notes, err = jsonObject("systems.notes", s.Notes); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *systemRow) domain() (systems.System, error) {
	s := systems.System{
		Tenant: r.Tenant, ID: r.ID, Description: r.Description, SystemType: systems.SystemType(r.SystemType),
		Owner: r.Owner, Host: r.Host, Enabled: r.Enabled, EffectiveUserID: r.EffectiveUserID,
		DefaultAuthnMethod: systems.AuthnMethod(r.DefaultAuthnMethod), BucketName: r.BucketName,
		RootDir: r.RootDir, Port: r.Port, UseProxy: r.UseProxy, ProxyHost: r.ProxyHost,
		ProxyPort: r.ProxyPort, DTNSystemID: r.DTNSystemID, CanExec: r.CanExec, CanRunBatch: r.CanRunBatch,
		EnableCmdPrefix: r.EnableCmdPrefix, MPICmd: r.MPICmd, JobWorkingDir: r.JobWorkingDir,
		JobMaxJobs: r.JobMaxJobs, JobMaxJobsPerUser: r.JobMaxJobsPerUser, BatchScheduler: r.BatchScheduler,
		BatchDefaultLogicalQueue: r.BatchDefaultLogicalQueue, BatchSchedulerProfile: r.BatchSchedulerProfile,
		ImportRefID: r.ImportRefID, UUID: r.UUID, AllowChildren: r.AllowChildren, ParentID: r.ParentID,
		Deleted: r.Deleted, Created: utc(r.Created), Updated: utc(r.Updated), Version: r.Version,
	}
	if r.JobRuntimes != nil {
		if err := fromJSON("systems.job_runtimes", *r.JobRuntimes, &s.JobRuntimes); err != nil {
			return systems.System{}, err
		}
	}
	for _, c := range []struct {
		column, value string
		out           any
	}{
		{"systems.job_env_variables", r.JobEnvVariables, &s.JobEnvVariables},
		{"systems.batch_logical_queues", r.BatchLogicalQueues, &s.BatchLogicalQueues},
		{"systems.job_capabilities", r.JobCapabilities, &s.JobCapabilities},
		{"systems.tags", r.Tags, &s.Tags},
		{"systems.notes", r.Notes, &s.Notes},
	} {
		if c.value == "" {
			continue // not read (ListFilter.Fields): the columns are NOT NULL
		}
		if err := fromJSON(c.column, c.value, c.out); err != nil {
			return systems.System{}, err
		}
	}
	s.JobEnvVariables, s.BatchLogicalQueues = nonNil(s.JobEnvVariables), nonNil(s.BatchLogicalQueues)
	s.JobCapabilities, s.Tags = nonNil(s.JobCapabilities), nonNil(s.Tags)
	if s.Notes == nil {
		s.Notes = map[string]any{}
	}
	return s, nil
}

func systemHistoryToRow(h systems.HistoryRecord) *systemHistoryRow {
	r := &systemHistoryRow{Tenant: h.Tenant, SystemID: h.SystemID, JWTTenant: h.JWTTenant,
		JWTUser: h.JWTUser, OboTenant: h.OboTenant, OboUser: h.OboUser, Operation: h.Operation,
		Created: utc(h.Created)}
	if h.Description != nil {
		d := string(h.Description)
		r.Description = &d
	}
	return r
}

func (r *systemHistoryRow) domain() systems.HistoryRecord {
	h := systems.HistoryRecord{Tenant: r.Tenant, SystemID: r.SystemID, JWTTenant: r.JWTTenant,
		JWTUser: r.JWTUser, OboTenant: r.OboTenant, OboUser: r.OboUser, Operation: r.Operation,
		Created: utc(r.Created)}
	if r.Description != nil {
		h.Description = json.RawMessage(*r.Description)
	}
	return h
}

func profileToRow(p systems.SchedulerProfile) (*profileRow, error) {
	r := &profileRow{Tenant: p.Tenant, Name: p.Name, Description: p.Description, Owner: p.Owner,
		UUID: p.UUID, Created: utc(p.Created), Updated: utc(p.Updated)}
	var err error
	if r.ModuleLoads, err = jsonList("scheduler_profiles.module_loads", p.ModuleLoads); err != nil {
		return nil, err
	}
	if r.HiddenOptions, err = jsonList("scheduler_profiles.hidden_options", p.HiddenOptions); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *profileRow) domain() (systems.SchedulerProfile, error) {
	p := systems.SchedulerProfile{Tenant: r.Tenant, Name: r.Name, Description: r.Description,
		Owner: r.Owner, UUID: r.UUID, Created: utc(r.Created), Updated: utc(r.Updated)}
	if err := fromJSON("scheduler_profiles.module_loads", r.ModuleLoads, &p.ModuleLoads); err != nil {
		return systems.SchedulerProfile{}, err
	}
	if err := fromJSON("scheduler_profiles.hidden_options", r.HiddenOptions, &p.HiddenOptions); err != nil {
		return systems.SchedulerProfile{}, err
	}
	p.ModuleLoads, p.HiddenOptions = nonNil(p.ModuleLoads), nonNil(p.HiddenOptions)
	return p, nil
}
