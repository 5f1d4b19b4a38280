package memory

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"strings"

	"github.com/tapis-go/tapis/tenancy"
)

func sortedValues[K comparable, V any](m map[K]V, key func(V) string) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b V) int { return strings.Compare(key(a), key(b)) })
	return out
}

// jsonShaped round-trips history values through JSON, so they read back as
// they do from a SQL store ([]any, float64, ...).
func jsonShaped(in map[string]tenancy.Change) map[string]tenancy.Change {
	raw, err := json.Marshal(in)
	if err != nil {
		return maps.Clone(in)
	}
	out := map[string]tenancy.Change{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return maps.Clone(in)
	}
	return out
}

func copySite(s tenancy.Site) tenancy.Site {
	s.Services = slices.Clone(s.Services)
	if s.Services == nil {
		s.Services = []string{}
	}
	return s
}

func copyTenant(t tenancy.Tenant) tenancy.Tenant {
	t.TokenGenServices = slices.Clone(t.TokenGenServices)
	if t.TokenGenServices == nil {
		t.TokenGenServices = []string{}
	}
	return t
}

// CreateSite implements tenancy.SiteStore.
func (s *Store) CreateSite(_ context.Context, site tenancy.Site) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.sites {
		if o.ID == site.ID || o.BaseURL == site.BaseURL ||
			(site.TenantBaseURLTemplate != "" && o.TenantBaseURLTemplate == site.TenantBaseURLTemplate) {
			return tenancy.ErrAlreadyExists
		}
	}
	s.sites[site.ID] = copySite(site)
	return nil
}

// GetSite implements tenancy.SiteStore.
func (s *Store) GetSite(_ context.Context, id string) (tenancy.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	site, ok := s.sites[id]
	if !ok {
		return tenancy.Site{}, tenancy.ErrNotFound
	}
	return copySite(site), nil
}

// ListSites implements tenancy.SiteStore.
func (s *Store) ListSites(context.Context) ([]tenancy.Site, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := sortedValues(s.sites, func(v tenancy.Site) string { return v.ID })
	for i := range out {
		out[i] = copySite(out[i])
	}
	return out, nil
}

// DeleteSite implements tenancy.SiteStore.
func (s *Store) DeleteSite(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sites[id]; !ok {
		return tenancy.ErrNotFound
	}
	for _, t := range s.tenants {
		if t.SiteID == id {
			return tenancy.ErrInUse
		}
	}
	delete(s.sites, id)
	return nil
}

// CreateTenant implements tenancy.TenantStore.
func (s *Store) CreateTenant(_ context.Context, t tenancy.Tenant) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.tenants {
		if o.ID == t.ID || o.BaseURL == t.BaseURL {
			return tenancy.ErrAlreadyExists
		}
	}
	if err := s.checkTenantRefs(t); err != nil {
		return err
	}
	s.tenants[t.ID] = copyTenant(t)
	return nil
}

func (s *Store) checkTenantRefs(t tenancy.Tenant) error {
	if _, ok := s.sites[t.SiteID]; !ok {
		return tenancy.ErrNotFound
	}
	if _, ok := s.owners[t.Owner]; !ok {
		return tenancy.ErrNotFound
	}
	for _, id := range []string{t.ServiceLDAPConnectionID, t.UserLDAPConnectionID} {
		if _, ok := s.ldaps[id]; id != "" && !ok {
			return tenancy.ErrNotFound
		}
	}
	return nil
}

// GetTenant implements tenancy.TenantStore.
func (s *Store) GetTenant(_ context.Context, id string) (tenancy.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[id]
	if !ok {
		return tenancy.Tenant{}, tenancy.ErrNotFound
	}
	return copyTenant(t), nil
}

// ListTenants implements tenancy.TenantStore.
func (s *Store) ListTenants(_ context.Context, f tenancy.TenantFilter) ([]tenancy.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []tenancy.Tenant{}
	for _, t := range sortedValues(s.tenants, func(v tenancy.Tenant) string { return v.ID }) {
		if f.Includes(t.Status) {
			out = append(out, copyTenant(t))
		}
	}
	return out, nil
}

// UpdateTenant implements tenancy.TenantStore.
func (s *Store) UpdateTenant(_ context.Context, id string, update func(*tenancy.Tenant) (tenancy.TenantHistory, error)) (tenancy.Tenant, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.tenants[id]
	if !ok {
		return tenancy.Tenant{}, tenancy.ErrNotFound
	}
	next := copyTenant(cur)
	h, err := update(&next)
	if err != nil {
		return tenancy.Tenant{}, err
	}
	next.ID = cur.ID
	if err := s.checkTenantRefs(next); err != nil {
		return tenancy.Tenant{}, err
	}
	s.tenants[id] = copyTenant(next)
	if len(h.Updates) > 0 {
		h.TenantID = id
		h.Updates = jsonShaped(h.Updates)
		s.history[id] = append(s.history[id], h)
	}
	return copyTenant(next), nil
}

// TenantHistory implements tenancy.TenantStore.
func (s *Store) TenantHistory(_ context.Context, id string) ([]tenancy.TenantHistory, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]tenancy.TenantHistory, 0, len(s.history[id]))
	for _, h := range s.history[id] {
		h.Updates = maps.Clone(h.Updates)
		out = append(out, h)
	}
	return out, nil
}

// CreateOwner implements tenancy.OwnerStore.
func (s *Store) CreateOwner(_ context.Context, o tenancy.Owner) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.owners[o.Email]; ok {
		return tenancy.ErrAlreadyExists
	}
	s.owners[o.Email] = o
	return nil
}

// GetOwner implements tenancy.OwnerStore.
func (s *Store) GetOwner(_ context.Context, email string) (tenancy.Owner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.owners[email]
	if !ok {
		return tenancy.Owner{}, tenancy.ErrNotFound
	}
	return o, nil
}

// ListOwners implements tenancy.OwnerStore.
func (s *Store) ListOwners(context.Context) ([]tenancy.Owner, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedValues(s.owners, func(v tenancy.Owner) string { return v.Email }), nil
}

// DeleteOwner implements tenancy.OwnerStore.
func (s *Store) DeleteOwner(_ context.Context, email string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.owners[email]; !ok {
		return tenancy.ErrNotFound
	}
	for _, t := range s.tenants {
		if t.Owner == email {
			return tenancy.ErrInUse
		}
	}
	delete(s.owners, email)
	return nil
}

// CreateLDAP implements tenancy.LDAPStore.
func (s *Store) CreateLDAP(_ context.Context, l tenancy.LDAPConnection) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ldaps[l.ID]; ok {
		return tenancy.ErrAlreadyExists
	}
	s.ldaps[l.ID] = l
	return nil
}

// GetLDAP implements tenancy.LDAPStore.
func (s *Store) GetLDAP(_ context.Context, id string) (tenancy.LDAPConnection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.ldaps[id]
	if !ok {
		return tenancy.LDAPConnection{}, tenancy.ErrNotFound
	}
	return l, nil
}

// ListLDAPs implements tenancy.LDAPStore.
func (s *Store) ListLDAPs(context.Context) ([]tenancy.LDAPConnection, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedValues(s.ldaps, func(v tenancy.LDAPConnection) string { return v.ID }), nil
}

// DeleteLDAP implements tenancy.LDAPStore.
func (s *Store) DeleteLDAP(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ldaps[id]; !ok {
		return tenancy.ErrNotFound
	}
	for _, t := range s.tenants {
		if t.ServiceLDAPConnectionID == id || t.UserLDAPConnectionID == id {
			return tenancy.ErrInUse
		}
	}
	delete(s.ldaps, id)
	return nil
}
