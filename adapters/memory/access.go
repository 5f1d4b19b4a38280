package memory

import (
	"context"
	"slices"

	"github.com/tapis-go/tapis/systems"
)

var _ systems.AccessStore = (*Store)(nil)

// accessMaps holds permissions and shares; created lazily under s.mu.
type accessMaps struct {
	perms  map[permKey]map[systems.Permission]bool
	shares map[tenantKey]map[string]string // (tenant, system) -> grantee -> grantor
	logins map[permKey]string              // (tenant, system, tapis user) -> login
}

type permKey struct{ tenant, system, user string }

func (s *Store) acc() *accessMaps {
	if s.accm == nil {
		s.accm = &accessMaps{perms: map[permKey]map[systems.Permission]bool{}, shares: map[tenantKey]map[string]string{},
			logins: map[permKey]string{}}
	}
	return s.accm
}

// GrantPerms implements systems.AccessStore.
func (s *Store) GrantPerms(_ context.Context, tenant, systemID, user string, perms []systems.Permission) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := permKey{tenant, systemID, user}
	set := s.acc().perms[k]
	if set == nil {
		set = map[systems.Permission]bool{}
		s.acc().perms[k] = set
	}
	for _, p := range perms {
		set[p] = true
	}
	return nil
}

// RevokePerms implements systems.AccessStore.
func (s *Store) RevokePerms(_ context.Context, tenant, systemID, user string, perms []systems.Permission) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := permKey{tenant, systemID, user}
	for _, p := range perms {
		delete(s.acc().perms[k], p)
	}
	if len(s.acc().perms[k]) == 0 {
		delete(s.acc().perms, k)
	}
	return nil
}

// UserPerms implements systems.AccessStore.
func (s *Store) UserPerms(_ context.Context, tenant, systemID, user string) ([]systems.Permission, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []systems.Permission{}
	set := s.acc().perms[permKey{tenant, systemID, user}]
	for _, p := range systems.AllPermissions() {
		if set[p] {
			out = append(out, p)
		}
	}
	return out, nil
}

// PurgeSystemPerms implements systems.AccessStore.
func (s *Store) PurgeSystemPerms(_ context.Context, tenant, systemID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k := range s.acc().perms {
		if k.tenant == tenant && k.system == systemID {
			delete(s.acc().perms, k)
		}
	}
	return nil
}

// AddShares implements systems.AccessStore.
func (s *Store) AddShares(_ context.Context, tenant, systemID, grantor string, grantees []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenant, systemID}
	m := s.acc().shares[k]
	if m == nil {
		m = map[string]string{}
		s.acc().shares[k] = m
	}
	for _, g := range grantees {
		if _, ok := m[g]; !ok {
			m[g] = grantor
		}
	}
	return nil
}

// RemoveShares implements systems.AccessStore.
func (s *Store) RemoveShares(_ context.Context, tenant, systemID string, grantees []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenant, systemID}
	for _, g := range grantees {
		delete(s.acc().shares[k], g)
	}
	return nil
}

// Shares implements systems.AccessStore.
func (s *Store) Shares(_ context.Context, tenant, systemID string) ([]systems.Share, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []systems.Share{}
	for g, by := range s.acc().shares[tenantKey{tenant, systemID}] {
		out = append(out, systems.Share{Grantee: g, Grantor: by})
	}
	slices.SortFunc(out, func(a, b systems.Share) int { return compareStrings(a.Grantee, b.Grantee) })
	return out, nil
}

// SharesOf implements systems.AccessStore.
func (s *Store) SharesOf(_ context.Context, tenant string, systemIDs []string) (map[string][]systems.Share, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string][]systems.Share{}
	for _, id := range systemIDs {
		m := s.acc().shares[tenantKey{tenant, id}]
		if len(m) == 0 || out[id] != nil {
			continue
		}
		list := make([]systems.Share, 0, len(m))
		for g, by := range m {
			list = append(list, systems.Share{Grantee: g, Grantor: by})
		}
		slices.SortFunc(list, func(a, b systems.Share) int { return compareStrings(a.Grantee, b.Grantee) })
		out[id] = list
	}
	return out, nil
}

// AccessibleSystems implements systems.AccessStore.
func (s *Store) AccessibleSystems(_ context.Context, tenant, user string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]bool{}
	for k, set := range s.acc().perms {
		if k.tenant == tenant && k.user == user && (set[systems.PermRead] || set[systems.PermModify]) {
			ids[k.system] = true
		}
	}
	for k, m := range s.acc().shares {
		if k.tenant != tenant {
			continue
		}
		if _, ok := m[user]; ok {
			ids[k.id] = true
		}
		if _, ok := m[systems.PublicGrantee]; ok {
			ids[k.id] = true
		}
	}
	return sortedKeys(ids), nil
}

// PublicSystems implements systems.AccessStore.
func (s *Store) PublicSystems(_ context.Context, tenant string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := map[string]bool{}
	for k, m := range s.acc().shares {
		if _, ok := m[systems.PublicGrantee]; ok && k.tenant == tenant {
			ids[k.id] = true
		}
	}
	return sortedKeys(ids), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.SortFunc(out, compareStrings)
	return out
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// SetLoginUser implements systems.AccessStore.
func (s *Store) SetLoginUser(_ context.Context, tenant, systemID, tapisUser, loginUser string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := permKey{tenant, systemID, tapisUser}
	if loginUser == "" {
		delete(s.acc().logins, k)
		return nil
	}
	s.acc().logins[k] = loginUser
	return nil
}

// LoginUser implements systems.AccessStore.
func (s *Store) LoginUser(_ context.Context, tenant, systemID, tapisUser string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acc().logins[permKey{tenant, systemID, tapisUser}], nil
}

// LoginUsers implements systems.AccessStore.
func (s *Store) LoginUsers(_ context.Context, tenant, tapisUser string, systemIDs []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, id := range systemIDs {
		if login, ok := s.acc().logins[permKey{tenant, id, tapisUser}]; ok {
			out[id] = login
		}
	}
	return out, nil
}
