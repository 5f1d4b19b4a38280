package memory

import (
	"bytes"
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/tapis-go/tapis/oauth2"
)

var _ oauth2.AuthStore = (*Store)(nil)

// authMaps holds the authenticator's records; created lazily under s.mu.
type authMaps struct {
	clients map[tenantKey]oauth2.Client
	codes   map[tenantKey]oauth2.AuthCode
	devices map[tenantKey]oauth2.DeviceCode
	refresh map[tenantKey]oauth2.RefreshRecord
	revoked map[tenantKey]time.Time // refresh families
	configs map[string]oauth2.TenantConfig
}

func (s *Store) auth() *authMaps {
	if s.authm == nil {
		s.authm = &authMaps{clients: map[tenantKey]oauth2.Client{}, codes: map[tenantKey]oauth2.AuthCode{},
			devices: map[tenantKey]oauth2.DeviceCode{}, refresh: map[tenantKey]oauth2.RefreshRecord{},
			revoked: map[tenantKey]time.Time{}, configs: map[string]oauth2.TenantConfig{}}
	}
	return s.authm
}

func copyClient(c oauth2.Client) oauth2.Client {
	c.KeyHash = bytes.Clone(c.KeyHash)
	return c
}

// CreateClient implements oauth2.ClientStore.
func (s *Store) CreateClient(_ context.Context, c oauth2.Client) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{c.TenantID, c.ClientID}
	if _, ok := s.auth().clients[k]; ok {
		return oauth2.ErrAlreadyExists
	}
	s.auth().clients[k] = copyClient(c)
	return nil
}

// GetClient implements oauth2.ClientStore.
func (s *Store) GetClient(_ context.Context, tenantID, clientID string) (oauth2.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.auth().clients[tenantKey{tenantID, clientID}]
	if !ok {
		return oauth2.Client{}, oauth2.ErrNotFound
	}
	return copyClient(c), nil
}

// ListClients implements oauth2.ClientStore.
func (s *Store) ListClients(_ context.Context, tenantID, owner string, includeInactive bool) ([]oauth2.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []oauth2.Client{}
	for k, c := range s.auth().clients {
		if k.tenant == tenantID && (owner == "" || c.Owner == owner) && (includeInactive || c.Active) {
			out = append(out, copyClient(c))
		}
	}
	slices.SortFunc(out, func(a, b oauth2.Client) int { return strings.Compare(a.ClientID, b.ClientID) })
	return out, nil
}

// UpdateClient implements oauth2.ClientStore.
func (s *Store) UpdateClient(_ context.Context, tenantID, clientID string, update func(*oauth2.Client) error) (oauth2.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenantID, clientID}
	cur, ok := s.auth().clients[k]
	if !ok {
		return oauth2.Client{}, oauth2.ErrNotFound
	}
	next := copyClient(cur)
	if err := update(&next); err != nil {
		return oauth2.Client{}, err
	}
	next.TenantID, next.ClientID = tenantID, clientID
	s.auth().clients[k] = copyClient(next)
	return copyClient(next), nil
}

// CreateAuthCode implements oauth2.CodeStore.
func (s *Store) CreateAuthCode(_ context.Context, c oauth2.AuthCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{c.TenantID, c.CodeHash}
	if _, ok := s.auth().codes[k]; ok {
		return oauth2.ErrAlreadyExists
	}
	s.auth().codes[k] = c
	return nil
}

// RedeemAuthCode implements oauth2.CodeStore.
func (s *Store) RedeemAuthCode(_ context.Context, tenantID, codeHash string, now time.Time) (oauth2.AuthCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenantID, codeHash}
	c, ok := s.auth().codes[k]
	if !ok {
		return oauth2.AuthCode{}, oauth2.ErrNotFound
	}
	if !c.RedeemedAt.IsZero() {
		if c.ReuseSeenAt.IsZero() {
			c.ReuseSeenAt = now
			s.auth().codes[k] = c
		}
		return c, oauth2.ErrCodeUsed
	}
	c.RedeemedAt = now
	s.auth().codes[k] = c
	return c, nil
}

// RecordCodeTokens implements oauth2.CodeStore.
func (s *Store) RecordCodeTokens(_ context.Context, tenantID, codeHash, accessJTI string, accessExp time.Time, family string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenantID, codeHash}
	c, ok := s.auth().codes[k]
	if !ok {
		return false, oauth2.ErrNotFound
	}
	c.AccessJTI, c.AccessExp, c.RefreshFam = accessJTI, accessExp, family
	s.auth().codes[k] = c
	return !c.ReuseSeenAt.IsZero(), nil
}

// PurgeAuthCodes implements oauth2.CodeStore.
func (s *Store) PurgeAuthCodes(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, c := range s.auth().codes {
		if c.Expires.Before(before) {
			delete(s.auth().codes, k)
			n++
		}
	}
	return n, nil
}

// CreateDeviceCode implements oauth2.DeviceStore.
func (s *Store) CreateDeviceCode(_ context.Context, d oauth2.DeviceCode) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, o := range s.auth().devices {
		if k.tenant == d.TenantID && (k.id == d.CodeHash || o.UserCode == d.UserCode) {
			return oauth2.ErrAlreadyExists
		}
	}
	s.auth().devices[tenantKey{d.TenantID, d.CodeHash}] = d
	return nil
}

// GetDeviceCode implements oauth2.DeviceStore.
func (s *Store) GetDeviceCode(_ context.Context, tenantID, codeHash string) (oauth2.DeviceCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.auth().devices[tenantKey{tenantID, codeHash}]
	if !ok {
		return oauth2.DeviceCode{}, oauth2.ErrNotFound
	}
	return d, nil
}

// GetDeviceCodeByUserCode implements oauth2.DeviceStore.
func (s *Store) GetDeviceCodeByUserCode(_ context.Context, tenantID, userCode string) (oauth2.DeviceCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, d := range s.auth().devices {
		if k.tenant == tenantID && d.UserCode == userCode {
			return d, nil
		}
	}
	return oauth2.DeviceCode{}, oauth2.ErrNotFound
}

// UpdateDeviceCode implements oauth2.DeviceStore.
func (s *Store) UpdateDeviceCode(_ context.Context, tenantID, codeHash string, update func(*oauth2.DeviceCode) error) (oauth2.DeviceCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenantID, codeHash}
	d, ok := s.auth().devices[k]
	if !ok {
		return oauth2.DeviceCode{}, oauth2.ErrNotFound
	}
	if err := update(&d); err != nil {
		return oauth2.DeviceCode{}, err
	}
	d.TenantID, d.CodeHash = tenantID, codeHash
	s.auth().devices[k] = d
	return d, nil
}

// PutRefreshToken implements oauth2.RefreshStore.
func (s *Store) PutRefreshToken(_ context.Context, r oauth2.RefreshRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{r.TenantID, r.JTI}
	if _, ok := s.auth().refresh[k]; ok {
		return oauth2.ErrAlreadyExists
	}
	s.auth().refresh[k] = r
	return nil
}

// UseRefreshToken implements oauth2.RefreshStore.
func (s *Store) UseRefreshToken(_ context.Context, tenantID, jti string, now time.Time) (oauth2.RefreshRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenantID, jti}
	r, ok := s.auth().refresh[k]
	if !ok {
		return oauth2.RefreshRecord{}, oauth2.ErrNotFound
	}
	if !r.UsedAt.IsZero() {
		return r, oauth2.ErrRefreshReused
	}
	r.UsedAt = now
	s.auth().refresh[k] = r
	return r, nil
}

// RefreshFamily implements oauth2.RefreshStore.
func (s *Store) RefreshFamily(_ context.Context, tenantID, familyID string) ([]oauth2.RefreshRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []oauth2.RefreshRecord{}
	for k, r := range s.auth().refresh {
		if k.tenant == tenantID && r.FamilyID == familyID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b oauth2.RefreshRecord) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.JTI, b.JTI)
	})
	return out, nil
}

// RevokeRefreshFamily implements oauth2.RefreshStore.
func (s *Store) RevokeRefreshFamily(_ context.Context, tenantID, familyID string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenantID, familyID}
	if _, ok := s.auth().revoked[k]; !ok {
		s.auth().revoked[k] = at
	}
	return nil
}

// IsRefreshFamilyRevoked implements oauth2.RefreshStore.
func (s *Store) IsRefreshFamilyRevoked(_ context.Context, tenantID, familyID string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.auth().revoked[tenantKey{tenantID, familyID}]
	return ok, nil
}

func copyConfig(c oauth2.TenantConfig) oauth2.TenantConfig {
	c.AllowableGrantTypes = slices.Clone(c.AllowableGrantTypes)
	c.MFAConfig = maps.Clone(c.MFAConfig)
	c.CustomIdPConfiguration = maps.Clone(c.CustomIdPConfiguration)
	c.SealedSecrets = bytes.Clone(c.SealedSecrets)
	return c
}

// GetTenantConfig implements oauth2.ConfigStore.
func (s *Store) GetTenantConfig(_ context.Context, tenantID string) (oauth2.TenantConfig, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.auth().configs[tenantID]
	if !ok {
		return oauth2.TenantConfig{}, oauth2.ErrNotFound
	}
	return copyConfig(c), nil
}

// PutTenantConfig implements oauth2.ConfigStore.
func (s *Store) PutTenantConfig(_ context.Context, c oauth2.TenantConfig) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auth().configs[c.TenantID] = copyConfig(c)
	return nil
}

// PurgeDeviceCodes implements oauth2.DeviceStore.
func (s *Store) PurgeDeviceCodes(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, d := range s.auth().devices {
		if d.Expires.Before(before) {
			delete(s.auth().devices, k)
			n++
		}
	}
	return n, nil
}

// PurgeRefreshTokens implements oauth2.RefreshStore.
func (s *Store) PurgeRefreshTokens(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	live := map[tenantKey]bool{}
	for k, r := range s.auth().refresh {
		if r.Expires.Before(before) {
			delete(s.auth().refresh, k)
			n++
		} else {
			live[tenantKey{r.TenantID, r.FamilyID}] = true
		}
	}
	for k := range s.auth().revoked {
		if !live[k] {
			delete(s.auth().revoked, k)
		}
	}
	return n, nil
}
