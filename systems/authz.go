package systems

import (
	"context"

	"github.com/tapis-go/tapis/tenancy"
)

// Action is what a principal wants to do to a system.
type Action string

// Actions of the Systems service (reference/systems.md §6.3).
const (
	ActionRead        Action = "read"
	ActionExecute     Action = "execute"
	ActionModify      Action = "modify"
	ActionCreate      Action = "create"
	ActionDelete      Action = "delete"
	ActionUndelete    Action = "undelete"
	ActionEnable      Action = "enable"
	ActionDisable     Action = "disable"
	ActionChangeOwner Action = "changeOwner"
	ActionProfile     Action = "manageProfile"
)

// Authorizer is the one place that decides whether a principal may act on a
// system; every operation of the service asks it. It returns nil, or an
// error wrapping ErrForbidden (or ErrNotFound to hide the system).
type Authorizer interface {
	Authorize(ctx context.Context, p tenancy.Principal, action Action, s System) error
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, p tenancy.Principal, action Action, s System) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, p tenancy.Principal, action Action, s System) error {
	return f(ctx, p, action, s)
}

// OwnerOrAdmin allows the system's owner and the tenant's admin (tenancy
// roles) everything, services calling as themselves read and execute, and
// nobody else anything: the policy until permissions and sharing are
// configured.
type OwnerOrAdmin struct{ Tenancy *tenancy.Service }

// Authorize implements Authorizer.
func (o OwnerOrAdmin) Authorize(ctx context.Context, p tenancy.Principal, action Action, s System) error {
	if p.Username != "" && p.TenantID == s.Tenant && p.Username == s.Owner {
		return nil
	}
	// A service calling as itself may read and execute any system.
	if p.IsService() && !p.OnBehalfOf && (action == ActionRead || action == ActionExecute) {
		return nil
	}
	admin, err := o.isAdmin(ctx, p)
	if err != nil {
		return err
	}
	if admin && p.TenantID == s.Tenant {
		return nil
	}
	return errorf(ErrForbidden, "SYSLIB_UNAUTH User %s in tenant %s is not authorized to %s system %s.", p.Username, p.TenantID, action, s.ID)
}

func (o OwnerOrAdmin) isAdmin(ctx context.Context, p tenancy.Principal) (bool, error) {
	if o.Tenancy == nil || p.Username == "" {
		return false, nil
	}
	reg, err := o.Tenancy.Registry(ctx)
	if err != nil {
		return false, err
	}
	return reg.IsTenantAdmin(p.TenantID, p.Username), nil
}
