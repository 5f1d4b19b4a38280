package systems

import (
	"context"
	"strings"

	"github.com/tapis-go/tapis/tenancy"
)

// Defaults returns a system with the defaults of an omitted attribute
// (reference/systems.md §2.1): what a create or a PUT starts from.
func Defaults() System {
	return System{Enabled: true, Port: -1, ProxyPort: -1, JobMaxJobs: -1, JobMaxJobsPerUser: -1,
		JobEnvVariables: []KeyValuePair{}, BatchLogicalQueues: []LogicalQueue{}, JobCapabilities: []Capability{},
		Tags: []string{}, Notes: map[string]any{}}
}

// Patch is a partial update: nil members are not given (PATCH cannot clear
// a value). Immutable names attributes the request tried to set that PATCH
// does not change.
type Patch struct {
	Description              *string         `json:"description,omitempty"`
	Host                     *string         `json:"host,omitempty"`
	EffectiveUserID          *string         `json:"effectiveUserId,omitempty"`
	DefaultAuthnMethod       *AuthnMethod    `json:"defaultAuthnMethod,omitempty"`
	Port                     *int            `json:"port,omitempty"`
	UseProxy                 *bool           `json:"useProxy,omitempty"`
	ProxyHost                *string         `json:"proxyHost,omitempty"`
	ProxyPort                *int            `json:"proxyPort,omitempty"`
	DTNSystemID              *string         `json:"dtnSystemId,omitempty"`
	CanRunBatch              *bool           `json:"canRunBatch,omitempty"`
	EnableCmdPrefix          *bool           `json:"enableCmdPrefix,omitempty"`
	MPICmd                   *string         `json:"mpiCmd,omitempty"`
	JobRuntimes              *[]JobRuntime   `json:"jobRuntimes,omitempty"`
	JobWorkingDir            *string         `json:"jobWorkingDir,omitempty"`
	JobEnvVariables          *[]KeyValuePair `json:"jobEnvVariables,omitempty"`
	JobMaxJobs               *int            `json:"jobMaxJobs,omitempty"`
	JobMaxJobsPerUser        *int            `json:"jobMaxJobsPerUser,omitempty"`
	BatchScheduler           *string         `json:"batchScheduler,omitempty"`
	BatchLogicalQueues       *[]LogicalQueue `json:"batchLogicalQueues,omitempty"`
	BatchDefaultLogicalQueue *string         `json:"batchDefaultLogicalQueue,omitempty"`
	BatchSchedulerProfile    *string         `json:"batchSchedulerProfile,omitempty"`
	JobCapabilities          *[]Capability   `json:"jobCapabilities,omitempty"`
	Tags                     *[]string       `json:"tags,omitempty"`
	Notes                    *map[string]any `json:"notes,omitempty"`
	ImportRefID              *string         `json:"importRefId,omitempty"`
	AllowChildren            *bool           `json:"allowChildren,omitempty"`
	Immutable                []string        `json:"-"`
}

// given lists the members a patch sets (for the child-system rule).
func (pt Patch) given() []string {
	var out []string
	add := func(set bool, name string) {
		if set {
			out = append(out, name)
		}
	}
	add(pt.Description != nil, "description")
	add(pt.Host != nil, "host")
	add(pt.DefaultAuthnMethod != nil, "defaultAuthnMethod")
	add(pt.Port != nil, "port")
	add(pt.UseProxy != nil, "useProxy")
	add(pt.ProxyHost != nil, "proxyHost")
	add(pt.ProxyPort != nil, "proxyPort")
	add(pt.DTNSystemID != nil, "dtnSystemId")
	add(pt.CanRunBatch != nil, "canRunBatch")
	add(pt.EnableCmdPrefix != nil, "enableCmdPrefix")
	add(pt.MPICmd != nil, "mpiCmd")
	add(pt.JobRuntimes != nil, "jobRuntimes")
	add(pt.JobWorkingDir != nil, "jobWorkingDir")
	add(pt.JobEnvVariables != nil, "jobEnvVariables")
	add(pt.JobMaxJobs != nil, "jobMaxJobs")
	add(pt.JobMaxJobsPerUser != nil, "jobMaxJobsPerUser")
	add(pt.BatchScheduler != nil, "batchScheduler")
	add(pt.BatchLogicalQueues != nil, "batchLogicalQueues")
	add(pt.BatchDefaultLogicalQueue != nil, "batchDefaultLogicalQueue")
	add(pt.BatchSchedulerProfile != nil, "batchSchedulerProfile")
	add(pt.JobCapabilities != nil, "jobCapabilities")
	add(pt.Tags != nil, "tags")
	add(pt.Notes != nil, "notes")
	add(pt.ImportRefID != nil, "importRefId")
	add(pt.AllowChildren != nil, "allowChildren")
	return out
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (pt Patch) apply(s *System) {
	setIf(&s.Description, pt.Description)
	setIf(&s.Host, pt.Host)
	setIf(&s.EffectiveUserID, pt.EffectiveUserID)
	setIf(&s.DefaultAuthnMethod, pt.DefaultAuthnMethod)
	setIf(&s.Port, pt.Port)
	setIf(&s.UseProxy, pt.UseProxy)
	setIf(&s.ProxyHost, pt.ProxyHost)
	setIf(&s.ProxyPort, pt.ProxyPort)
	setIf(&s.DTNSystemID, pt.DTNSystemID)
	setIf(&s.CanRunBatch, pt.CanRunBatch)
	setIf(&s.EnableCmdPrefix, pt.EnableCmdPrefix)
	setIf(&s.MPICmd, pt.MPICmd)
	setIf(&s.JobRuntimes, pt.JobRuntimes)
	setIf(&s.JobWorkingDir, pt.JobWorkingDir)
	setIf(&s.JobEnvVariables, pt.JobEnvVariables)
	setIf(&s.JobMaxJobs, pt.JobMaxJobs)
	setIf(&s.JobMaxJobsPerUser, pt.JobMaxJobsPerUser)
	setIf(&s.BatchScheduler, pt.BatchScheduler)
	setIf(&s.BatchLogicalQueues, pt.BatchLogicalQueues)
	setIf(&s.BatchDefaultLogicalQueue, pt.BatchDefaultLogicalQueue)
	setIf(&s.BatchSchedulerProfile, pt.BatchSchedulerProfile)
	setIf(&s.JobCapabilities, pt.JobCapabilities)
	setIf(&s.Tags, pt.Tags)
	setIf(&s.Notes, pt.Notes)
	setIf(&s.ImportRefID, pt.ImportRefID)
	setIf(&s.AllowChildren, pt.AllowChildren)
}

// immutableErr names attributes an update may not change.
func immutableErr(names []string) error {
	return errorf(ErrInvalid, "SYSLIB_UPDATE_IMMUTABLE These attributes cannot be changed by an update: %s (use changeOwner, enable/disable, or create a new system).", strings.Join(names, ", "))
}

// Patch changes the given attributes of a system. A child system accepts
// only effectiveUserId. Children of a patched parent are re-synced in the
// same write.
func (svc *Service) Patch(ctx context.Context, p tenancy.Principal, id string, pt Patch) (System, error) {
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return System{}, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionModify, s); err != nil {
		return System{}, err
	}
	if len(pt.Immutable) > 0 {
		return System{}, immutableErr(pt.Immutable)
	}
	if s.ParentID != "" {
		var extra []string
		for _, g := range pt.given() {
			if g != "effectiveUserId" {
				extra = append(extra, g)
			}
		}
		if len(extra) > 0 {
			return System{}, errorf(ErrInvalid, "SYSLIB_CHILD_PATCH_ERROR System %s is a child system: only effectiveUserId can be patched, not %s.", id, strings.Join(extra, ", "))
		}
	}
	children, err := svc.children(ctx, s)
	if err != nil {
		return System{}, err
	}
	if pt.AllowChildren != nil && !*pt.AllowChildren && len(children) > 0 {
		return System{}, errorf(ErrInvalid, "SYSLIB_CHILD_HAS_CHILD_ERROR System %s has child systems: allowChildren cannot be false.", id)
	}
	next := s.Clone()
	pt.apply(&next)
	trim(&next)
	if err := svc.validateUpdate(ctx, p, &next, "UPDATE"); err != nil {
		return System{}, err
	}
	next.Updated = svc.stamp()
	batch := append([]System{next}, syncChildren(next, children)...)
	if err := svc.store.SaveSystems(ctx, p.TenantID, batch, []HistoryRecord{svc.history(p, id, OpModify, pt)}); err != nil {
		return System{}, conflictErr(err, id)
	}
	return next, svc.hostMoved(ctx, s, batch)
}

// validateUpdate re-applies defaults and every non-create rule.
func (svc *Service) validateUpdate(ctx context.Context, p tenancy.Principal, s *System, op string) error {
	applyDefaults(s)
	pr := checkAttributes(s, false, false)
	if err := svc.checkReferences(ctx, p, s, &pr); err != nil {
		return err
	}
	return pr.err(op)
}

// Put replaces the updatable attributes of a system with those of in
// (omitted ones were given their defaults by the caller, see Defaults).
// The other attributes of in are ignored. A credential, when given, goes
// to the credential store, never to history.
func (svc *Service) Put(ctx context.Context, p tenancy.Principal, id string, in System, cred *Credential, skipCheck bool) (System, error) {
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return System{}, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionModify, s); err != nil {
		return System{}, err
	}
	if s.ParentID != "" {
		return System{}, errorf(ErrInvalid, "SYSLIB_CHILD_PUT_NOT_ALLOWED System %s is a child system: PUT is not allowed, PATCH effectiveUserId instead.", id)
	}
	children, err := svc.children(ctx, s)
	if err != nil {
		return System{}, err
	}
	if !in.AllowChildren && len(children) > 0 {
		return System{}, errorf(ErrInvalid, "SYSLIB_CHILD_ALLOW_CONFLICT_ERROR System %s has child systems: allowChildren must stay true.", id)
	}
	next := s.Clone()
	in = in.Clone()
	next.Description, next.Host, next.DefaultAuthnMethod, next.Port = in.Description, in.Host, in.DefaultAuthnMethod, in.Port
	next.UseProxy, next.ProxyHost, next.ProxyPort, next.DTNSystemID = in.UseProxy, in.ProxyHost, in.ProxyPort, in.DTNSystemID
	next.CanRunBatch, next.EnableCmdPrefix, next.MPICmd, next.JobRuntimes = in.CanRunBatch, in.EnableCmdPrefix, in.MPICmd, in.JobRuntimes
	next.JobWorkingDir, next.JobEnvVariables, next.JobMaxJobs, next.JobMaxJobsPerUser = in.JobWorkingDir, in.JobEnvVariables, in.JobMaxJobs, in.JobMaxJobsPerUser
	next.BatchScheduler, next.BatchLogicalQueues, next.BatchDefaultLogicalQueue = in.BatchScheduler, in.BatchLogicalQueues, in.BatchDefaultLogicalQueue
	next.BatchSchedulerProfile, next.AllowChildren, next.JobCapabilities = in.BatchSchedulerProfile, in.AllowChildren, in.JobCapabilities
	next.Tags, next.Notes, next.ImportRefID = in.Tags, in.Notes, in.ImportRefID
	trim(&next)
	if err := svc.validateUpdate(ctx, p, &next, "UPDATE"); err != nil {
		return System{}, err
	}
	if cred != nil {
		if err := svc.mayManageCredential(ctx, p, next, next.EffectiveUserID); err != nil {
			return System{}, err
		}
		if next.IsDynamic() {
			return System{}, errorf(ErrInvalid, "SYSLIB_CRED_DISALLOWED_INPUT authnCredential cannot be given with a dynamic effectiveUserId.")
		}
		if err := svc.checkCredential(ctx, next, staticUser(next), *cred, skipCheck); err != nil {
			return System{}, err
		}
		if err := svc.putCredential(ctx, p, next, next.EffectiveUserID, *cred); err != nil {
			return System{}, err
		}
	}
	next.Updated = svc.stamp()
	hist := []HistoryRecord{svc.history(p, id, OpModify, in)}
	if cred != nil {
		hist = append(hist, svc.history(p, id, OpSetCred, map[string]any{"System": id, "TargetUser": next.EffectiveUserID,
			"SkipCredCheck": skipCheck, "Credential": map[string]any{}}))
	}
	batch := append([]System{next}, syncChildren(next, children)...)
	if err := svc.store.SaveSystems(ctx, p.TenantID, batch, hist); err != nil {
		return System{}, conflictErr(err, id)
	}
	return next, svc.hostMoved(ctx, s, batch)
}

// conflictErr words a version conflict for the client.
func conflictErr(err error, id string) error {
	if err != nil && isConflict(err) {
		return errorf(ErrConflict, "SYSLIB_UPDATE_CONFLICT System %s was changed by another request; read it again and retry.", id)
	}
	return err
}

// hostMoved forgets the pinned host keys of the saved systems (a patched
// parent and its re-synced children) when the host or port changed: the
// next check pins the new host's key instead of reporting a mismatch.
func (svc *Service) hostMoved(ctx context.Context, before System, saved []System) error {
	if svc.keys == nil || len(saved) == 0 || (saved[0].Host == before.Host && saved[0].Port == before.Port) {
		return nil
	}
	for _, s := range saved {
		if err := svc.keys.DeleteHostKey(ctx, s.Tenant, s.ID); err != nil {
			return err
		}
	}
	return nil
}
