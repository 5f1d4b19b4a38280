package systems

import (
	"context"
	"errors"
	"slices"
	"strings"

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

// live returns a system that exists and is not deleted (404 otherwise).
func (svc *Service) live(ctx context.Context, tenant, id string) (System, error) {
	s, err := svc.store.GetSystem(ctx, tenant, id)
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
	if opt.AuthnMethod != "" && !slices.Contains(AuthnMethods, opt.AuthnMethod) {
		return System{}, errorf(ErrInvalid, "SYSAPI_ACCMETHOD_ENUM_ERROR Invalid authnMethod %q: use one of %v.", opt.AuthnMethod, AuthnMethods)
	}
	p, err := svc.actingAs(ctx, p, opt.ImpersonationID)
	if err != nil {
		return System{}, err
	}
	s, err := svc.live(ctx, p.TenantID, id)
	if err != nil {
		return System{}, err
	}
	if err := svc.authz.Authorize(ctx, p, ActionRead, s); err != nil {
		return System{}, err
	}
	if opt.RequireExec {
		if err := svc.authz.Authorize(ctx, p, ActionExecute, s); err != nil {
			return System{}, err
		}
		if !s.CanExec {
			return System{}, errorf(ErrForbidden, "SYSLIB_NOTEXEC System %s is not an execution system (canExec=false).", id)
		}
	}
	if opt.ReturnCredentials {
		if s.AuthnCredential, err = svc.credentialFor(ctx, p, s, opt.AuthnMethod); err != nil {
			return System{}, err
		}
	}
	if !opt.KeepDynamic {
		svc.resolveEffectiveUser(&s, p)
		if s.DynamicEffectiveUser && s.AuthnCredential != nil && s.AuthnCredential.LoginUser != "" {
			s.EffectiveUserID = s.AuthnCredential.LoginUser // the user's mapped login
		}
	}
	return s, nil
}

// resolveEffectiveUser shows a dynamic system's login user for p.
func (svc *Service) resolveEffectiveUser(s *System, p tenancy.Principal) {
	if s.IsDynamic() {
		s.DynamicEffectiveUser = true
		if p.Username != "" {
			s.EffectiveUserID = p.Username
		}
	}
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

// ListQuery is a listing request. The search issue adds the filter.
type ListQuery struct {
	ListType        ListType
	ShowDeleted     bool
	Limit, Skip     int
	ImpersonationID string
}

// List returns the systems the principal sees under the list type, ordered
// by id. Until sharing exists every list type shows the systems the user
// owns (tenant admins included: ALL is not "everything", as the original).
func (svc *Service) List(ctx context.Context, p tenancy.Principal, q ListQuery) ([]System, error) {
	p, err := svc.actingAs(ctx, p, q.ImpersonationID)
	if err != nil {
		return nil, err
	}
	if p.Username == "" {
		return nil, errorf(ErrForbidden, "SYSLIB_UNAUTH A user is needed to list systems.")
	}
	list, err := svc.store.ListSystems(ctx, p.TenantID, ListFilter{Owner: p.Username, IncludeDeleted: q.ShowDeleted, Limit: q.Limit, Skip: q.Skip})
	if err != nil {
		return nil, err
	}
	out := list[:0]
	for _, s := range list {
		if svc.authz.Authorize(ctx, p, ActionRead, s) == nil {
			svc.resolveEffectiveUser(&s, p)
			out = append(out, s)
		}
	}
	return out, nil
}
