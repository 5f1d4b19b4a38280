package systems

import (
	"context"
	"strings"

	"github.com/tapis-go/tapis/tenancy"
)

// access returns the permission store or a 501 when none is configured.
func (svc *Service) access() (AccessStore, error) {
	if svc.acc == nil {
		return nil, errorf(ErrNotConfigured, "SYSAPI_PERMS_NOT_CONFIGURED Permissions and sharing are not configured on this server.")
	}
	return svc.acc, nil
}

// checkUser validates a target user name of a path.
func checkUser(user string) error {
	if strings.TrimSpace(user) == "" || len(user) > 60 || hasControl(user) {
		return errorf(ErrInvalid, "SYSLIB_INVALID_STR_ATTR The user name must be 1 to 60 characters without control characters.")
	}
	return nil
}

// UserPerms returns the explicit permissions of user on a system (the
// owner's implicit rights are not listed, as the original).
func (svc *Service) UserPerms(ctx context.Context, p tenancy.Principal, id, user string) ([]Permission, error) {
	acc, err := svc.access()
	if err != nil {
		return nil, err
	}
	if err := checkUser(user); err != nil {
		return nil, err
	}
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return nil, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionGetPerms, s); err != nil {
		return nil, err
	}
	return acc.UserPerms(ctx, p.TenantID, id, user)
}

// permChange is a validated grant or revoke: the store, the live system
// and the permissions with their implication applied.
type permChange struct {
	acc   AccessStore
	s     System
	perms []Permission
}

// preparePerms checks a grant or revoke request; implied adds READ along
// with MODIFY (grant) or MODIFY along with READ (revoke).
func (svc *Service) preparePerms(ctx context.Context, p tenancy.Principal, id, user string, names []string, grant bool) (permChange, error) {
	acc, err := svc.access()
	if err != nil {
		return permChange{}, err
	}
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return permChange{}, err
	}
	if err := checkUser(user); err != nil {
		return permChange{}, err
	}
	perms, err := ParsePermissions(names)
	if err != nil {
		return permChange{}, err
	}
	if has(perms, PermModify) != has(perms, PermRead) && (grant == has(perms, PermModify)) {
		perms = sortedPerms(map[Permission]bool{PermRead: true, PermModify: true, PermExecute: has(perms, PermExecute)})
	}
	return permChange{acc: acc, s: s, perms: perms}, nil
}

// GrantPerms gives user permissions on a system (owner or admin); MODIFY
// brings READ along.
func (svc *Service) GrantPerms(ctx context.Context, p tenancy.Principal, id, user string, names []string) ([]Permission, error) {
	c, err := svc.preparePerms(ctx, p, id, user, names, true)
	if err != nil {
		return nil, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionGrantPerms, c.s); err != nil {
		return nil, err
	}
	if err := c.acc.GrantPerms(ctx, p.TenantID, id, user, c.perms); err != nil {
		return nil, err
	}
	desc := map[string]any{"System": id, "TargetUser": user, "Permissions": c.perms}
	return c.perms, svc.store.AddHistory(ctx, svc.history(p, id, OpGrantPerms, desc))
}

// RevokePerms removes permissions (owner or admin, or users revoking
// their own READ/MODIFY); revoking READ takes MODIFY along.
func (svc *Service) RevokePerms(ctx context.Context, p tenancy.Principal, id, user string, names []string) ([]Permission, error) {
	c, err := svc.preparePerms(ctx, p, id, user, names, false)
	if err != nil {
		return nil, err
	}
	acc, s, perms := c.acc, c.s, c.perms
	if err := svc.authz.Authorize(ctx, p, ActionRevokePerms, s); err != nil {
		if !svc.selfRevoke(ctx, acc, p, s, user, perms) {
			return nil, err
		}
	}
	if err := acc.RevokePerms(ctx, p.TenantID, id, user, perms); err != nil {
		return nil, err
	}
	desc := map[string]any{"System": id, "TargetUser": user, "Permissions": perms}
	return perms, svc.store.AddHistory(ctx, svc.history(p, id, OpRevokePerms, desc))
}

// selfRevoke: a user may drop their own READ/MODIFY (not only EXECUTE).
func (svc *Service) selfRevoke(ctx context.Context, acc AccessStore, p tenancy.Principal, s System, user string, perms []Permission) bool {
	if p.Username != user || p.Username == "" || (len(perms) == 1 && perms[0] == PermExecute) {
		return false
	}
	held, err := acc.UserPerms(ctx, s.Tenant, s.ID, user)
	if err != nil {
		return false
	}
	if has(perms, PermModify) && !has(held, PermModify) && !has(perms, PermRead) {
		return false
	}
	return has(held, PermRead) || has(held, PermModify)
}

// ShareInfo says whether a system is public and with whom it is shared.
func (svc *Service) ShareInfo(ctx context.Context, p tenancy.Principal, id string) (bool, []string, error) {
	if _, err := svc.access(); err != nil {
		return false, nil, err
	}
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return false, nil, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionRead, s); err != nil {
		return false, nil, err
	}
	if err := svc.fillShares(ctx, &s); err != nil {
		return false, nil, err
	}
	return s.IsPublic, s.SharedWithUsers, nil
}

// Share shares a system with users (or publicly with PublicGrantee);
// unshare removes those shares whoever granted them. Owner, admin or MODIFY.
func (svc *Service) Share(ctx context.Context, p tenancy.Principal, id string, users []string, unshare bool) error {
	acc, err := svc.access()
	if err != nil {
		return err
	}
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return err
	}
	if len(users) == 0 {
		return errorf(ErrInvalid, "SYSAPI_SHARE_NOUSERS Give at least one user in users.")
	}
	for _, u := range users {
		if u != PublicGrantee {
			if err := checkUser(u); err != nil {
				return err
			}
		}
	}
	if err := svc.authz.Authorize(ctx, p, ActionShare, s); err != nil {
		return err
	}
	if unshare {
		return acc.RemoveShares(ctx, p.TenantID, id, users)
	}
	return acc.AddShares(ctx, p.TenantID, id, p.Username, users)
}
