package systems

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/tenancy"
)

// ErrNotConfigured means an optional capability (credential storage, host
// access for HOST_EVAL) is not configured on this server (HTTP 501).
var ErrNotConfigured = errors.New("not configured")

// Credential is a secret set for a system (credentials.Credential).
type Credential = credentials.Credential

// Config configures a Service.
type Config struct {
	Store   Store
	Tenancy *tenancy.Service
	// Authorizer decides every operation; default OwnerOrAdmin.
	Authorizer Authorizer
	// Access stores permissions and shares; without it the permission and
	// sharing operations answer 501.
	Access AccessStore
	// Vault stores credentials; Verifier checks them against hosts;
	// Evaluator runs HOST_EVAL. All optional: without them the operations
	// that need them answer a clear 501 (a credential check is skipped only
	// when the request says skipCredentialCheck).
	Vault     credentials.Vault
	Verifier  hostcheck.Verifier
	Evaluator hostcheck.Evaluator
	// Globus serves the Globus endpoints, refreshes stored Globus tokens
	// and checks them; GlobusSessions keeps the started authorizations.
	// Without both the Globus endpoints answer 501.
	Globus         Globus
	GlobusSessions GlobusSessionStore
	// HostKeys, when set, forgets a system's pinned SSH host key when its
	// host or port changes.
	HostKeys hostcheck.HostKeys
	Logger   *slog.Logger
	Now      func() time.Time
}

// Service is the Systems service.
type Service struct {
	store Store
	acc   AccessStore
	ten   *tenancy.Service
	authz Authorizer
	vault credentials.Vault
	check hostcheck.Verifier
	eval  hostcheck.Evaluator
	keys  hostcheck.HostKeys
	gl    Globus
	log   *slog.Logger
	now   func() time.Time

	glSessions GlobusSessionStore
	refreshing keyedMutex // Globus token refreshes, per credential
}

// NewService returns a Service; its error names every missing dependency.
func NewService(cfg Config) (*Service, error) {
	var missing []string
	if cfg.Store == nil {
		missing = append(missing, "Store")
	}
	if cfg.Tenancy == nil {
		missing = append(missing, "Tenancy")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("systems: Config is missing %v", missing)
	}
	if cfg.Authorizer == nil && cfg.Access != nil {
		cfg.Authorizer = AccessPolicy{Tenancy: cfg.Tenancy, Store: cfg.Access}
	}
	if cfg.Authorizer == nil {
		cfg.Authorizer = OwnerOrAdmin{Tenancy: cfg.Tenancy}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Service{store: cfg.Store, acc: cfg.Access, ten: cfg.Tenancy, authz: cfg.Authorizer, vault: cfg.Vault,
		check: cfg.Verifier, eval: cfg.Evaluator, keys: cfg.HostKeys, gl: cfg.Globus, log: cfg.Logger, now: cfg.Now,
		glSessions: cfg.GlobusSessions}, nil
}

// Store returns the store (for the permissions and search layers).
func (svc *Service) Store() Store { return svc.store }

func (svc *Service) stamp() time.Time { return stamp(svc.now()) }

// history builds a record of an operation by p on system id.
func (svc *Service) history(p tenancy.Principal, id, op string, description any) HistoryRecord {
	raw, err := json.Marshal(description)
	if err != nil {
		raw = []byte("{}")
	}
	return HistoryRecord{Tenant: p.TenantID, SystemID: id, JWTTenant: p.TokenTenantID, JWTUser: p.TokenUsername,
		OboTenant: p.TenantID, OboUser: p.Username, Operation: op, Description: raw, Created: svc.stamp()}
}

// CreateInput is a new system with what came along with it.
type CreateInput struct {
	System System
	// Credential, when non-nil, is the authnCredential of the request.
	Credential          *Credential
	SkipCredentialCheck bool
	// Missing names required attributes the request left out that the
	// System cannot tell apart from their zero value (canExec).
	Missing []string
}

// trim removes surrounding whitespace from the string attributes the
// original trims.
func trim(s *System) {
	for _, f := range []*string{&s.ID, &s.Owner, &s.Host, &s.EffectiveUserID, &s.BucketName, &s.RootDir, &s.ProxyHost,
		&s.DTNSystemID, &s.MPICmd, &s.JobWorkingDir, &s.BatchDefaultLogicalQueue, &s.BatchSchedulerProfile} {
		*f = strings.TrimSpace(*f)
	}
	for i := range s.Tags {
		s.Tags[i] = strings.TrimSpace(s.Tags[i])
	}
	for i := range s.BatchLogicalQueues {
		s.BatchLogicalQueues[i].Name = strings.TrimSpace(s.BatchLogicalQueues[i].Name)
		s.BatchLogicalQueues[i].HPCQueueName = strings.TrimSpace(s.BatchLogicalQueues[i].HPCQueueName)
	}
}

// applyDefaults fills the defaults of §3.1 step 4 (create, PUT and PATCH).
func applyDefaults(s *System) {
	if s.Tags == nil {
		s.Tags = []string{}
	}
	if s.Notes == nil {
		s.Notes = map[string]any{}
	}
	if s.JobEnvVariables == nil {
		s.JobEnvVariables = []KeyValuePair{}
	}
	if s.BatchLogicalQueues == nil {
		s.BatchLogicalQueues = []LogicalQueue{}
	}
	if s.JobCapabilities == nil {
		s.JobCapabilities = []Capability{}
	}
	if s.CanRunBatch && len(s.BatchLogicalQueues) == 1 {
		s.BatchDefaultLogicalQueue = s.BatchLogicalQueues[0].Name
	}
	for i := range s.JobEnvVariables {
		kv := &s.JobEnvVariables[i]
		if kv.InputMode == "" {
			kv.InputMode = "INCLUDE_BY_DEFAULT"
		}
		if kv.Notes == nil {
			kv.Notes = map[string]any{}
		}
	}
}

// checkReferences validates what needs the store: the scheduler profile and
// the DTN system (read with the caller's rights).
func (svc *Service) checkReferences(ctx context.Context, p tenancy.Principal, s *System, pr *problems) error {
	if s.BatchSchedulerProfile != "" {
		if _, err := svc.getProfile(ctx, s.Tenant, s.BatchSchedulerProfile); errors.Is(err, ErrNotFound) {
			pr.add("SYSLIB_PRF_NO_PROFILE", "batchSchedulerProfile %q does not exist in tenant %s.", s.BatchSchedulerProfile, s.Tenant)
		} else if err != nil {
			return err
		}
	}
	if s.DTNSystemID != "" && s.CanExec {
		dtn, err := svc.getSystem(ctx, s.Tenant, s.DTNSystemID)
		switch {
		case errors.Is(err, ErrNotFound) || (err == nil && dtn.Deleted):
			pr.add("SYSLIB_DTN_NO_SYSTEM", "dtnSystemId %q: no such system.", s.DTNSystemID)
		case err != nil:
			return err
		case svc.authz.Authorize(ctx, p, ActionRead, dtn) != nil:
			pr.add("SYSLIB_DTN_403", "dtnSystemId %q: you may not read that system.", s.DTNSystemID)
		case dtn.RootDir != s.RootDir:
			pr.add("SYSLIB_DTN_ROOTDIR_MISMATCH", "dtnSystemId %q has rootDir %q, which differs from this system's %q.", s.DTNSystemID, dtn.RootDir, s.RootDir)
		}
	}
	return nil
}

// Create validates and stores a new system (reference/systems.md §3.1).
func (svc *Service) Create(ctx context.Context, p tenancy.Principal, in CreateInput) (System, error) {
	s := in.System.Clone()
	trim(&s)
	s.Tenant = p.TenantID
	if s.ID != "" {
		switch _, err := svc.getSystem(ctx, s.Tenant, s.ID); {
		case err == nil:
			return System{}, errorf(ErrAlreadyExists, "SYSAPI_SYS_EXISTS System %s already exists in tenant %s (deleted systems keep their id).", s.ID, s.Tenant)
		case !errors.Is(err, ErrNotFound):
			return System{}, err
		}
	}
	applyDefaults(&s)
	resolveCreate(&s, p.TenantID, p.Username)
	pr := checkAttributes(&s, in.Credential != nil, true)
	if len(in.Missing) > 0 {
		pr.add("SYSLIB_CREATE_MISSING_ATTR", "Missing required attribute(s): %s.", strings.Join(in.Missing, ", "))
	}
	if in.Credential != nil && in.Credential.LoginUser != "" && !s.IsDynamic() {
		pr.add("SYSLIB_CRED_INVALID_LOGINUSER", "authnCredential.loginUser cannot be set for a system with a static effectiveUserId.")
	}
	if err := svc.checkReferences(ctx, p, &s, &pr); err != nil {
		return System{}, err
	}
	if err := pr.err("CREATE"); err != nil {
		return System{}, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionCreate, s); err != nil {
		return System{}, err
	}
	if IsReservedID(s.ID) {
		return System{}, errorf(ErrAlreadyExists, "SYSAPI_CREATE_RESERVED The id %s is reserved.", s.ID)
	}
	if strings.Contains(s.RootDir, hostEvalMarker) {
		if err := svc.evalRootDir(ctx, &s, in.Credential); err != nil {
			return System{}, err
		}
	}
	if traitsOf(s.SystemType).POSIXPaths {
		s.RootDir = normalizeRootDir(s.RootDir)
	}
	if in.Credential != nil {
		if err := svc.checkCredential(ctx, s, staticUser(s), *in.Credential, in.SkipCredentialCheck); err != nil {
			return System{}, err
		}
	}
	now := svc.stamp()
	s.Enabled = in.System.Enabled
	s.UUID, s.Created, s.Updated, s.Deleted, s.ParentID, s.Version = uuid.NewString(), now, now, false, in.System.ParentID, 1
	if err := svc.store.CreateSystem(ctx, s, svc.history(p, s.ID, OpCreate, s)); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return System{}, errorf(ErrAlreadyExists, "SYSAPI_SYS_EXISTS System %s already exists in tenant %s.", s.ID, s.Tenant)
		}
		return System{}, err
	}
	if in.Credential != nil {
		if err := svc.putCredential(ctx, p, s, s.EffectiveUserID, *in.Credential); err != nil {
			if rerr := svc.store.PurgeSystem(ctx, s.Tenant, s.ID); rerr != nil {
				svc.log.ErrorContext(ctx, "rolling back a system create failed", "tenant", s.Tenant, "system", s.ID, "err", rerr)
			}
			return System{}, err
		}
	}
	return s, nil
}

// evalRootDir resolves HOST_EVAL by reading the variable on the host.
func (svc *Service) evalRootDir(ctx context.Context, s *System, c *Credential) error {
	he, err := ParseHostEval(s.RootDir)
	if err != nil {
		return err
	}
	if svc.eval == nil || c == nil {
		return errorf(ErrNotConfigured, "SYSAPI_HOST_EVAL_NOT_CONFIGURED HOST_EVAL in rootDir needs host access, which is not configured on this server: give an absolute rootDir.")
	}
	value, err := svc.eval.EvalEnv(ctx, target(*s, staticUser(*s)), *c, he.Var)
	if err != nil {
		return hostErr(err, *s)
	}
	s.RootDir, err = he.Resolve(value)
	return err
}
