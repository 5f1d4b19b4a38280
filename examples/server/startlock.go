package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/tapis-go/tapis/adapters/bunstore"
)

// startLock is the lock the starts of the instances sharing a database
// take in turn.
const startLock = "bootstrap"

// lockStart takes the start lock of store, waiting (and saying so) while
// another instance starts. The returned unlock may be called more than
// once.
func lockStart(ctx context.Context, store *bunstore.Store, log *slog.Logger) (func(), error) {
	unlock, held, err := store.TryLock(ctx, startLock)
	if err == nil && !held {
		log.Info("another instance is starting on this database; waiting for it")
		unlock, err = store.Lock(ctx, startLock)
	}
	if err != nil {
		return nil, fmt.Errorf("start lock: %w", err)
	}
	var once sync.Once
	return func() { once.Do(unlock) }, nil
}

// refuseNewKEK refuses to make up a KEK for a database that already holds
// data sealed with one: the new key would not open it.
func refuseNewKEK(ctx context.Context, store *bunstore.Store, o *options) error {
	holds, err := store.HoldsSealedData(ctx)
	if err != nil {
		return err
	}
	if holds {
		return errors.New("the database holds data sealed with a KEK, and the KEK file " + o.kekFile +
			" does not exist: a new KEK would not open it; start with the database's KEK " +
			"(-kek-file naming its file, or TAPIS_KEK holding it in base64)")
	}
	return nil
}
