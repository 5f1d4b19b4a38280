package tenancy

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// ListTenants returns the tenants the filter selects, ordered by id.
//
// Like GetTenant it reads the registry snapshot (see Registry), not the
// store: fresh after writes through this Service, behind writes by another
// instance until their notification arrives (RegistryTTL at most).
func (s *Service) ListTenants(ctx context.Context, f TenantFilter) ([]Tenant, error) {
	reg, err := s.Registry(ctx)
	if err != nil {
		return nil, err
	}
	all := reg.Tenants()
	out := make([]Tenant, 0, len(all))
	for _, t := range all {
		if (t.Status == StatusDraft && !f.ShowDraft) || (t.Status == StatusInactive && !f.ShowInactive) {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// GetTenant returns one tenant, whatever its status, from the registry
// snapshot (as ListTenants).
func (s *Service) GetTenant(ctx context.Context, id string) (Tenant, error) {
	reg, err := s.Registry(ctx)
	if err != nil {
		return Tenant{}, err
	}
	t, ok := reg.Tenant(id)
	if !ok {
		return Tenant{}, Errorf(ErrNotFound, "No tenant found with tenant_id %s.", id)
	}
	return t, nil
}

// storedTenant is GetTenant from the store, for the writes (which must not
// act on a stale snapshot).
func (s *Service) storedTenant(ctx context.Context, id string) (Tenant, error) {
	t, err := s.store.GetTenant(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return Tenant{}, Errorf(ErrNotFound, "No tenant found with tenant_id %s.", id)
	}
	return t, err
}

// TenantHistory returns the update history of a tenant.
func (s *Service) TenantHistory(ctx context.Context, id string) ([]TenantHistory, error) {
	if _, err := s.storedTenant(ctx, id); err != nil {
		return nil, err
	}
	return s.store.TenantHistory(ctx, id)
}

// DeleteTenant always refuses: tenants are deactivated, never deleted.
func (s *Service) DeleteTenant(context.Context, Principal, string) error {
	return Errorf(ErrInvalid, "Deleting tenants is not supported; update the tenant status to inactive instead.")
}

func validStatus(st TenantStatus) bool {
	return st == StatusDraft || st == StatusActive || st == StatusInactive
}

// CreateTenant validates a new tenant, provisions its signing keys and stores it.
func (s *Service) CreateTenant(ctx context.Context, p Principal, t Tenant) (Tenant, error) {
	if err := s.authorizeRegistryWrite(ctx, p); err != nil {
		return Tenant{}, err
	}
	return s.createTenant(ctx, p, t)
}

// bootstrapper stamps records created by the composition root.
var bootstrapper = Principal{TokenUsername: "tenants", TokenTenantID: "admin", AccountType: AccountService}

// BootstrapTenant creates a tenant without an authorization check. It is for
// the composition root (seeding an empty registry), never for request paths.
func (s *Service) BootstrapTenant(ctx context.Context, t Tenant) (Tenant, error) {
	return s.createTenant(ctx, bootstrapper, t)
}

// BootstrapSite creates a site without an authorization check, for seeding.
func (s *Service) BootstrapSite(ctx context.Context, site Site) (Site, error) {
	return s.createSite(ctx, bootstrapper, site)
}

// BootstrapOwner creates an owner without an authorization check, for seeding.
func (s *Service) BootstrapOwner(ctx context.Context, o Owner) (Owner, error) {
	return s.createOwner(ctx, o)
}

// BootstrapLDAP creates an LDAP object without an authorization check, for seeding.
func (s *Service) BootstrapLDAP(ctx context.Context, l LDAPConnection) (LDAPConnection, error) {
	return s.createLDAP(ctx, l)
}

func (s *Service) createTenant(ctx context.Context, p Principal, t Tenant) (Tenant, error) {
	if t.Status == "" {
		t.Status = StatusActive
	}
	t.Status = TenantStatus(strings.ToLower(string(t.Status)))
	v := &ValidationError{Prefix: "Invalid POST data; Invalid tenant description"}
	switch {
	case t.ID == "" || !idPattern.MatchString(t.ID):
		v.Addf("tenant_id is required and must match ^[a-zA-Z0-9-]+$.")
	case slices.Contains(reservedIDs, strings.ToLower(t.ID)):
		v.Addf("Invalid tenant_id; '%s' is a reserved keyword.", t.ID)
	}
	checkLen(v, "tenant_id", t.ID, 50)
	checkURL(v, "base_url", t.BaseURL, "http", "https")
	checkURL(v, "token_service", t.TokenService, "http", "https")
	checkURL(v, "security_kernel", t.SecurityKernel, "http", "https")
	checkURL(v, "authenticator", t.Authenticator, "http", "https")
	if t.AdminUser == "" {
		v.Addf("admin_user is required.")
	}
	checkLen(v, "admin_user", t.AdminUser, 120)
	checkLen(v, "description", t.Description, 1000)
	checkServices(v, "token_gen_services", t.TokenGenServices)
	if !validStatus(t.Status) {
		v.Addf("status must be one of draft, active, inactive.")
	}
	if t.SiteID == "" {
		v.Addf("site_id is required.")
	} else if _, err := s.store.GetSite(ctx, t.SiteID); errors.Is(err, ErrNotFound) {
		v.Addf("site %s not found.", t.SiteID)
	} else if err != nil {
		return Tenant{}, err
	}
	if err := s.checkRefs(ctx, v, &t.Owner, t.ServiceLDAPConnectionID, t.UserLDAPConnectionID); err != nil {
		return Tenant{}, err
	}
	if t.PublicKey != "" {
		if _, err := ParseRSAPublicKey(t.PublicKey); err != nil {
			v.Addf("public_key must be a PEM RSA public key of at least 2048 bits: %v.", err)
		}
	}
	if err := v.Err(); err != nil {
		return Tenant{}, err
	}
	if _, err := s.store.GetTenant(ctx, t.ID); err == nil {
		return Tenant{}, Errorf(ErrAlreadyExists, "Invalid POST data; a tenant with tenant_id %s already exists.", t.ID)
	}
	var commit func(context.Context) error
	if s.keys != nil {
		prepared, err := s.keys.PrepareTenantKeys(ctx, t.ID, t.PublicKey)
		if err != nil {
			return Tenant{}, err
		}
		t.PublicKey, commit = prepared.PublicKeyPEM, prepared.Commit
	}
	t.TokenGenServices = slices.Clone(t.TokenGenServices)
	if t.TokenGenServices == nil {
		t.TokenGenServices = []string{}
	}
	t.CreateTime = s.stamp()
	t.LastUpdateTime = t.CreateTime
	t.CreatedBy, t.LastUpdatedBy = p.String(), p.String()
	if err := s.store.CreateTenant(ctx, t); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			return Tenant{}, Errorf(ErrAlreadyExists, "Invalid POST data; This change would violate uniqueness constraints: a tenant with this tenant_id or base_url already exists.")
		}
		return Tenant{}, err
	}
	s.changed(ctx, ChangeTenant, t.ID)
	if commit != nil {
		if err := commit(ctx); err != nil {
			s.log.ErrorContext(ctx, "tenant created but its signing keys were not stored", "tenant", t.ID, "err", err)
			return t, errors.New("tenant created but its signing keys could not be stored; rotate them with PUT /v3/tokens/keys")
		}
	}
	return t, nil
}

// checkRefs verifies that the owner (when given) and the LDAP objects (when
// not empty) a tenant names exist.
func (s *Service) checkRefs(ctx context.Context, v *ValidationError, owner *string, ldapIDs ...string) error {
	if owner != nil {
		if *owner == "" {
			v.Addf("owner is required.")
		} else if _, err := s.store.GetOwner(ctx, *owner); errors.Is(err, ErrNotFound) {
			v.Addf("Owner %s not found.", *owner)
		} else if err != nil {
			return err
		}
	}
	for _, id := range ldapIDs {
		if id == "" {
			continue
		}
		if _, err := s.store.GetLDAP(ctx, id); errors.Is(err, ErrNotFound) {
			v.Addf("LDAP %s not found.", id)
		} else if err != nil {
			return err
		}
	}
	return nil
}

// TenantUpdate is a partial update of a tenant: nil fields stay as they are,
// an empty string clears an optional field. Immutable lists fields the request
// tried to change that cannot change (tenant_id, base_url, site_id).
type TenantUpdate struct {
	TokenService            *string
	SecurityKernel          *string
	Authenticator           *string
	Owner                   *string
	AdminUser               *string
	TokenGenServices        *[]string
	ServiceLDAPConnectionID *string
	UserLDAPConnectionID    *string
	PublicKey               *string
	Description             *string
	Status                  *TenantStatus
	Immutable               []string
}

// UpdateTenant applies a partial update and records the changes in history.
func (s *Service) UpdateTenant(ctx context.Context, p Principal, id string, u TenantUpdate) (Tenant, error) {
	reg, err := s.Registry(ctx)
	if err != nil {
		return Tenant{}, err
	}
	if _, err := s.storedTenant(ctx, id); err != nil {
		return Tenant{}, err
	}
	if !reg.MayManageTenant(p, id) {
		return Tenant{}, Errorf(ErrForbidden, "Not authorized to update tenant %s.", id)
	}
	v := &ValidationError{Prefix: "Invalid PUT data"}
	for _, f := range u.Immutable {
		v.Addf("%s cannot be changed.", f)
	}
	if u.PublicKey != nil {
		v.Addf("public_key is managed by the Tokens service; rotate it with PUT /v3/tokens/keys.")
	}
	if u.Status != nil {
		st := TenantStatus(strings.ToLower(string(*u.Status)))
		u.Status = &st
		if !validStatus(st) {
			v.Addf("status must be one of draft, active, inactive.")
		}
	}
	for field, val := range map[string]*string{"token_service": u.TokenService, "security_kernel": u.SecurityKernel, "authenticator": u.Authenticator} {
		if val != nil {
			checkURL(v, field, *val, "http", "https")
		}
	}
	if u.AdminUser != nil && *u.AdminUser == "" {
		v.Addf("admin_user cannot be empty.")
	}
	if u.Description != nil {
		checkLen(v, "description", *u.Description, 1000)
	}
	if u.TokenGenServices != nil {
		checkServices(v, "token_gen_services", *u.TokenGenServices)
	}
	var ldaps []string
	for _, id := range []*string{u.ServiceLDAPConnectionID, u.UserLDAPConnectionID} {
		if id != nil {
			ldaps = append(ldaps, *id)
		}
	}
	if err := s.checkRefs(ctx, v, u.Owner, ldaps...); err != nil {
		return Tenant{}, err
	}
	if err := v.Err(); err != nil {
		return Tenant{}, err
	}
	out, err := s.store.UpdateTenant(ctx, id, func(t *Tenant) (TenantHistory, error) {
		h := TenantHistory{TenantID: id, UpdateTime: s.stamp(), UpdatedBy: p.String(), Updates: map[string]Change{}}
		setStr := func(name string, dst *string, val *string) {
			if val != nil && *val != *dst {
				h.Updates[name] = Change{Prev: *dst, New: *val}
				*dst = *val
			}
		}
		setStr("token_service", &t.TokenService, u.TokenService)
		setStr("security_kernel", &t.SecurityKernel, u.SecurityKernel)
		setStr("authenticator", &t.Authenticator, u.Authenticator)
		setStr("owner", &t.Owner, u.Owner)
		setStr("admin_user", &t.AdminUser, u.AdminUser)
		setStr("service_ldap_connection_id", &t.ServiceLDAPConnectionID, u.ServiceLDAPConnectionID)
		setStr("user_ldap_connection_id", &t.UserLDAPConnectionID, u.UserLDAPConnectionID)
		setStr("description", &t.Description, u.Description)
		if u.Status != nil && *u.Status != t.Status {
			h.Updates["status"] = Change{Prev: string(t.Status), New: string(*u.Status)}
			t.Status = *u.Status
		}
		if u.TokenGenServices != nil && !slices.Equal(*u.TokenGenServices, t.TokenGenServices) {
			h.Updates["token_gen_services"] = Change{Prev: slices.Clone(t.TokenGenServices), New: slices.Clone(*u.TokenGenServices)}
			t.TokenGenServices = slices.Clone(*u.TokenGenServices)
		}
		if len(h.Updates) > 0 {
			t.LastUpdateTime, t.LastUpdatedBy = h.UpdateTime, h.UpdatedBy
		}
		return h, nil
	})
	if err != nil {
		return Tenant{}, s.tenantErr(id, err)
	}
	s.changed(ctx, ChangeTenant, id)
	return out, nil
}

// SetTenantPublicKey records a tenant's new verification key (after a key
// rotation), with a history record naming who rotated it.
func (s *Service) SetTenantPublicKey(ctx context.Context, p Principal, id, publicKeyPEM string) (Tenant, error) {
	out, err := s.store.UpdateTenant(ctx, id, func(t *Tenant) (TenantHistory, error) {
		h := TenantHistory{TenantID: id, UpdateTime: s.stamp(), UpdatedBy: p.String(),
			Updates: map[string]Change{"public_key": {Prev: t.PublicKey, New: publicKeyPEM}}}
		t.PublicKey = publicKeyPEM
		t.LastUpdateTime, t.LastUpdatedBy = h.UpdateTime, h.UpdatedBy
		return h, nil
	})
	if err != nil {
		return Tenant{}, s.tenantErr(id, err)
	}
	s.changed(ctx, ChangeTenant, id)
	return out, nil
}

func (s *Service) tenantErr(id string, err error) error {
	if errors.Is(err, ErrNotFound) {
		return Errorf(ErrNotFound, "No tenant found with tenant_id %s.", id)
	}
	return err
}
