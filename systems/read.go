package systems

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/tenancy"
)

// impersonators are the services that may act as another user for reads.
var impersonators = []string{"files", "apps", "jobs"}

// GetOptions are the query options of GET /v3/systems/{systemId}.
type GetOptions struct {
	// ImpersonationID reads as that user of the tenant (tenant admins and
	// the files, apps and jobs services only).
	ImpersonationID string
	// RequireExec also needs EXECUTE and canExec=true.
	RequireExec bool
	// KeepDynamic returns ${apiUserId} instead of the resolved login user.
	KeepDynamic bool
	// ReturnCredentials adds the credential the caller would use (the files
	// and jobs services only), for AuthnMethod or the system's default.
	ReturnCredentials bool
	AuthnMethod       AuthnMethod
	// SharedAppCtx names the grantor of a shared application context: read
	// and execute are also granted when the grantor may read or execute
	// the system (the files and jobs services only).
	SharedAppCtx string
	// ResourceTenant reads the system in that tenant (the files and jobs
	// services only, for tenants their token may act for).
	ResourceTenant string
	// Fields, when non-nil, names the attributes the caller returns: what
	// serves only other attributes is not read (the shares for isPublic and
	// sharedWithUsers, the login mapping for effectiveUserId). nil reads
	// everything.
	Fields []string
}

// wants reports whether any of attrs is among the fields asked for.
func (o GetOptions) wants(attrs ...string) bool {
	if o.Fields == nil {
		return true
	}
	for _, a := range attrs {
		if slices.Contains(o.Fields, a) {
			return true
		}
	}
	return false
}

// actingAs applies impersonation to a principal after checking it is allowed.
func (svc *Service) actingAs(ctx context.Context, p tenancy.Principal, impersonate string) (tenancy.Principal, error) {
	if impersonate == "" {
		return p, nil
	}
	allowed := p.IsService() && slices.Contains(impersonators, p.TokenUsername)
	if !allowed && !p.IsService() {
		reg, err := svc.ten.Registry(ctx)
		if err != nil {
			return p, err
		}
		allowed = reg.IsTenantAdmin(p.TenantID, p.Username)
	}
	if !allowed {
		return p, errorf(ErrForbidden, "SYSLIB_UNAUTH_IMPERSONATE User %s may not impersonate %s.", p.Username, impersonate)
	}
	p.Username = impersonate
	p.AccountType = tenancy.AccountUser
	p.OnBehalfOf = true
	return p, nil
}

// getSystem reads a system, deleted or not. An id with control characters
// names no system (and never reaches the database, which refuses NUL).
func (svc *Service) getSystem(ctx context.Context, tenant, id string) (System, error) {
	if hasControl(id) {
		return System{}, ErrNotFound
	}
	return svc.store.GetSystem(ctx, tenant, id)
}

// getProfile is getSystem for scheduler profiles.
func (svc *Service) getProfile(ctx context.Context, tenant, name string) (SchedulerProfile, error) {
	if hasControl(name) {
		return SchedulerProfile{}, ErrNotFound
	}
	return svc.store.GetProfile(ctx, tenant, name)
}

// live returns a system that exists and is not deleted (404 otherwise).
func (svc *Service) live(ctx context.Context, tenant, id string) (System, error) {
	s, err := svc.getSystem(ctx, tenant, id)
	if errors.Is(err, ErrNotFound) || (err == nil && s.Deleted) {
		return System{}, errorf(ErrNotFound, "SYSAPI_NOT_FOUND System not found: %s.", id)
	}
	return s, err
}

// Get returns a system the principal may read, its effectiveUserId resolved
// for the requesting (or impersonated) user.
func (svc *Service) Get(ctx context.Context, p tenancy.Principal, id string, opt GetOptions) (System, error) {
	if opt.ReturnCredentials && (!p.IsService() || !slices.Contains(credentialReaders, p.TokenUsername)) {
		return System{}, errorf(ErrForbidden, "SYSLIB_UNAUTH_GETCRED Only the files and jobs services may read credentials.")
	}
	if opt.AuthnMethod != "" && !slices.Contains(authnMethods, opt.AuthnMethod) {
		return System{}, errorf(ErrInvalid, "SYSAPI_ACCMETHOD_ENUM_ERROR Invalid authnMethod %q: use one of %v.", opt.AuthnMethod, authnMethods)
	}
	if (opt.SharedAppCtx != "" || opt.ResourceTenant != "") && (!p.IsService() || !slices.Contains(credentialReaders, p.TokenUsername)) {
		return System{}, errorf(ErrForbidden, "SYSLIB_UNAUTH_SHAREDAPPCTX sharedAppCtx and resourceTenant are for the files and jobs services only.")
	}
	if opt.ResourceTenant != "" && opt.ResourceTenant != p.TenantID {
		reg, err := svc.ten.Registry(ctx)
		if err != nil {
			return System{}, err
		}
		if !reg.MayActFor(p.TokenTenantID, opt.ResourceTenant) {
			return System{}, errorf(ErrForbidden, "SYSLIB_UNAUTH_RESOURCETENANT Tokens of tenant %s may not act for tenant %s.", p.TokenTenantID, opt.ResourceTenant)
		}
		p.TenantID = opt.ResourceTenant
	}
	p, err := svc.actingAs(ctx, p, opt.ImpersonationID)
	if err != nil {
		return System{}, err
	}
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return System{}, err
	}
	if err := svc.authorizeShared(ctx, p, ActionRead, s, opt.SharedAppCtx); err != nil {
		return System{}, err
	}
	if opt.RequireExec {
		if err := svc.authorizeShared(ctx, p, ActionExecute, s, opt.SharedAppCtx); err != nil {
			return System{}, err
		}
		if !s.CanExec {
			return System{}, errorf(ErrForbidden, "SYSLIB_NOTEXEC System %s is not an execution system (canExec=false).", id)
		}
	}
	if opt.wants("isPublic", "sharedWithUsers") {
		if err := svc.fillShares(ctx, &s); err != nil {
			return System{}, err
		}
	}
	if opt.ReturnCredentials {
		if s.AuthnCredential, err = svc.credentialFor(ctx, p, s, opt.AuthnMethod); err != nil {
			return System{}, err
		}
	}
	if !opt.KeepDynamic {
		if !opt.wants("effectiveUserId") {
			s.DynamicEffectiveUser = s.IsDynamic()
		} else if err := svc.resolveEffectiveUser(ctx, &s, p); err != nil {
			return System{}, err
		}
	}
	return s, nil
}

// authorizeShared asks the Authorizer for p, and in a shared application
// context also for the grantor (never with more than read or execute).
func (svc *Service) authorizeShared(ctx context.Context, p tenancy.Principal, action Action, s System, grantor string) error {
	err := svc.authz.Authorize(ctx, p, action, s)
	if err == nil || grantor == "" {
		return err
	}
	if ok, gerr := svc.grantorMay(ctx, s, grantor, action); gerr != nil || ok {
		return gerr
	}
	return err
}

// grantorMay: the grantor of a shared application context lends only what
// it holds itself on the system — ownership, READ/MODIFY (read) or EXECUTE
// (execute), or a share — never a tenant admin's powers.
func (svc *Service) grantorMay(ctx context.Context, s System, grantor string, action Action) (bool, error) {
	if grantor == s.Owner {
		return true, nil
	}
	if svc.acc == nil {
		return false, nil
	}
	perms, err := svc.acc.UserPerms(ctx, s.Tenant, s.ID, grantor)
	if err != nil {
		return false, err
	}
	if (action == ActionRead && (has(perms, PermRead) || has(perms, PermModify))) || (action == ActionExecute && has(perms, PermExecute)) {
		return true, nil
	}
	return sharedWith(ctx, svc.acc, s, grantor)
}

// fillShares sets the sharing facts of a system a read returns.
func (svc *Service) fillShares(ctx context.Context, s *System) error {
	if svc.acc == nil {
		return nil
	}
	shares, err := svc.acc.Shares(ctx, s.Tenant, s.ID)
	if err != nil {
		return err
	}
	s.IsPublic, s.SharedWithUsers = false, []string{}
	for _, sh := range shares {
		if sh.Grantee == PublicGrantee {
			s.IsPublic = true
		} else {
			s.SharedWithUsers = append(s.SharedWithUsers, sh.Grantee)
		}
	}
	return nil
}

// fillSharesOf is fillShares for a page of systems of one tenant, in one
// query.
func (svc *Service) fillSharesOf(ctx context.Context, tenant string, list []System) error {
	if svc.acc == nil || len(list) == 0 {
		return nil
	}
	ids := make([]string, len(list))
	for i := range list {
		ids[i] = list[i].ID
	}
	shares, err := svc.acc.SharesOf(ctx, tenant, ids)
	if err != nil {
		return err
	}
	for i := range list {
		s := &list[i]
		s.IsPublic, s.SharedWithUsers = false, []string{}
		for _, sh := range shares[s.ID] {
			if sh.Grantee == PublicGrantee {
				s.IsPublic = true
			} else {
				s.SharedWithUsers = append(s.SharedWithUsers, sh.Grantee)
			}
		}
	}
	return nil
}

// resolveEffectiveUsers is resolveEffectiveUser for a page of systems of
// one tenant, with one query for the login mappings.
func (svc *Service) resolveEffectiveUsers(ctx context.Context, tenant string, list []System, p tenancy.Principal) error {
	var dynamic []int // indexes of the dynamic systems, resolved below
	for i := range list {
		s := &list[i]
		if !s.IsDynamic() {
			continue
		}
		s.DynamicEffectiveUser = true
		if p.Username != "" {
			s.EffectiveUserID = p.Username
			dynamic = append(dynamic, i)
		}
	}
	if svc.acc == nil || len(dynamic) == 0 {
		return nil
	}
	ids := make([]string, len(dynamic))
	for k, i := range dynamic {
		ids[k] = list[i].ID
	}
	logins, err := svc.acc.LoginUsers(ctx, tenant, p.Username, ids)
	if err != nil {
		return err
	}
	for _, i := range dynamic {
		if login := logins[list[i].ID]; login != "" {
			list[i].EffectiveUserID = login
		}
	}
	return nil
}

// resolveEffectiveUser shows a dynamic system's login for p: the login
// mapped to p's credential, else p's user name (reference/systems.md §4.1).
func (svc *Service) resolveEffectiveUser(ctx context.Context, s *System, p tenancy.Principal) error {
	if !s.IsDynamic() {
		return nil
	}
	s.DynamicEffectiveUser = true
	if p.Username == "" {
		return nil
	}
	s.EffectiveUserID = p.Username
	if svc.acc == nil {
		return nil
	}
	login, err := svc.acc.LoginUser(ctx, s.Tenant, s.ID, p.Username)
	if err == nil && login != "" {
		s.EffectiveUserID = login
	}
	return err
}

// ListType is the visibility of a listing.
type ListType string

// List types.
const (
	ListOwned        ListType = "OWNED"
	ListSharedPublic ListType = "SHARED_PUBLIC"
	ListAll          ListType = "ALL"
)

// ParseListType reads a listType value (case-insensitive; empty is OWNED).
func ParseListType(v string) (ListType, error) {
	switch lt := ListType(strings.ToUpper(strings.TrimSpace(v))); lt {
	case "":
		return ListOwned, nil
	case ListOwned, ListSharedPublic, ListAll:
		return lt, nil
	}
	return "", errorf(ErrInvalid, "SYSLIB_LISTTYPE_ERROR Invalid listType %q: use OWNED, SHARED_PUBLIC or ALL.", v)
}

// ListQuery is a listing request: visibility (list type), the parsed
// search, order and page.
type ListQuery struct {
	ListType     ListType
	ShowDeleted  bool
	Search       search.Node
	Order        []search.Order
	Limit, Skip  int // Limit <= 0: no limit
	ComputeTotal bool
	// WithShares fills IsPublic and SharedWithUsers (one query for the
	// page).
	WithShares bool
	// ImpersonationID lists as that user (tenant admins, some services).
	ImpersonationID string
	// Fields, when non-nil, names the attributes the caller returns (see
	// ListFilter.Fields); nil reads them all.
	Fields []string
}

// List returns the systems the principal sees under the list type
// (reference/systems.md §6.5): OWNED, its own; SHARED_PUBLIC, those shared
// publicly in the tenant; ALL, its own plus those it holds READ or MODIFY
// on or that are shared with it or publicly. The caller's tenant and this
// visibility are always ANDed around the search. total is -1 unless asked.
func (svc *Service) List(ctx context.Context, p tenancy.Principal, q ListQuery) (list []System, total int, err error) {
	p, err = svc.actingAs(ctx, p, q.ImpersonationID)
	if err != nil {
		return nil, 0, err
	}
	if p.Username == "" {
		return nil, 0, errorf(ErrForbidden, "SYSLIB_UNAUTH A user is needed to list systems.")
	}
	f := ListFilter{IncludeDeleted: q.ShowDeleted, Search: q.Search, Order: q.Order, Limit: q.Limit, Skip: q.Skip, Fields: q.Fields}
	switch q.ListType {
	case ListOwned, "":
		f.Owner = p.Username
	case ListSharedPublic:
		ids := []string{}
		if svc.acc != nil {
			if ids, err = svc.acc.PublicSystems(ctx, p.TenantID); err != nil {
				return nil, 0, err
			}
		}
		f.IDs = ids
	case ListAll:
		var ids []string
		if svc.acc != nil {
			if ids, err = svc.acc.AccessibleSystems(ctx, p.TenantID, p.Username); err != nil {
				return nil, 0, err
			}
		}
		f.Visible = &Visibility{Owner: p.Username, IDs: ids}
	}
	total = -1
	if q.ComputeTotal {
		if total, err = svc.store.CountSystems(ctx, p.TenantID, f); err != nil {
			return nil, 0, err
		}
	}
	list, err = svc.store.ListSystems(ctx, p.TenantID, f)
	if err != nil {
		return nil, 0, err
	}
	// A page costs a fixed number of queries: the rows, then at most one
	// for their login mappings and one for their shares.
	if err := svc.resolveEffectiveUsers(ctx, p.TenantID, list, p); err != nil {
		return nil, 0, err
	}
	if q.WithShares {
		if err := svc.fillSharesOf(ctx, p.TenantID, list); err != nil {
			return nil, 0, err
		}
	}
	return list, total, nil
}
