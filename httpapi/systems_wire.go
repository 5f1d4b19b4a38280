package httpapi

import (
	"encoding/json"
	"math"
	"net/http"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tapis-go/tapis/systems"
)

// Wire mapping of the Systems service: its envelope (with commit and
// build), the TapisSystem shape with select, and request bodies.

// BuildInfo returns the commit and the build time the Systems envelope
// reports: the VCS revision and time Go recorded in the binary, or
// "unknown" (tests, builds outside a repository).
func BuildInfo() (commit, build string) {
	b := buildInfo()
	return b.commit, b.build
}

var buildInfo = sync.OnceValue(func() struct{ commit, build string } {
	out := struct{ commit, build string }{"unknown", "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				out.commit = s.Value
			case "vcs.time":
				out.build = s.Value
			}
		}
	}
	return out
})

// SysResp is the Systems envelope; metadata is null except on lists.
type SysResp[T any] struct {
	Result   T      `json:"result"`
	Status   string `json:"status" enum:"success,error"`
	Message  string `json:"message"`
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Build    string `json:"build"`
	Metadata any    `json:"metadata"`
}

// SysOutput wraps a Systems envelope as a huma response.
type SysOutput[T any] struct {
	Status int `json:"-"`
	Body   SysResp[T]
}

func sysOK[T any](result T, message string) *SysOutput[T] {
	out := &SysOutput[T]{Status: http.StatusOK, Body: SysResp[T]{Result: result, Status: "success", Message: message,
		Version: Version}}
	out.Body.Commit, out.Body.Build = BuildInfo()
	return out
}

func sysCreated[T any](result T, message string) *SysOutput[T] {
	out := sysOK(result, message)
	out.Status = http.StatusCreated
	return out
}

// URLResult, ChangeCount and BoolResult are the small result shapes.
type (
	URLResult struct {
		URL string `json:"url"`
	}
	ChangeCount struct {
		Changes int `json:"changes"`
	}
	BoolResult struct {
		ABool bool `json:"aBool"`
	}
)

// CredentialJSON is a credential on the wire (authnCredential).
type CredentialJSON struct {
	LoginUser    *string `json:"loginUser,omitempty"`
	Password     *string `json:"password,omitempty"`
	PrivateKey   *string `json:"privateKey,omitempty"`
	PublicKey    *string `json:"publicKey,omitempty"`
	AccessKey    *string `json:"accessKey,omitempty"`
	AccessSecret *string `json:"accessSecret,omitempty"`
	AccessToken  *string `json:"accessToken,omitempty"`
	RefreshToken *string `json:"refreshToken,omitempty"`
	Certificate  *string `json:"certificate,omitempty"`
	// Read-only fields a GET returns, accepted and ignored on input.
	AuthnMethod      *string `json:"authnMethod,omitempty"`
	ValidationResult *bool   `json:"validationResult,omitempty"`
	ValidationMsg    *string `json:"validationMsg,omitempty"`
}

func (c *CredentialJSON) domain() *systems.Credential {
	if c == nil {
		return nil
	}
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	return &systems.Credential{LoginUser: s(c.LoginUser), Password: s(c.Password), PrivateKey: s(c.PrivateKey),
		PublicKey: s(c.PublicKey), AccessKey: s(c.AccessKey), AccessSecret: s(c.AccessSecret),
		AccessToken: s(c.AccessToken), RefreshToken: s(c.RefreshToken), Certificate: s(c.Certificate)}
}

// SystemInJSON is the body of POST and PUT /v3/systems (ReqPostSystem /
// ReqPutSystem); nil members were not given. Read-only attributes are
// accepted (so a GET result can be sent back) and ignored.
type SystemInJSON struct {
	ID                       *string                 `json:"id,omitempty" maxLength:"80"`
	Description              *string                 `json:"description,omitempty"`
	SystemType               *string                 `json:"systemType,omitempty"`
	Owner                    *string                 `json:"owner,omitempty"`
	Host                     *string                 `json:"host,omitempty"`
	Enabled                  *bool                   `json:"enabled,omitempty"`
	EffectiveUserID          *string                 `json:"effectiveUserId,omitempty"`
	DefaultAuthnMethod       *string                 `json:"defaultAuthnMethod,omitempty"`
	AuthnCredential          *CredentialJSON         `json:"authnCredential,omitempty"`
	BucketName               *string                 `json:"bucketName,omitempty"`
	RootDir                  *string                 `json:"rootDir,omitempty"`
	Port                     *int                    `json:"port,omitempty"`
	UseProxy                 *bool                   `json:"useProxy,omitempty"`
	ProxyHost                *string                 `json:"proxyHost,omitempty"`
	ProxyPort                *int                    `json:"proxyPort,omitempty"`
	DTNSystemID              *string                 `json:"dtnSystemId,omitempty"`
	CanExec                  *bool                   `json:"canExec,omitempty"`
	CanRunBatch              *bool                   `json:"canRunBatch,omitempty"`
	EnableCmdPrefix          *bool                   `json:"enableCmdPrefix,omitempty"`
	MPICmd                   *string                 `json:"mpiCmd,omitempty"`
	JobRuntimes              *[]systems.JobRuntime   `json:"jobRuntimes,omitempty"`
	JobWorkingDir            *string                 `json:"jobWorkingDir,omitempty"`
	JobEnvVariables          *[]systems.KeyValuePair `json:"jobEnvVariables,omitempty"`
	JobMaxJobs               *int                    `json:"jobMaxJobs,omitempty"`
	JobMaxJobsPerUser        *int                    `json:"jobMaxJobsPerUser,omitempty"`
	BatchScheduler           *string                 `json:"batchScheduler,omitempty"`
	BatchLogicalQueues       *[]systems.LogicalQueue `json:"batchLogicalQueues,omitempty"`
	BatchDefaultLogicalQueue *string                 `json:"batchDefaultLogicalQueue,omitempty"`
	BatchSchedulerProfile    *string                 `json:"batchSchedulerProfile,omitempty"`
	JobCapabilities          *[]systems.Capability   `json:"jobCapabilities,omitempty"`
	Tags                     *[]string               `json:"tags,omitempty"`
	Notes                    *map[string]any         `json:"notes,omitempty"`
	ImportRefID              *string                 `json:"importRefId,omitempty"`
	AllowChildren            *bool                   `json:"allowChildren,omitempty"`
	// Accepted and ignored (read-only).
	Tenant                 *string   `json:"tenant,omitempty"`
	UUID                   *string   `json:"uuid,omitempty"`
	Deleted                *bool     `json:"deleted,omitempty"`
	Created                *string   `json:"created,omitempty"`
	Updated                *string   `json:"updated,omitempty"`
	IsPublic               *bool     `json:"isPublic,omitempty"`
	IsDynamicEffectiveUser *bool     `json:"isDynamicEffectiveUser,omitempty"`
	SharedWithUsers        *[]string `json:"sharedWithUsers,omitempty"`
	ParentID               *string   `json:"parentId,omitempty"`
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func setStr[T ~string](dst *T, v *string) {
	if v != nil {
		*dst = T(*v)
	}
}

// domain builds a system from the defaults and the given members.
func (in SystemInJSON) domain() systems.System {
	s := systems.Defaults()
	setStr(&s.ID, in.ID)
	setStr(&s.Description, in.Description)
	setStr(&s.SystemType, in.SystemType)
	setStr(&s.Owner, in.Owner)
	setStr(&s.Host, in.Host)
	set(&s.Enabled, in.Enabled)
	setStr(&s.EffectiveUserID, in.EffectiveUserID)
	setStr(&s.DefaultAuthnMethod, in.DefaultAuthnMethod)
	setStr(&s.BucketName, in.BucketName)
	setStr(&s.RootDir, in.RootDir)
	set(&s.Port, in.Port)
	set(&s.UseProxy, in.UseProxy)
	setStr(&s.ProxyHost, in.ProxyHost)
	set(&s.ProxyPort, in.ProxyPort)
	setStr(&s.DTNSystemID, in.DTNSystemID)
	set(&s.CanExec, in.CanExec)
	set(&s.CanRunBatch, in.CanRunBatch)
	set(&s.EnableCmdPrefix, in.EnableCmdPrefix)
	setStr(&s.MPICmd, in.MPICmd)
	set(&s.JobRuntimes, in.JobRuntimes)
	setStr(&s.JobWorkingDir, in.JobWorkingDir)
	set(&s.JobEnvVariables, in.JobEnvVariables)
	set(&s.JobMaxJobs, in.JobMaxJobs)
	set(&s.JobMaxJobsPerUser, in.JobMaxJobsPerUser)
	setStr(&s.BatchScheduler, in.BatchScheduler)
	set(&s.BatchLogicalQueues, in.BatchLogicalQueues)
	setStr(&s.BatchDefaultLogicalQueue, in.BatchDefaultLogicalQueue)
	setStr(&s.BatchSchedulerProfile, in.BatchSchedulerProfile)
	set(&s.JobCapabilities, in.JobCapabilities)
	set(&s.Tags, in.Tags)
	set(&s.Notes, in.Notes)
	setStr(&s.ImportRefID, in.ImportRefID)
	set(&s.AllowChildren, in.AllowChildren)
	for i := range s.JobEnvVariables {
		kv := &s.JobEnvVariables[i]
		if kv.InputMode == "REQUIRED" && kv.Value == "" {
			kv.Value = systems.EnvNotSet // an omitted value; the JSON null and "" are the same here
		}
	}
	return s
}

// requiredMissing names the attributes POST requires that are absent.
func (in SystemInJSON) requiredMissing() []string {
	var out []string
	if in.CanExec == nil {
		out = append(out, "canExec")
	}
	return out
}

// SystemPatchJSON is the body of PATCH /v3/systems/{systemId}: the
// patchable members, plus the immutable ones so that they are refused by
// name rather than as unknown.
type SystemPatchJSON struct {
	systems.Patch
	ID              *string         `json:"id,omitempty"`
	SystemType      *string         `json:"systemType,omitempty"`
	Owner           *string         `json:"owner,omitempty"`
	Enabled         *bool           `json:"enabled,omitempty"`
	BucketName      *string         `json:"bucketName,omitempty"`
	RootDir         *string         `json:"rootDir,omitempty"`
	CanExec         *bool           `json:"canExec,omitempty"`
	AuthnCredential *CredentialJSON `json:"authnCredential,omitempty"`
	Tenant          *string         `json:"tenant,omitempty"`
	UUID            *string         `json:"uuid,omitempty"`
	Deleted         *bool           `json:"deleted,omitempty"`
	ParentID        *string         `json:"parentId,omitempty"`
}

func (in SystemPatchJSON) domain() systems.Patch {
	pt := in.Patch
	for _, f := range []struct {
		name  string
		given bool
	}{{"id", in.ID != nil}, {"systemType", in.SystemType != nil}, {"owner", in.Owner != nil},
		{"enabled", in.Enabled != nil}, {"bucketName", in.BucketName != nil}, {"rootDir", in.RootDir != nil},
		{"canExec", in.CanExec != nil}, {"authnCredential", in.AuthnCredential != nil}, {"tenant", in.Tenant != nil},
		{"uuid", in.UUID != nil}, {"deleted", in.Deleted != nil}, {"parentId", in.ParentID != nil}} {
		if f.given {
			pt.Immutable = append(pt.Immutable, f.name)
		}
	}
	return pt
}

// sysTime is the Systems timestamp: ISO-8601 UTC with Z, microseconds.
func sysTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.999999Z")
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// displayMax shows negative job limits as the original does (max int32).
func displayMax(n int) int {
	if n < 0 {
		return math.MaxInt32
	}
	return n
}

// HistoryJSON is one history item.
type HistoryJSON struct {
	JWTTenant   string          `json:"jwtTenant"`
	JWTUser     string          `json:"jwtUser"`
	OboTenant   string          `json:"oboTenant"`
	OboUser     string          `json:"oboUser"`
	Operation   string          `json:"operation"`
	Description json.RawMessage `json:"description"`
	Created     string          `json:"created"`
}

// ProfileInJSON is the body of POST /v3/systems/schedulerProfile.
type ProfileInJSON struct {
	Name          string               `json:"name"`
	Description   string               `json:"description,omitempty"`
	Owner         string               `json:"owner,omitempty"`
	ModuleLoads   []systems.ModuleLoad `json:"moduleLoads,omitempty"`
	HiddenOptions []string             `json:"hiddenOptions,omitempty"`
	Tenant        *string              `json:"tenant,omitempty" doc:"Ignored."`
	UUID          *string              `json:"uuid,omitempty" doc:"Ignored."`
	Created       *string              `json:"created,omitempty" doc:"Ignored."`
	Updated       *string              `json:"updated,omitempty" doc:"Ignored."`
}

// ProfileJSONOut is a scheduler profile on the wire.
type ProfileJSONOut struct {
	Tenant        string               `json:"tenant"`
	Name          string               `json:"name"`
	Description   *string              `json:"description"`
	Owner         string               `json:"owner"`
	ModuleLoads   []systems.ModuleLoad `json:"moduleLoads"`
	HiddenOptions []string             `json:"hiddenOptions"`
	UUID          string               `json:"uuid"`
	Created       string               `json:"created"`
	Updated       string               `json:"updated"`
}

func profileOut(p systems.SchedulerProfile) ProfileJSONOut {
	return ProfileJSONOut{Tenant: p.Tenant, Name: p.Name, Description: nullable(p.Description), Owner: p.Owner,
		ModuleLoads: p.ModuleLoads, HiddenOptions: p.HiddenOptions, UUID: p.UUID, Created: sysTime(p.Created), Updated: sysTime(p.Updated)}
}
