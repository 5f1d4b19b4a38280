package memory

import (
	"context"
	"time"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/systems"
)

// The parts a complete adapter provides beside its stores: the limiter's
// counters, the credential audit, and the parts an adapter at rest seals
// with the KEK. A memory store keeps nothing at rest, so its sealed parts
// are the store itself and there is nothing to re-seal.

var (
	_ oauth2.AttemptStore = (*Store)(nil)
	_ credentials.Auditor = (*Store)(nil)
)

// UpdateAttempts implements oauth2.AttemptStore (an oauth2.MemoryAttempts).
func (s *Store) UpdateAttempts(ctx context.Context, keys []string, fn func([]oauth2.AttemptState) error) error {
	return s.attempts.UpdateAttempts(ctx, keys, fn)
}

// PurgeAttempts implements oauth2.AttemptStore.
func (s *Store) PurgeAttempts(ctx context.Context, before time.Time) (int, error) {
	return s.attempts.PurgeAttempts(ctx, before)
}

// Audit implements credentials.Auditor: the records stay in memory.
func (s *Store) Audit(ctx context.Context, r credentials.AuditRecord) error {
	return s.audit.Audit(ctx, r)
}

// CredentialAudit returns the newest audit records of tenant, at most limit
// (<= 0: 100), oldest first (as bunstore.Store.CredentialAudit).
func (s *Store) CredentialAudit(_ context.Context, tenant string, limit int) ([]credentials.AuditRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	var out []credentials.AuditRecord
	for _, r := range s.audit.Records() {
		if r.Tenant == tenant {
			out = append(out, r)
		}
	}
	return out[max(0, len(out)-limit):], nil
}

// Vault returns the store itself: credentials are kept in memory, unsealed.
func (s *Store) Vault(*seal.Sealer) credentials.Vault { return s }

// GlobusSessions returns the store itself: verifiers are kept in memory,
// unsealed.
func (s *Store) GlobusSessions(*seal.Sealer) systems.GlobusSessionStore { return s }

// RewrapCredentials has nothing to re-seal: nothing is sealed in memory.
func (s *Store) RewrapCredentials(context.Context, *seal.Sealer) (int, error) { return 0, nil }
