package httpapi

import (
	"encoding/json"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

// SystemJSON is a system on the wire (TapisSystem): every attribute, or
// the ones a select names. It marshals as a JSON object whose keys are in
// byte order, as a map's would be (the shape the service always answered).
type SystemJSON struct {
	all  *systemAllJSON
	some map[string]any
}

// MarshalJSON implements json.Marshaler.
func (s SystemJSON) MarshalJSON() ([]byte, error) {
	if s.all != nil {
		return json.Marshal(s.all)
	}
	if s.some == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(s.some)
}

// Schema documents SystemJSON as the object of attributes it is.
func (SystemJSON) Schema(r huma.Registry) *huma.Schema {
	return huma.SchemaFromType(r, reflect.TypeFor[map[string]any]())
}

// selectFields renders a system for a parsed select: a struct for every
// attribute (encoding a 42-entry map cost a tenth of a GET, issue 16), a
// map of the named ones otherwise. Unknown names are ignored; importRefId
// is shown only with every attribute.
func selectFields(s systems.System, sel search.Select) SystemJSON {
	all := newSystemAllJSON(s)
	if sel.All {
		return SystemJSON{all: all}
	}
	out := make(map[string]any, len(sel.Fields))
	out["id"] = s.ID
	for _, n := range sel.Fields {
		if v, ok := all.field(n); ok && n != "importRefId" {
			out[n] = v
		}
	}
	return SystemJSON{some: out}
}

// systemAllJSON is the allAttributes shape. Its fields are in the byte
// order of their JSON names, so that it encodes exactly as the map it
// replaces (a test holds them to it); no field is omitted when empty.
type systemAllJSON struct {
	AllowChildren            bool                   `json:"allowChildren"`
	AuthnCredential          *CredentialOutJSON     `json:"authnCredential"`
	BatchDefaultLogicalQueue *string                `json:"batchDefaultLogicalQueue"`
	BatchLogicalQueues       []systems.LogicalQueue `json:"batchLogicalQueues"`
	BatchScheduler           *string                `json:"batchScheduler"`
	BatchSchedulerProfile    *string                `json:"batchSchedulerProfile"`
	BucketName               *string                `json:"bucketName"`
	CanExec                  bool                   `json:"canExec"`
	CanRunBatch              bool                   `json:"canRunBatch"`
	Created                  string                 `json:"created"`
	DefaultAuthnMethod       systems.AuthnMethod    `json:"defaultAuthnMethod"`
	Deleted                  bool                   `json:"deleted"`
	Description              *string                `json:"description"`
	DTNSystemID              *string                `json:"dtnSystemId"`
	EffectiveUserID          string                 `json:"effectiveUserId"`
	EnableCmdPrefix          bool                   `json:"enableCmdPrefix"`
	Enabled                  bool                   `json:"enabled"`
	Host                     string                 `json:"host"`
	ID                       string                 `json:"id"`
	ImportRefID              *string                `json:"importRefId"`
	IsDynamicEffectiveUser   bool                   `json:"isDynamicEffectiveUser"`
	IsPublic                 bool                   `json:"isPublic"`
	JobCapabilities          []systems.Capability   `json:"jobCapabilities"`
	JobEnvVariables          []systems.KeyValuePair `json:"jobEnvVariables"`
	JobMaxJobs               int                    `json:"jobMaxJobs"`
	JobMaxJobsPerUser        int                    `json:"jobMaxJobsPerUser"`
	JobRuntimes              []systems.JobRuntime   `json:"jobRuntimes"`
	JobWorkingDir            *string                `json:"jobWorkingDir"`
	MPICmd                   *string                `json:"mpiCmd"`
	Notes                    map[string]any         `json:"notes"`
	Owner                    string                 `json:"owner"`
	ParentID                 *string                `json:"parentId"`
	Port                     int                    `json:"port"`
	ProxyHost                *string                `json:"proxyHost"`
	ProxyPort                int                    `json:"proxyPort"`
	RootDir                  string                 `json:"rootDir"`
	SharedWithUsers          []string               `json:"sharedWithUsers"`
	SystemType               systems.SystemType     `json:"systemType"`
	Tags                     []string               `json:"tags"`
	Tenant                   string                 `json:"tenant"`
	Updated                  string                 `json:"updated"`
	UseProxy                 bool                   `json:"useProxy"`
	UUID                     string                 `json:"uuid"`
}

func newSystemAllJSON(s systems.System) *systemAllJSON {
	return &systemAllJSON{
		AllowChildren: s.AllowChildren, AuthnCredential: credentialOut(s.AuthnCredential, s.DefaultAuthnMethod),
		BatchDefaultLogicalQueue: nullable(s.BatchDefaultLogicalQueue), BatchLogicalQueues: s.BatchLogicalQueues,
		BatchScheduler: nullable(s.BatchScheduler), BatchSchedulerProfile: nullable(s.BatchSchedulerProfile),
		BucketName: nullable(s.BucketName),
		CanExec:    s.CanExec, CanRunBatch: s.CanRunBatch, Created: sysTime(s.Created),
		DefaultAuthnMethod: s.DefaultAuthnMethod, Deleted: s.Deleted, Description: nullable(s.Description),
		DTNSystemID: nullable(s.DTNSystemID), EffectiveUserID: s.EffectiveUserID, EnableCmdPrefix: s.EnableCmdPrefix,
		Enabled: s.Enabled, Host: s.Host, ID: s.ID, ImportRefID: nullable(s.ImportRefID),
		IsDynamicEffectiveUser: s.DynamicEffectiveUser || s.IsDynamic(), IsPublic: s.IsPublic,
		JobCapabilities: s.JobCapabilities, JobEnvVariables: s.JobEnvVariables,
		JobMaxJobs: displayMax(s.JobMaxJobs), JobMaxJobsPerUser: displayMax(s.JobMaxJobsPerUser),
		JobRuntimes: s.JobRuntimes, JobWorkingDir: nullable(s.JobWorkingDir), MPICmd: nullable(s.MPICmd),
		Notes: s.Notes, Owner: s.Owner, ParentID: nullable(s.ParentID), Port: s.Port, ProxyHost: nullable(s.ProxyHost),
		ProxyPort: s.ProxyPort, RootDir: s.RootDir, SharedWithUsers: s.SharedWithUsers, SystemType: s.SystemType,
		Tags: s.Tags, Tenant: s.Tenant, Updated: sysTime(s.Updated), UseProxy: s.UseProxy, UUID: s.UUID,
	}
}

// field returns the value of one attribute by its JSON name, as the
// struct would encode it.
func (a *systemAllJSON) field(name string) (any, bool) {
	switch name {
	case "allowChildren":
		return a.AllowChildren, true
	case "authnCredential":
		return a.AuthnCredential, true
	case "batchDefaultLogicalQueue":
		return a.BatchDefaultLogicalQueue, true
	case "batchLogicalQueues":
		return a.BatchLogicalQueues, true
	case "batchScheduler":
		return a.BatchScheduler, true
	case "batchSchedulerProfile":
		return a.BatchSchedulerProfile, true
	case "bucketName":
		return a.BucketName, true
	case "canExec":
		return a.CanExec, true
	case "canRunBatch":
		return a.CanRunBatch, true
	case "created":
		return a.Created, true
	case "defaultAuthnMethod":
		return a.DefaultAuthnMethod, true
	case "deleted":
		return a.Deleted, true
	case "description":
		return a.Description, true
	case "dtnSystemId":
		return a.DTNSystemID, true
	case "effectiveUserId":
		return a.EffectiveUserID, true
	case "enableCmdPrefix":
		return a.EnableCmdPrefix, true
	case "enabled":
		return a.Enabled, true
	case "host":
		return a.Host, true
	case "id":
		return a.ID, true
	case "importRefId":
		return a.ImportRefID, true
	case "isDynamicEffectiveUser":
		return a.IsDynamicEffectiveUser, true
	case "isPublic":
		return a.IsPublic, true
	case "jobCapabilities":
		return a.JobCapabilities, true
	case "jobEnvVariables":
		return a.JobEnvVariables, true
	case "jobMaxJobs":
		return a.JobMaxJobs, true
	case "jobMaxJobsPerUser":
		return a.JobMaxJobsPerUser, true
	case "jobRuntimes":
		return a.JobRuntimes, true
	case "jobWorkingDir":
		return a.JobWorkingDir, true
	case "mpiCmd":
		return a.MPICmd, true
	case "notes":
		return a.Notes, true
	case "owner":
		return a.Owner, true
	case "parentId":
		return a.ParentID, true
	case "port":
		return a.Port, true
	case "proxyHost":
		return a.ProxyHost, true
	case "proxyPort":
		return a.ProxyPort, true
	case "rootDir":
		return a.RootDir, true
	case "sharedWithUsers":
		return a.SharedWithUsers, true
	case "systemType":
		return a.SystemType, true
	case "tags":
		return a.Tags, true
	case "tenant":
		return a.Tenant, true
	case "updated":
		return a.Updated, true
	case "useProxy":
		return a.UseProxy, true
	case "uuid":
		return a.UUID, true
	}
	return nil, false
}
