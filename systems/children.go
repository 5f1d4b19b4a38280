package systems

import (
	"context"
	"errors"

	"github.com/google/uuid"

	"github.com/tapis-go/tapis/tenancy"
)

// ChildInput is the body of createChildSystem.
type ChildInput struct {
	ID              string // default <parentId>-<user>
	EffectiveUserID string
	RootDir         string
	Owner           string // default the caller
	Enabled         *bool  // default true
}

// CreateChild creates a child of a parent the principal may read and that
// allows children (reference/systems.md §2.4). Every failure but a missing
// parent (404) or a refusal (403) is a 400, naming every problem.
func (svc *Service) CreateChild(ctx context.Context, p tenancy.Principal, parentID string, in ChildInput) (System, error) {
	parent, err := svc.getSystem(ctx, p.TenantID, parentID)
	if errors.Is(err, ErrNotFound) || (err == nil && parent.Deleted) {
		return System{}, errorf(ErrNotFound, "SYSLIB_CHILD_PARENT_NOT_FOUND Parent system %s not found.", parentID)
	}
	if err != nil {
		return System{}, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionRead, parent); err != nil {
		return System{}, err
	}
	var pr problems
	if !parent.AllowChildren {
		pr.add("SYSLIB_CHILD_NOT_PERMITTED", "System %s does not allow child systems (allowChildren=false).", parentID)
	}
	if in.EffectiveUserID == "" {
		pr.add("SYSLIB_CREATE_MISSING_ATTR", "effectiveUserId is required for a child system.")
	}
	c := syncChildren(parent, []System{{}})[0]
	c.Tenant, c.ID, c.Owner, c.EffectiveUserID, c.RootDir = p.TenantID, in.ID, in.Owner, in.EffectiveUserID, in.RootDir
	if c.ID == "" {
		c.ID = parentID + "-" + p.Username
	}
	c.Enabled = in.Enabled == nil || *in.Enabled
	c.ParentID = parentID
	trim(&c)
	applyDefaults(&c)
	resolveCreate(&c, p.TenantID, p.Username)
	pr = append(pr, checkAttributes(&c, false, true)...)
	if IsReservedID(c.ID) {
		pr.add("SYSAPI_CREATE_RESERVED", "The id %s is reserved.", c.ID)
	}
	if _, err := svc.getSystem(ctx, p.TenantID, c.ID); err == nil {
		pr.add("SYSAPI_SYS_EXISTS", "System %s already exists in tenant %s.", c.ID, p.TenantID)
	} else if !errors.Is(err, ErrNotFound) {
		return System{}, err
	}
	if err := pr.err("CREATE"); err != nil {
		return System{}, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionCreate, c); err != nil {
		return System{}, err
	}
	if traitsOf(c.SystemType).POSIXPaths {
		c.RootDir = normalizeRootDir(c.RootDir)
	}
	now := svc.stamp()
	c.UUID, c.Created, c.Updated, c.Version = uuid.NewString(), now, now, 1
	if err := svc.store.CreateSystem(ctx, c, svc.history(p, c.ID, OpCreate, c)); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return System{}, errorf(ErrInvalid, "SYSAPI_SYS_EXISTS System %s already exists in tenant %s.", c.ID, p.TenantID)
		}
		return System{}, err
	}
	return c, nil
}

// unlink clears the parent of children (one modify record each).
func (svc *Service) unlink(ctx context.Context, p tenancy.Principal, children []System) (int, error) {
	if len(children) == 0 {
		return 0, nil
	}
	now := svc.stamp()
	var hist []HistoryRecord
	for i := range children {
		children[i].ParentID, children[i].Updated = "", now
		hist = append(hist, svc.history(p, children[i].ID, OpModify, map[string]string{"parentId": ""}))
	}
	if err := svc.store.SaveSystems(ctx, p.TenantID, children, hist); err != nil {
		return 0, conflictErr(err, children[0].ID)
	}
	return len(children), nil
}

// UnlinkFromParent makes a child system stand alone (irreversible).
func (svc *Service) UnlinkFromParent(ctx context.Context, p tenancy.Principal, id string) (int, error) {
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return 0, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionModify, s); err != nil {
		return 0, err
	}
	if s.ParentID == "" {
		return 0, nil
	}
	return svc.unlink(ctx, p, []System{s})
}

// UnlinkChildren unlinks the named children of a parent, or all of them.
func (svc *Service) UnlinkChildren(ctx context.Context, p tenancy.Principal, parentID string, ids []string, all bool) (int, error) {
	parent, err := svc.live(ctx, p.TenantID, parentID)
	if err != nil {
		return 0, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionModify, parent); err != nil {
		return 0, err
	}
	if all {
		children, err := svc.children(ctx, parent)
		if err != nil {
			return 0, err
		}
		return svc.unlink(ctx, p, children)
	}
	if len(ids) == 0 {
		return 0, errorf(ErrInvalid, "SYSLIB_CHILD_NO_IDS Give childSystemIds, or all=true.")
	}
	var children []System
	for _, id := range dedupe(ids) {
		c, err := svc.live(ctx, p.TenantID, id)
		if err != nil {
			return 0, err
		}
		if c.ParentID != parentID {
			return 0, errorf(ErrNotFound, "SYSLIB_CHILD_CHILD_NOT_FOUND System %s is not a child of %s.", id, parentID)
		}
		children = append(children, c)
	}
	return svc.unlink(ctx, p, children)
}

// dedupe keeps the first of repeated ids.
func dedupe(ids []string) []string {
	seen := map[string]bool{}
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
