package httpapi

import (
	"encoding/json"
	"reflect"
	"strings"

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

// systemJSONFields maps each JSON name of systemAllJSON to its field, so
// that a select reads the struct's attributes without a second list of
// them.
var systemJSONFields = func() map[string]int {
	t := reflect.TypeFor[systemAllJSON]()
	m := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		m[name] = i
	}
	return m
}()

// field returns the value of one attribute by its JSON name, as the
// struct would encode it.
func (a *systemAllJSON) field(name string) (any, bool) {
	i, ok := systemJSONFields[name]
	if !ok {
		return nil, false
	}
	return reflect.ValueOf(a).Elem().Field(i).Interface(), true
}
