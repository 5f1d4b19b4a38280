package credentials

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/tapis-go/tapis/tenancy"
)

// Actions and results of audit records written by Audited.
const (
	ActionPut    = "put"
	ActionGet    = "get"
	ActionDelete = "delete"
	ActionCheck  = "check"

	ResultOK       = "ok"
	ResultNotFound = "not_found"
	ResultDenied   = "denied"
	ResultError    = "error"
	ResultInvalid  = "invalid"
)

// ErrAuditFailed means an operation on a secret could not be audited. A read
// that cannot be audited returns no secret; a write or delete has already
// happened when this error is returned.
var ErrAuditFailed = errors.New("credentials: the audit record could not be written")

// Audited wraps v so that every PutCredential, GetCredential and
// DeleteCredential writes exactly one AuditRecord to a, after the operation,
// with its result: who (the JWT tenant and user and the on-behalf-of user of
// the tenancy.Principal in the context; empty without one), the key, the
// action and ok, not_found, invalid or error. The record never holds the
// value. now gives the record's time (nil: time.Now); records are in UTC.
//
// Auditing fails closed for reads: when the record cannot be written,
// GetCredential returns ErrAuditFailed and no credential. A put or delete
// whose record cannot be written returns ErrAuditFailed too, although the
// vault has already changed. The record is written even when the caller's
// context is cancelled.
func Audited(v Vault, a Auditor, now func() time.Time) Vault {
	if now == nil {
		now = time.Now
	}
	return &auditedVault{v: v, a: a, now: now}
}

type auditedVault struct {
	v   Vault
	a   Auditor
	now func() time.Time
}

func (av *auditedVault) PutCredential(ctx context.Context, k Key, c Credential) error {
	err := av.v.PutCredential(ctx, k, c)
	return av.audit(ctx, k, ActionPut, err)
}

func (av *auditedVault) GetCredential(ctx context.Context, k Key) (Credential, error) {
	c, err := av.v.GetCredential(ctx, k)
	if aerr := av.audit(ctx, k, ActionGet, err); aerr != nil {
		return Credential{}, aerr
	}
	return c, nil
}

func (av *auditedVault) DeleteCredential(ctx context.Context, k Key) error {
	err := av.v.DeleteCredential(ctx, k)
	return av.audit(ctx, k, ActionDelete, err)
}

// audit writes the record of one operation and returns the operation's
// error, or ErrAuditFailed (wrapping the auditor's error, joined with the
// operation's) when the record could not be written.
func (av *auditedVault) audit(ctx context.Context, k Key, action string, opErr error) error {
	r := NewAuditRecord(ctx, av.now(), k, action, Result(opErr))
	if err := av.a.Audit(context.WithoutCancel(ctx), r); err != nil {
		// The auditor's error names its own failure (a record holds no
		// secret), so it is kept for the operator.
		return errors.Join(fmt.Errorf("%w: %w", ErrAuditFailed, err), opErr)
	}
	return opErr
}

// NewAuditRecord builds the record of one action on the credential under k
// by the principal in ctx.
func NewAuditRecord(ctx context.Context, at time.Time, k Key, action, result string) AuditRecord {
	r := AuditRecord{Time: at.UTC(), Tenant: k.Tenant, SystemID: k.SystemID, TargetUser: k.User,
		Action: action, Result: result}
	if p, ok := tenancy.PrincipalFrom(ctx); ok {
		r.JWTTenant, r.JWTUser, r.OboUser = p.TokenTenantID, p.TokenUsername, p.Username
	}
	return r
}

// Result classifies the error of an operation as an audit result: ok,
// not_found, denied, invalid or error.
func Result(err error) string {
	switch {
	case err == nil:
		return ResultOK
	case errors.Is(err, ErrNotFound):
		return ResultNotFound
	case errors.Is(err, tenancy.ErrForbidden):
		return ResultDenied
	case errors.Is(err, ErrInvalid):
		return ResultInvalid
	}
	return ResultError
}

// MemoryAuditor keeps audit records in memory, for tests and small
// deployments. The zero value keeps every record; with Max > 0 it keeps the
// newest Max. It is safe for concurrent use.
type MemoryAuditor struct {
	// Max bounds the records kept (0: no bound). Set it before first use.
	Max int

	mu      sync.Mutex
	records []AuditRecord
}

var _ Auditor = (*MemoryAuditor)(nil)

// Audit implements Auditor.
func (m *MemoryAuditor) Audit(_ context.Context, r AuditRecord) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records = append(m.records, r)
	if m.Max > 0 && len(m.records) > m.Max {
		// Re-slicing is amortized O(1): the next growth of the array copies
		// only the records kept.
		m.records = m.records[len(m.records)-m.Max:]
	}
	return nil
}

// Records returns a copy of the records, oldest first.
func (m *MemoryAuditor) Records() []AuditRecord {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.records)
}
