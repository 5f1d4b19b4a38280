package systems

import (
	"context"
	"errors"

	"github.com/tapis-go/tapis/tenancy"
)

func isConflict(err error) bool { return errors.Is(err, ErrConflict) }

// children returns the non-deleted children of a system.
func (svc *Service) children(ctx context.Context, s System) ([]System, error) {
	return svc.store.ListSystems(ctx, s.Tenant, ListFilter{ParentID: s.ID})
}

// syncChildren copies the parent's shared attributes into each child
// (reference/systems.md §2.4), but neither the parent's uuid nor its
// allowChildren: children keep their own identity and stay leaves.
func syncChildren(parent System, children []System) []System {
	out := make([]System, 0, len(children))
	for _, c := range children {
		n := parent.Clone()
		n.ID, n.Owner, n.EffectiveUserID, n.RootDir, n.Enabled = c.ID, c.Owner, c.EffectiveUserID, c.RootDir, c.Enabled
		n.Deleted, n.ParentID, n.Created, n.Updated, n.Version = c.Deleted, c.ParentID, c.Created, c.Updated, c.Version
		n.UUID, n.AllowChildren = c.UUID, false
		out = append(out, n)
	}
	return out
}

// setFlag runs enable, disable, delete or undelete.
func (svc *Service) setFlag(ctx context.Context, p tenancy.Principal, id string, action Action) (int, error) {
	var s System
	var err error
	if action == ActionDelete || action == ActionUndelete {
		s, err = svc.getSystem(ctx, p.TenantID, id) // deleted ones count
		if errors.Is(err, ErrNotFound) {
			err = errorf(ErrNotFound, "SYSAPI_NOT_FOUND System not found: %s.", id)
		}
	} else {
		s, err = svc.live(ctx, p.TenantID, id)
	}
	if err != nil {
		return 0, err
	}
	children, err := svc.children(ctx, s)
	if err != nil {
		return 0, err
	}
	if action == ActionDelete && len(children) > 0 {
		return 0, errorf(ErrInvalid, "SYSLIB_CHILD_HAS_CHILD_ERROR System %s has child systems: delete or unlink them first.", id)
	}
	var parent *System
	if action == ActionUndelete && s.ParentID != "" {
		par, err := svc.getSystem(ctx, p.TenantID, s.ParentID)
		if err != nil || par.Deleted || !par.AllowChildren {
			return 0, errorf(ErrInvalid, "SYSLIB_CHILD_ALLOW_CONFLICT_ERROR The parent %s of system %s is missing, deleted or does not allow children.", s.ParentID, id)
		}
		parent = &par
	}
	if err := svc.authz.Authorize(ctx, p, action, s); err != nil {
		return 0, err
	}
	next := s.Clone()
	var op string
	var desc map[string]bool
	switch action {
	case ActionEnable:
		next.Enabled, op, desc = true, OpEnable, map[string]bool{"enabled": true}
	case ActionDisable:
		next.Enabled, op, desc = false, OpDisable, map[string]bool{"enabled": false}
	case ActionDelete:
		next.Deleted, op, desc = true, OpDelete, map[string]bool{"deleted": true}
	case ActionUndelete:
		next.Deleted, op, desc = false, OpUndelete, map[string]bool{"deleted": false}
	}
	if parent != nil { // an undeleted child catches up with its parent
		next = syncChildren(*parent, []System{next})[0]
	}
	next.Updated = svc.stamp()
	batch := []System{next}
	if action == ActionEnable || action == ActionDisable {
		batch = append(batch, syncChildren(next, children)...)
	}
	if err := svc.store.SaveSystems(ctx, p.TenantID, batch, []HistoryRecord{svc.history(p, id, op, desc)}); err != nil {
		return 0, conflictErr(err, id)
	}
	if action == ActionDelete && svc.acc != nil {
		// As the original: a deleted system's fine-grained permissions go;
		// shares stay (undelete restores no permission).
		if err := svc.acc.PurgeSystemPerms(ctx, p.TenantID, id); err != nil {
			return 0, err
		}
	}
	return 1, nil
}

// Enable marks a system enabled.
func (svc *Service) Enable(ctx context.Context, p tenancy.Principal, id string) (int, error) {
	return svc.setFlag(ctx, p, id, ActionEnable)
}

// Disable marks a system disabled.
func (svc *Service) Disable(ctx context.Context, p tenancy.Principal, id string) (int, error) {
	return svc.setFlag(ctx, p, id, ActionDisable)
}

// Delete soft-deletes a system (its id stays taken).
func (svc *Service) Delete(ctx context.Context, p tenancy.Principal, id string) (int, error) {
	return svc.setFlag(ctx, p, id, ActionDelete)
}

// Undelete restores a soft-deleted system.
func (svc *Service) Undelete(ctx context.Context, p tenancy.Principal, id string) (int, error) {
	return svc.setFlag(ctx, p, id, ActionUndelete)
}

// IsEnabled reports whether a readable system is enabled.
func (svc *Service) IsEnabled(ctx context.Context, p tenancy.Principal, id string) (bool, error) {
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return false, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionRead, s); err != nil {
		return false, err
	}
	return s.Enabled, nil
}

// ChangeOwner gives a system to another user; 0 changes when unchanged.
func (svc *Service) ChangeOwner(ctx context.Context, p tenancy.Principal, id, newOwner string) (int, error) {
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return 0, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionChangeOwner, s); err != nil {
		return 0, err
	}
	if newOwner == "" || len(newOwner) > 60 || hasControl(newOwner) {
		return 0, errorf(ErrInvalid, "SYSLIB_INVALID_STR_ATTR The new owner must be a user name of 1 to 60 characters.")
	}
	if newOwner == s.Owner {
		return 0, nil
	}
	next := s.Clone()
	next.Owner, next.Updated = newOwner, svc.stamp()
	desc := map[string]any{"System": id, "owner": map[string]string{"oldValue": s.Owner, "newValue": newOwner}}
	if err := svc.store.SaveSystems(ctx, p.TenantID, []System{next}, []HistoryRecord{svc.history(p, id, OpChangeOwner, desc)}); err != nil {
		return 0, conflictErr(err, id)
	}
	return 1, nil
}

// History returns the recorded operations on a system (deleted ones
// included) to a principal who may read it.
func (svc *Service) History(ctx context.Context, p tenancy.Principal, id string) ([]HistoryRecord, error) {
	s, err := svc.getSystem(ctx, p.TenantID, id)
	if errors.Is(err, ErrNotFound) {
		return nil, errorf(ErrNotFound, "SYSAPI_NOT_FOUND System not found: %s.", id)
	}
	if err != nil {
		return nil, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionRead, s); err != nil {
		return nil, err
	}
	h, err := svc.store.ListHistory(ctx, p.TenantID, id)
	if err != nil {
		return nil, err
	}
	if len(h) == 0 {
		return nil, errorf(ErrNotFound, "SYSAPI_NOT_FOUND No history found for system %s.", id)
	}
	return h, nil
}
