package tapis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tapis-go/tapis/cluster"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// relay is the tenancy.Notifier the services publish their changes to: it
// puts each on the store's change feed, after the write committed.
type relay struct {
	feed cluster.Feed
	log  *slog.Logger
}

// publishTimeout bounds one publication: a change that cannot be published
// is logged, and the other instances then learn it from their caches'
// TTLs.
const publishTimeout = 5 * time.Second

// Notify implements tenancy.Notifier. A failure is logged, not returned:
// the write it describes stands.
func (r relay) Notify(ctx context.Context, kind, tenantID, key string) {
	if r.feed == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := r.feed.PublishChange(ctx, cluster.Change{Kind: kind, Tenant: tenantID, Key: key}); err != nil {
		log := r.log
		if log == nil {
			log = slog.Default()
		}
		log.ErrorContext(ctx, "publishing a change to the other instances failed; they see it when their caches expire",
			"kind", kind, "tenant", tenantID, "err", err)
	}
}

// ApplyChange drops what this Server caches of a change published by any
// instance sharing the store (its own included, harmlessly): a registry
// write reloads the sites and tenants (a tenant's status and public key
// with them), a key rotation reloads that tenant's signing keys (the next
// token is signed with the new key), a revocation empties the
// verified-token cache. A Resync or a kind it does not know drops every
// cache. New subscribes it to Stores.Changes; call it yourself only to
// relay changes from elsewhere.
func (s *Server) ApplyChange(c cluster.Change) {
	switch c.Kind {
	case tenancy.ChangeSites:
		s.tenancy.ForgetRegistry()
	case tenancy.ChangeTenant:
		s.tenancy.ForgetRegistry()
		s.keys.ForgetKeys(c.Tenant) // a new public key, or a new tenant's keys
	case oauth2.ChangeSigningKeys:
		s.keys.ForgetKeys(c.Tenant)
	case oauth2.ChangeRevocation:
		s.tokens.ForgetCachedTokens()
	default: // cluster.Resync, or a kind of a newer version
		s.tenancy.ForgetRegistry()
		s.keys.ForgetKeys("")
		s.tokens.ForgetCachedTokens()
	}
}

// canaryAAD binds the KEK canary to its purpose.
var canaryAAD = []byte("tapis-go/kek-canary")

// canaryPlain is what the canary seals; only opening it matters.
var canaryPlain = []byte("tapis-go: this KEK opens this store's sealed data")

// ErrWrongKEK is CheckKEK's answer when the configured KEK (with
// PreviousKEKs) cannot open the store's sealed data.
var ErrWrongKEK = errors.New("tapis: the KEK does not open this store's sealed data")

// CheckKEK proves that the configured KEK (or one of PreviousKEKs) opens
// the store's sealed data, before the Server serves and whenever a
// readiness probe asks. The store's KEK canary is opened; a store without
// one gets it, sealed with the current KEK, once the check passed: on a
// store that already holds sealed data (written before canaries existed),
// a sealed signing key must open first. A KEK that fails is ErrWrongKEK,
// with the ids of both keys and the fix. It changes nothing else.
func (s *Server) CheckKEK(ctx context.Context) error {
	canaries := s.cfg.Stores.Canary
	sealed, err := canaries.KEKCanary(ctx)
	if err != nil {
		return fmt.Errorf("tapis: read the KEK canary: %w", err)
	}
	if sealed != nil {
		return s.openCanary(sealed)
	}
	holds, err := canaries.HoldsSealedData(ctx)
	if err != nil {
		return fmt.Errorf("tapis: look for sealed data: %w", err)
	}
	if holds {
		if err := s.openASigningKey(ctx); err != nil {
			return err
		}
	}
	next, err := s.sealer.Seal(canaryPlain, canaryAAD)
	if err != nil {
		return fmt.Errorf("tapis: seal the KEK canary: %w", err)
	}
	stored, err := canaries.SwapKEKCanary(ctx, nil, next)
	if err != nil {
		return fmt.Errorf("tapis: store the KEK canary: %w", err)
	}
	return s.openCanary(stored) // another instance's, if it was first
}

func (s *Server) openCanary(sealed []byte) error {
	if _, err := s.sealer.Open(sealed, canaryAAD); err != nil {
		return s.wrongKEK(sealed, "its KEK canary")
	}
	return nil
}

// openASigningKey opens the first sealed signing key of the registry's
// tenants (a store holding sealed data but no canary yet); none at all
// passes (nothing this check can open).
func (s *Server) openASigningKey(ctx context.Context) error {
	reg, err := s.tenancy.Reload(ctx)
	if err != nil {
		return fmt.Errorf("tapis: check the KEK: %w", err)
	}
	for _, t := range reg.Tenants() {
		keys, err := s.cfg.Stores.Tokens.ListSigningKeys(ctx, t.ID)
		if err != nil {
			return fmt.Errorf("tapis: check the KEK: %w", err)
		}
		for _, k := range keys {
			if k.SealedPrivateKey == nil {
				continue
			}
			if _, err := oauth2.OpenSigningKey(s.sealer, k); err != nil {
				return s.wrongKEK(k.SealedPrivateKey, "the signing key "+k.KID+" of tenant "+t.ID)
			}
			return nil
		}
	}
	return nil
}

func (s *Server) wrongKEK(sealed []byte, what string) error {
	theirs := seal.SealedKeyID(sealed)
	if theirs == "" {
		theirs = "unknown"
	}
	return fmt.Errorf("%w: %s is sealed with KEK id %s, this server has KEK id %s; "+
		"start it with the database's KEK (examples/server: -kek-file or TAPIS_KEK), "+
		"or, after a KEK rotation, add the old KEK as a previous KEK (examples/server: -previous-kek-files or TAPIS_PREVIOUS_KEKS; Config.PreviousKEKs)",
		ErrWrongKEK, what, theirs, s.sealer.CurrentKeyID())
}
