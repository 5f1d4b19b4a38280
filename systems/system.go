package systems

import (
	"encoding/json"
	"slices"
	"time"
)

// AuthnMethod is how the service authenticates to a host.
type AuthnMethod string

// Authentication methods.
const (
	AuthnPassword  AuthnMethod = "PASSWORD"
	AuthnPKIKeys   AuthnMethod = "PKI_KEYS"
	AuthnAccessKey AuthnMethod = "ACCESS_KEY"
	AuthnToken     AuthnMethod = "TOKEN"
	AuthnCert      AuthnMethod = "CERT"
	AuthnTMSKeys   AuthnMethod = "TMS_KEYS"
)

// authnMethods lists the valid authentication methods.
var authnMethods = []AuthnMethod{AuthnPassword, AuthnPKIKeys, AuthnAccessKey, AuthnToken, AuthnCert, AuthnTMSKeys}

// AuthnMethods returns the valid authentication methods.
func AuthnMethods() []AuthnMethod { return slices.Clone(authnMethods) }

// schedulers lists the valid batch schedulers.
var schedulers = []string{"SLURM", "CONDOR", "PBS", "SGE", "UGE", "TORQUE"}

// Schedulers returns the valid batch schedulers.
func Schedulers() []string { return slices.Clone(schedulers) }

// Variables of system definitions.
const (
	VarAPIUserID = "${apiUserId}"
	VarOwner     = "${owner}"
	VarTenant    = "${tenant}"
)

// EnvNotSet is the value of a REQUIRED environment variable left to the user.
const EnvNotSet = "!tapis_not_set"

// PublicGrantee is the grantee of a public share.
const PublicGrantee = "~public"

// JobRuntime is a container or packaging runtime a system can run.
type JobRuntime struct {
	RuntimeType string  `json:"runtimeType"`
	Version     *string `json:"version" required:"false" nullable:"true"`
}

// KeyValuePair is a job environment variable.
type KeyValuePair struct {
	Key         string         `json:"key"`
	Value       string         `json:"value" required:"false" nullable:"true"`
	Description string         `json:"description" required:"false"`
	InputMode   string         `json:"inputMode" required:"false"`
	Notes       map[string]any `json:"notes" required:"false"`
}

// LogicalQueue maps a Tapis queue to a scheduler queue with its limits.
type LogicalQueue struct {
	Name            string `json:"name"`
	HPCQueueName    string `json:"hpcQueueName"`
	MaxJobs         int    `json:"maxJobs" required:"false"`
	MaxJobsPerUser  int    `json:"maxJobsPerUser" required:"false"`
	MinNodeCount    int    `json:"minNodeCount" required:"false"`
	MaxNodeCount    int    `json:"maxNodeCount" required:"false"`
	MinCoresPerNode int    `json:"minCoresPerNode" required:"false"`
	MaxCoresPerNode int    `json:"maxCoresPerNode" required:"false"`
	MinMemoryMB     int    `json:"minMemoryMB" required:"false"`
	MaxMemoryMB     int    `json:"maxMemoryMB" required:"false"`
	MinMinutes      int    `json:"minMinutes" required:"false"`
	MaxMinutes      int    `json:"maxMinutes" required:"false"`
}

// Capability is something a system offers to jobs.
type Capability struct {
	Category   string  `json:"category"`
	Name       string  `json:"name"`
	Datatype   string  `json:"datatype"`
	Precedence int     `json:"precedence" required:"false"`
	Value      *string `json:"value" required:"false" nullable:"true"`
}

// System is a Tapis system; JSON names are the wire names (history records
// carry systems in that form). Empty strings stand for JSON null in the
// optional string attributes; Version counts stored revisions (optimistic
// concurrency) and is not part of the wire format.
type System struct {
	Tenant                   string         `json:"tenant"`
	ID                       string         `json:"id"`
	Description              string         `json:"description"`
	SystemType               SystemType     `json:"systemType"`
	Owner                    string         `json:"owner"`
	Host                     string         `json:"host"`
	Enabled                  bool           `json:"enabled"`
	EffectiveUserID          string         `json:"effectiveUserId"`
	DefaultAuthnMethod       AuthnMethod    `json:"defaultAuthnMethod"`
	BucketName               string         `json:"bucketName"`
	RootDir                  string         `json:"rootDir"`
	Port                     int            `json:"port"`
	UseProxy                 bool           `json:"useProxy"`
	ProxyHost                string         `json:"proxyHost"`
	ProxyPort                int            `json:"proxyPort"`
	DTNSystemID              string         `json:"dtnSystemId"`
	CanExec                  bool           `json:"canExec"`
	CanRunBatch              bool           `json:"canRunBatch"`
	EnableCmdPrefix          bool           `json:"enableCmdPrefix"`
	MPICmd                   string         `json:"mpiCmd"`
	JobRuntimes              []JobRuntime   `json:"jobRuntimes"`
	JobWorkingDir            string         `json:"jobWorkingDir"`
	JobEnvVariables          []KeyValuePair `json:"jobEnvVariables"`
	JobMaxJobs               int            `json:"jobMaxJobs"`
	JobMaxJobsPerUser        int            `json:"jobMaxJobsPerUser"`
	BatchScheduler           string         `json:"batchScheduler"`
	BatchLogicalQueues       []LogicalQueue `json:"batchLogicalQueues"`
	BatchDefaultLogicalQueue string         `json:"batchDefaultLogicalQueue"`
	BatchSchedulerProfile    string         `json:"batchSchedulerProfile"`
	JobCapabilities          []Capability   `json:"jobCapabilities"`
	Tags                     []string       `json:"tags"`
	Notes                    map[string]any `json:"notes"`
	ImportRefID              string         `json:"importRefId"`
	UUID                     string         `json:"uuid"`
	AllowChildren            bool           `json:"allowChildren"`
	ParentID                 string         `json:"parentId"`
	Deleted                  bool           `json:"deleted"`
	Created                  time.Time      `json:"created"`
	Updated                  time.Time      `json:"updated"`
	Version                  int64          `json:"-"`
	// DynamicEffectiveUser is set on reads: the stored effectiveUserId is
	// ${apiUserId} and EffectiveUserID shows the resolved login user.
	DynamicEffectiveUser bool `json:"-"`
	// AuthnCredential is set on reads that asked for the credential (the
	// files and jobs services only); never stored with the system.
	AuthnCredential *Credential `json:"-"`
	// IsPublic and SharedWithUsers are set on reads that ask for them: the
	// system is shared with the tenant / with these users.
	IsPublic        bool     `json:"-"`
	SharedWithUsers []string `json:"-"`
}

// IsDynamic reports whether the effective user is the requesting user.
func (s System) IsDynamic() bool { return s.EffectiveUserID == VarAPIUserID }

// Clone returns a deep copy (slices and maps are not shared).
func (s System) Clone() System {
	c := s
	c.JobRuntimes = cloneSlice(s.JobRuntimes)
	for i := range c.JobRuntimes {
		c.JobRuntimes[i].Version = clonePtr(c.JobRuntimes[i].Version)
	}
	c.JobEnvVariables = make([]KeyValuePair, len(s.JobEnvVariables))
	for i, kv := range s.JobEnvVariables {
		kv.Notes = cloneMap(kv.Notes)
		c.JobEnvVariables[i] = kv
	}
	if s.JobEnvVariables == nil {
		c.JobEnvVariables = nil
	}
	c.BatchLogicalQueues = cloneSlice(s.BatchLogicalQueues)
	c.JobCapabilities = cloneSlice(s.JobCapabilities)
	for i := range c.JobCapabilities {
		c.JobCapabilities[i].Value = clonePtr(c.JobCapabilities[i].Value)
	}
	c.Tags = cloneSlice(s.Tags)
	c.Notes = cloneMap(s.Notes)
	return c
}

func clonePtr(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// cloneMap deep-copies a JSON object through encoding/json.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return map[string]any{}
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

// Operation names of history records, as the original records them.
const (
	OpCreate      = "create"
	OpModify      = "modify"
	OpEnable      = "enable"
	OpDisable     = "disable"
	OpDelete      = "delete"
	OpUndelete    = "undelete"
	OpChangeOwner = "changeOwner"
	OpGrantPerms  = "grantPerms"
	OpRevokePerms = "revokePerms"
	OpSetCred     = "setCred"
	OpRemoveCred  = "removeCred"
)

// HistoryRecord is one recorded operation on a system.
type HistoryRecord struct {
	Tenant      string
	SystemID    string
	JWTTenant   string
	JWTUser     string
	OboTenant   string
	OboUser     string
	Operation   string
	Description json.RawMessage
	Created     time.Time
}

// ModuleLoad is a module command of a scheduler profile.
type ModuleLoad struct {
	ModuleLoadCommand string   `json:"moduleLoadCommand"`
	ModulesToLoad     []string `json:"modulesToLoad" required:"false" nullable:"true"`
}

// SchedulerProfile is a named set of scheduler options used by jobs.
type SchedulerProfile struct {
	Tenant        string
	Name          string
	Description   string
	Owner         string
	ModuleLoads   []ModuleLoad
	HiddenOptions []string
	UUID          string
	Created       time.Time
	Updated       time.Time
}
