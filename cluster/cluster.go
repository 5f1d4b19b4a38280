// Package cluster holds what the instances sharing one store coordinate
// through it: change notifications (Feed), so that every instance drops
// what it caches of a fact another instance changed; named locks (Locker),
// so that one instance bootstraps an empty store and one runs each round of
// housekeeping; and the KEK canary (CanaryStore), a value sealed with the
// key-encryption key that proves an instance's KEK opens the store's sealed
// data before it serves.
//
// The package imports nothing of this module: the kinds of changes belong to
// the packages that publish them (tenancy, oauth2), and the sealing of the
// canary to its caller (tapis.Server.CheckKEK). MemoryFeed, MemoryLocker and
// MemoryCanary serve one process; adapters/bunstore implements all three on
// SQLite (several processes on one file included) and PostgreSQL. Every
// adapter runs the conformance suites in cluster/clustertest.
package cluster

import (
	"context"
	"errors"
	"time"
)

// Change is one fact that changed in the store: its kind (named by the
// package that publishes it), the tenant it belongs to ("" for none) and a
// key within the kind (a token id, a key id; "" for all).
type Change struct {
	// Seq is the feed's number of the change, increasing in the order the
	// changes were published; PublishChange ignores it.
	Seq    int64
	Kind   string
	Tenant string
	Key    string
}

// Resync is the Kind of a change a feed delivers when it may have missed
// others (it could not read the store for a while, or changes it had not
// read yet were purged): a subscriber then drops everything it caches.
const Resync = "resync"

// Feed carries change notifications between the instances sharing a store.
type Feed interface {
	// PublishChange records c (after the write it describes committed);
	// every subscription of every instance sharing the store receives it.
	PublishChange(ctx context.Context, c Change) error
	// SubscribeChanges calls fn with every change published after it
	// returns, by this instance or another, in publication order, from one
	// goroutine at a time; a change it may have missed is announced by a
	// Resync change instead. fn must return quickly and must not publish.
	// stop ends the subscription; once it returns, fn is not called again.
	SubscribeChanges(fn func(Change)) (stop func())
	// PurgeChanges forgets the changes published before t (housekeeping);
	// it returns how many.
	PurgeChanges(ctx context.Context, before time.Time) (int, error)
}

// Locker gives named locks that exclude each other across every instance
// sharing the store (and within one instance). A lock dies with the process
// holding it.
type Locker interface {
	// Lock waits until it holds the lock called name, or ctx ends (its
	// error then). unlock releases the lock; call it once.
	Lock(ctx context.Context, name string) (unlock func(), err error)
	// TryLock takes the lock called name if nobody holds it: held is false
	// (and unlock nil) when another holder has it.
	TryLock(ctx context.Context, name string) (unlock func(), held bool, err error)
}

// ErrEmptyCanary is SwapKEKCanary's answer to an empty next canary.
var ErrEmptyCanary = errors.New("cluster: the KEK canary must not be empty")

// CanaryStore keeps the KEK canary: one value sealed with the
// key-encryption key of the store's sealed data.
type CanaryStore interface {
	// KEKCanary returns the stored canary, or nil when there is none.
	KEKCanary(ctx context.Context) ([]byte, error)
	// SwapKEKCanary stores next if the stored canary equals old (nil: there
	// is none), in one atomic step, and returns the canary stored
	// afterwards: next when the swap happened, else the one another writer
	// stored. An empty next is ErrEmptyCanary.
	SwapKEKCanary(ctx context.Context, old, next []byte) ([]byte, error)
	// HoldsSealedData reports whether the store holds anything sealed with a
	// KEK: the canary, sealed signing keys, credentials, ... An instance
	// without a configured KEK must not make up a new one for such a store.
	HoldsSealedData(ctx context.Context) (bool, error)
}
