package tenancy

import (
	"context"
	"errors"
)

// Sentinel errors every Store returns (wrapped or not) so that callers can
// test them with errors.Is.
var (
	// ErrNotFound means the record does not exist (or belongs to another tenant).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists means a unique key (id, base URL, email, ...) is taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrInUse means the record is still referenced and cannot be deleted.
	ErrInUse = errors.New("in use")
)

// SiteStore persists sites.
type SiteStore interface {
	CreateSite(ctx context.Context, s Site) error
	GetSite(ctx context.Context, id string) (Site, error)
	ListSites(ctx context.Context) ([]Site, error)
	// DeleteSite removes a site; ErrInUse while a tenant belongs to it.
	DeleteSite(ctx context.Context, id string) error
}

// TenantStore persists tenants and their history.
type TenantStore interface {
	// CreateTenant stores a new tenant; ErrAlreadyExists if the id or base URL
	// is taken; ErrNotFound if its site, owner or an LDAP object is missing.
	CreateTenant(ctx context.Context, t Tenant) error
	GetTenant(ctx context.Context, id string) (Tenant, error)
	ListTenants(ctx context.Context, f TenantFilter) ([]Tenant, error)
	// UpdateTenant runs update on the current record inside one atomic step
	// and stores the result together with the history record it returns
	// (when its Updates are not empty). An error from update aborts the step.
	// update runs inside the store's transaction: it must not call the store.
	// The id cannot change; references are re-checked (ErrNotFound) and a
	// base URL collision is ErrAlreadyExists.
	UpdateTenant(ctx context.Context, id string, update func(*Tenant) (TenantHistory, error)) (Tenant, error)
	// TenantHistory lists the history records of a tenant, oldest first.
	TenantHistory(ctx context.Context, id string) ([]TenantHistory, error)
}

// OwnerStore persists tenant owners.
type OwnerStore interface {
	CreateOwner(ctx context.Context, o Owner) error
	GetOwner(ctx context.Context, email string) (Owner, error)
	ListOwners(ctx context.Context) ([]Owner, error)
	// DeleteOwner removes an owner; ErrInUse while a tenant names it.
	DeleteOwner(ctx context.Context, email string) error
}

// LDAPStore persists LDAP connection objects.
type LDAPStore interface {
	CreateLDAP(ctx context.Context, l LDAPConnection) error
	GetLDAP(ctx context.Context, id string) (LDAPConnection, error)
	ListLDAPs(ctx context.Context) ([]LDAPConnection, error)
	// DeleteLDAP removes an LDAP object; ErrInUse while a tenant uses it.
	DeleteLDAP(ctx context.Context, id string) error
}

// Store is everything the tenancy Service persists.
type Store interface {
	SiteStore
	TenantStore
	OwnerStore
	LDAPStore
}
