package memory

import (
	"context"
	"time"

	"github.com/tapis-go/tapis/cluster"
)

// The cluster parts of a memory store serve the one process that holds it:
// every tapis.Server on one memory Store shares its change notifications,
// locks and KEK canary.

var (
	_ cluster.Feed        = (*Store)(nil)
	_ cluster.Locker      = (*Store)(nil)
	_ cluster.CanaryStore = (*Store)(nil)
)

// PublishChange implements cluster.Feed (a cluster.MemoryFeed): every
// subscription has received c when it returns.
func (s *Store) PublishChange(ctx context.Context, c cluster.Change) error {
	return s.changes.PublishChange(ctx, c)
}

// SubscribeChanges implements cluster.Feed.
func (s *Store) SubscribeChanges(fn func(cluster.Change)) (stop func()) {
	return s.changes.SubscribeChanges(fn)
}

// PurgeChanges implements cluster.Feed: nothing is kept.
func (s *Store) PurgeChanges(ctx context.Context, before time.Time) (int, error) {
	return s.changes.PurgeChanges(ctx, before)
}

// Lock implements cluster.Locker (a cluster.MemoryLocker).
func (s *Store) Lock(ctx context.Context, name string) (func(), error) {
	return s.locker.Lock(ctx, name)
}

// TryLock implements cluster.Locker.
func (s *Store) TryLock(ctx context.Context, name string) (func(), bool, error) {
	return s.locker.TryLock(ctx, name)
}

// KEKCanary implements cluster.CanaryStore.
func (s *Store) KEKCanary(ctx context.Context) ([]byte, error) { return s.canary.KEKCanary(ctx) }

// SwapKEKCanary implements cluster.CanaryStore.
func (s *Store) SwapKEKCanary(ctx context.Context, old, next []byte) ([]byte, error) {
	return s.canary.SwapKEKCanary(ctx, old, next)
}

// HoldsSealedData implements cluster.CanaryStore: the canary, a sealed
// signing key or a tenant configuration's sealed secrets (credentials and
// Globus verifiers are kept unsealed in memory).
func (s *Store) HoldsSealedData(ctx context.Context) (bool, error) {
	if holds, err := s.canary.HoldsSealedData(ctx); holds || err != nil {
		return holds, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, keys := range s.keys {
		for _, k := range keys {
			if k.SealedPrivateKey != nil {
				return true, nil
			}
		}
	}
	for _, c := range s.auth().configs {
		if c.SealedSecrets != nil {
			return true, nil
		}
	}
	return false, nil
}
