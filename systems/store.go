package systems

import (
	"context"
	"errors"
	"time"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/tenancy"
)

// Sentinel errors, shared with tenancy so the HTTP layer maps them once.
var (
	ErrNotFound      = tenancy.ErrNotFound
	ErrAlreadyExists = tenancy.ErrAlreadyExists
	ErrInvalid       = tenancy.ErrInvalid
	ErrForbidden     = tenancy.ErrForbidden
	// ErrConflict means the stored version moved on (a concurrent update)
	// or the operation conflicts with the stored state.
	ErrConflict = errors.New("conflict")
)

// ListFilter selects systems of one tenant for ListSystems and
// CountSystems. Stores must honour every field and give the same rows in
// the same order (systemstest.RunSearchTests checks it).
type ListFilter struct {
	// Owner, when set, keeps the systems it owns.
	Owner string
	// IDs, when non-nil, keeps the systems with these ids.
	IDs []string
	// ParentID, when set, keeps that parent's children.
	ParentID       string
	IncludeDeleted bool
	// Visible, when non-nil, keeps the systems owned by Visible.Owner or
	// whose id is in Visible.IDs: the visibility of a listType.
	Visible *Visibility
	// Search, when non-nil, keeps the systems matching it (attributes of
	// SearchSchema; stores evaluate it with search.Eval or search.ToSQL).
	Search search.Node
	// Order sorts the result (search.CompareRows / search.OrderSQL), ties
	// and the default order by id, so paging is repeatable.
	Order []search.Order
	// Limit bounds the result (0: no limit); Skip skips that many first.
	Limit, Skip int
	// Fields, when non-nil, names the attributes (wire names) the caller
	// will use: a store may then leave the others zero. Tenant, ID and
	// EffectiveUserID are always filled.
	Fields []string
}

// Visibility is "owned by Owner, or one of IDs".
type Visibility struct {
	Owner string
	IDs   []string
}

// Store persists systems, their history and scheduler profiles. Every
// method is scoped by tenant: no call reads or writes another tenant's rows.
type Store interface {
	// CreateSystem stores a new system (Version 1) and its history record
	// atomically. ErrAlreadyExists when the id is taken in the tenant,
	// deleted systems included.
	CreateSystem(ctx context.Context, s System, h HistoryRecord) error
	// PurgeSystem removes a system and its history for good (the rollback of
	// a create whose credential could not be stored); ErrNotFound when
	// absent. The API never hard-deletes.
	PurgeSystem(ctx context.Context, tenant, id string) error
	// GetSystem returns a system, deleted or not; ErrNotFound when absent.
	GetSystem(ctx context.Context, tenant, id string) (System, error)
	// SaveSystems stores changed systems and history records atomically.
	// Every system and record must belong to tenant (else ErrInvalid); a
	// system that does not exist is ErrNotFound; the same id twice in one
	// batch is ErrConflict; history alone (no systems) is allowed.
	// Each system's Version is the version it was read at: if any stored
	// version differs, nothing is written and the error is ErrConflict.
	// Stored versions are incremented.
	SaveSystems(ctx context.Context, tenant string, systems []System, history []HistoryRecord) error
	// ListSystems returns a tenant's systems matching f, in f's order.
	ListSystems(ctx context.Context, tenant string, f ListFilter) ([]System, error)
	// CountSystems counts the systems matching f, ignoring Limit and Skip.
	CountSystems(ctx context.Context, tenant string, f ListFilter) (int, error)
	// AddHistory records operations that change no system row.
	AddHistory(ctx context.Context, h HistoryRecord) error
	// ListHistory returns a system's records in insertion order.
	ListHistory(ctx context.Context, tenant, systemID string) ([]HistoryRecord, error)

	// CreateProfile stores a scheduler profile; ErrAlreadyExists for a
	// taken name in the tenant.
	CreateProfile(ctx context.Context, p SchedulerProfile) error
	GetProfile(ctx context.Context, tenant, name string) (SchedulerProfile, error)
	// ListProfiles returns a tenant's profiles ordered by name.
	ListProfiles(ctx context.Context, tenant string) ([]SchedulerProfile, error)
	// DeleteProfile removes a profile; ErrNotFound when absent.
	DeleteProfile(ctx context.Context, tenant, name string) error
}

// stamp is the store precision of times: UTC microseconds.
func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// errorf wraps a sentinel with a client-facing message.
func errorf(kind error, format string, args ...any) error {
	return tenancy.Errorf(kind, format, args...)
}
