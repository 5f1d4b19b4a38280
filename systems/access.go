package systems

import (
	"context"
	"slices"
	"strings"

	"github.com/tapis-go/tapis/tenancy"
)

// Permission is a fine-grained right on a system.
type Permission string

// Permissions. MODIFY implies READ; EXECUTE is independent.
const (
	PermRead    Permission = "READ"
	PermModify  Permission = "MODIFY"
	PermExecute Permission = "EXECUTE"
)

// allPermissions lists the permissions in their canonical order.
var allPermissions = []Permission{PermRead, PermModify, PermExecute}

// AllPermissions returns the permissions in their canonical order.
func AllPermissions() []Permission { return slices.Clone(allPermissions) }

// ParsePermissions reads permission names (any case; "*" means all three)
// and returns them sorted and unique; an empty list or an unknown name is a
// 400 naming it.
func ParsePermissions(names []string) ([]Permission, error) {
	if len(names) == 0 {
		return nil, errorf(ErrInvalid, "SYSAPI_PERMS_NOPERMS No permissions given: use READ, MODIFY or EXECUTE.")
	}
	set := map[Permission]bool{}
	var bad []string
	for _, n := range names {
		up := Permission(strings.ToUpper(strings.TrimSpace(n)))
		switch {
		case up == "*":
			for _, p := range allPermissions {
				set[p] = true
			}
		case slices.Contains(allPermissions, up):
			set[up] = true
		default:
			bad = append(bad, n)
		}
	}
	if len(bad) > 0 {
		return nil, errorf(ErrInvalid, "SYSAPI_PERMS_ENUM_ERROR Invalid permission(s) %q: use READ, MODIFY, EXECUTE or *.", bad)
	}
	return sortedPerms(set), nil
}

func sortedPerms(set map[Permission]bool) []Permission {
	out := []Permission{}
	for _, p := range allPermissions {
		if set[p] {
			out = append(out, p)
		}
	}
	return out
}

// Share is one share of a system: grantee (a user, or PublicGrantee) and
// the user who shared it.
type Share struct {
	Grantee, Grantor string
}

// AccessStore persists fine-grained permissions and shares. Every method is
// scoped by tenant.
type AccessStore interface {
	// GrantPerms adds permissions (existing ones stay).
	GrantPerms(ctx context.Context, tenant, systemID, user string, perms []Permission) error
	// RevokePerms removes permissions (absent ones are ignored).
	RevokePerms(ctx context.Context, tenant, systemID, user string, perms []Permission) error
	// UserPerms returns a user's permissions on a system in canonical order.
	UserPerms(ctx context.Context, tenant, systemID, user string) ([]Permission, error)
	// PurgeSystemPerms removes every user's permissions on a system.
	PurgeSystemPerms(ctx context.Context, tenant, systemID string) error
	// AddShares shares a system with grantees (existing shares stay).
	AddShares(ctx context.Context, tenant, systemID, grantor string, grantees []string) error
	// RemoveShares removes the shares with grantees, whoever granted them.
	RemoveShares(ctx context.Context, tenant, systemID string, grantees []string) error
	// Shares returns a system's shares ordered by grantee.
	Shares(ctx context.Context, tenant, systemID string) ([]Share, error)
	// SharesOf returns the shares of several systems at once (one query
	// for a page of a listing), by system id, each ordered by grantee;
	// systems without shares are absent from the map.
	SharesOf(ctx context.Context, tenant string, systemIDs []string) (map[string][]Share, error)
	// AccessibleSystems returns, ordered, the ids of the systems on which
	// user holds READ or MODIFY, or that are shared with user or publicly.
	AccessibleSystems(ctx context.Context, tenant, user string) ([]string, error)
	// PublicSystems returns, ordered, the ids of the systems shared publicly.
	PublicSystems(ctx context.Context, tenant string) ([]string, error)
	// SetLoginUser maps a Tapis user to a host login on a system with a
	// dynamic effectiveUserId; an empty loginUser removes the mapping.
	SetLoginUser(ctx context.Context, tenant, systemID, tapisUser, loginUser string) error
	// LoginUser returns the mapped login ("" when none).
	LoginUser(ctx context.Context, tenant, systemID, tapisUser string) (string, error)
	// LoginUsers returns the logins mapped for tapisUser on several
	// systems at once, by system id; systems without one are absent.
	LoginUsers(ctx context.Context, tenant, tapisUser string, systemIDs []string) (map[string]string, error)
}

// Actions of permissions and sharing.
const (
	ActionGetPerms    Action = "getPerms"
	ActionGrantPerms  Action = "grantPerms"
	ActionRevokePerms Action = "revokePerms"
	ActionShare       Action = "share"
)

// AccessPolicy is the authorization of reference/systems.md §6.3: owners
// and tenant admins may do everything; READ or MODIFY (or a share, direct
// or public) lets a user read, EXECUTE (or a share) execute, MODIFY modify
// and share; a service calling as itself may read and execute; a service
// acting for a user is judged as that user.
type AccessPolicy struct {
	Tenancy *tenancy.Service
	Store   AccessStore
}

// Authorize implements Authorizer.
func (a AccessPolicy) Authorize(ctx context.Context, p tenancy.Principal, action Action, s System) error {
	if p.TenantID != s.Tenant || p.Username == "" {
		return deny(p, action, s)
	}
	if p.Username == s.Owner {
		return nil
	}
	if p.IsService() && !p.OnBehalfOf {
		if action == ActionRead || action == ActionExecute || action == ActionGetPerms {
			return nil
		}
		return deny(p, action, s)
	}
	if admin, err := (OwnerOrAdmin{Tenancy: a.Tenancy}).isAdmin(ctx, p); err != nil || admin {
		return err
	}
	var need func(perms []Permission, shared bool) bool
	switch action {
	case ActionRead:
		need = func(ps []Permission, shared bool) bool { return shared || has(ps, PermRead) || has(ps, PermModify) }
	case ActionGetPerms:
		need = func(ps []Permission, _ bool) bool { return has(ps, PermRead) || has(ps, PermModify) }
	case ActionExecute:
		need = func(ps []Permission, shared bool) bool { return shared || has(ps, PermExecute) }
	case ActionModify, ActionShare:
		need = func(ps []Permission, _ bool) bool { return has(ps, PermModify) }
	default:
		return deny(p, action, s)
	}
	perms, err := a.Store.UserPerms(ctx, s.Tenant, s.ID, p.Username)
	if err != nil {
		return err
	}
	shared := false
	if action == ActionRead || action == ActionExecute {
		if shared, err = sharedWith(ctx, a.Store, s, p.Username); err != nil {
			return err
		}
	}
	if need(perms, shared) {
		return nil
	}
	return deny(p, action, s)
}

// sharedWith reports whether s is shared with user, directly or publicly.
func sharedWith(ctx context.Context, acc AccessStore, s System, user string) (bool, error) {
	shares, err := acc.Shares(ctx, s.Tenant, s.ID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(shares, func(sh Share) bool { return sh.Grantee == user || sh.Grantee == PublicGrantee }), nil
}

func has(perms []Permission, p Permission) bool { return slices.Contains(perms, p) }

func deny(p tenancy.Principal, action Action, s System) error {
	return errorf(ErrForbidden, "SYSLIB_UNAUTH User %s in tenant %s is not authorized to %s system %s.", p.Username, p.TenantID, action, s.ID)
}
