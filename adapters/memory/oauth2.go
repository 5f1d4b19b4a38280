package memory

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tapis-go/tapis/oauth2"
)

func copyKey(k oauth2.SigningKey) oauth2.SigningKey {
	k.SealedPrivateKey = bytes.Clone(k.SealedPrivateKey)
	return k
}

// RotateSigningKey implements oauth2.KeyStore.
func (s *Store) RotateSigningKey(_ context.Context, key oauth2.SigningKey, retireUntil time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.keys[key.TenantID]
	for i := range keys {
		if keys[i].KID == key.KID {
			return oauth2.ErrAlreadyExists
		}
	}
	for i := range keys {
		if keys[i].Current() {
			keys[i].RetiredAt = key.Created
			keys[i].VerifyUntil = retireUntil
		}
	}
	key.RetiredAt, key.VerifyUntil = time.Time{}, time.Time{}
	s.keys[key.TenantID] = append([]oauth2.SigningKey{copyKey(key)}, keys...)
	return nil
}

// ListSigningKeys implements oauth2.KeyStore.
func (s *Store) ListSigningKeys(_ context.Context, tenantID string) ([]oauth2.SigningKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]oauth2.SigningKey, 0, len(s.keys[tenantID]))
	for _, k := range s.keys[tenantID] {
		out = append(out, copyKey(k))
	}
	slices.SortStableFunc(out, func(a, b oauth2.SigningKey) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(a.KID, b.KID)
	})
	return out, nil
}

// UpdateSealedKey implements oauth2.KeyStore.
func (s *Store) UpdateSealedKey(_ context.Context, tenantID, kid string, sealed []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, k := range s.keys[tenantID] {
		if k.KID == kid {
			s.keys[tenantID][i].SealedPrivateKey = bytes.Clone(sealed)
			return nil
		}
	}
	return oauth2.ErrNotFound
}

// RevokeToken implements oauth2.RevocationStore.
func (s *Store) RevokeToken(_ context.Context, tenantID, jti string, expires time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenantID, jti}
	if r, ok := s.revocations[k]; ok && r.expires >= expires.Unix() {
		return nil
	}
	s.revocations[k] = revocation{expires: expires.Unix()}
	return nil
}

// IsTokenRevoked implements oauth2.RevocationStore.
func (s *Store) IsTokenRevoked(_ context.Context, tenantID, jti string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.revocations[tenantKey{tenantID, jti}]
	return ok, nil
}

// PurgeRevocations implements oauth2.RevocationStore.
func (s *Store) PurgeRevocations(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, r := range s.revocations {
		if r.expires < before.Unix() {
			delete(s.revocations, k)
			n++
		}
	}
	return n, nil
}

// PutAccount implements oauth2.AccountStore.
func (s *Store) PutAccount(_ context.Context, a oauth2.Account) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.PasswordHash = bytes.Clone(a.PasswordHash)
	s.accounts[tenantKey{a.TenantID, a.Username}] = a
	return nil
}

// GetAccount implements oauth2.AccountStore.
func (s *Store) GetAccount(_ context.Context, tenantID, username string) (oauth2.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[tenantKey{tenantID, username}]
	if !ok {
		return oauth2.Account{}, oauth2.ErrNotFound
	}
	a.PasswordHash = bytes.Clone(a.PasswordHash)
	return a, nil
}

// ListAccounts implements oauth2.AccountStore.
func (s *Store) ListAccounts(_ context.Context, tenantID string) ([]oauth2.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []oauth2.Account{}
	for k, a := range s.accounts {
		if k.tenant == tenantID {
			a.PasswordHash = bytes.Clone(a.PasswordHash)
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b oauth2.Account) int { return strings.Compare(a.Username, b.Username) })
	return out, nil
}

// DeleteAccount implements oauth2.AccountStore.
func (s *Store) DeleteAccount(_ context.Context, tenantID, username string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tenantKey{tenantID, username}
	if _, ok := s.accounts[k]; !ok {
		return oauth2.ErrNotFound
	}
	delete(s.accounts, k)
	return nil
}
