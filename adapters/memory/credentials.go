package memory

import (
	"context"
	"fmt"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
)

var (
	_ credentials.Vault  = (*Store)(nil)
	_ hostcheck.HostKeys = (*Store)(nil)
)

// credMaps holds credentials and pinned host keys; created lazily under s.mu.
// Nothing here is sealed: a memory store keeps nothing at rest.
type credMaps struct {
	creds    map[credentials.Key]credentials.Credential
	hostKeys map[tenantKey]string // (tenant, system id) -> authorized_keys line
}

func (s *Store) cred() *credMaps {
	if s.credm == nil {
		s.credm = &credMaps{creds: map[credentials.Key]credentials.Credential{}, hostKeys: map[tenantKey]string{}}
	}
	return s.credm
}

// PutCredential implements credentials.Vault: it replaces the whole set
// stored under k. Updated is kept in UTC with microsecond precision, as in
// the SQL stores.
func (s *Store) PutCredential(_ context.Context, k credentials.Key, c credentials.Credential) error {
	c.Updated = sysTime(c.Updated)
	c.AccessTokenExpires = sysTime(c.AccessTokenExpires)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cred().creds[k] = c // Credential holds only strings and a time: a copy
	return nil
}

// GetCredential implements credentials.Vault.
func (s *Store) GetCredential(_ context.Context, k credentials.Key) (credentials.Credential, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cred().creds[k]
	if !ok {
		return credentials.Credential{}, fmt.Errorf("memory: credential: %w", credentials.ErrNotFound)
	}
	return c, nil
}

// DeleteCredential implements credentials.Vault; a missing key is no error.
func (s *Store) DeleteCredential(_ context.Context, k credentials.Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cred().creds, k)
	return nil
}

// HostKey implements hostcheck.HostKeys: the pinned key, "" when none.
func (s *Store) HostKey(_ context.Context, tenant, systemID string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cred().hostKeys[tenantKey{tenant, systemID}], nil
}

// PinHostKey implements hostcheck.HostKeys. The first pin wins: pinning the
// pinned key again is no error, pinning another is
// hostcheck.ErrHostKeyMismatch and keeps the first.
func (s *Store) PinHostKey(_ context.Context, tenant, systemID, key string) error {
	if key == "" {
		return fmt.Errorf("memory: pin host key: empty key: %w", credentials.ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.cred().hostKeys
	tk := tenantKey{tenant, systemID}
	switch cur, ok := m[tk]; {
	case !ok:
		m[tk] = key
	case cur != key:
		return fmt.Errorf("memory: pin host key: another key is pinned: %w", hostcheck.ErrHostKeyMismatch)
	}
	return nil
}

// DeleteHostKey forgets the pinned key of a system (the system is deleted,
// or an administrator accepts a changed key); a missing pin is no error.
func (s *Store) DeleteHostKey(_ context.Context, tenant, systemID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cred().hostKeys, tenantKey{tenant, systemID})
	return nil
}
