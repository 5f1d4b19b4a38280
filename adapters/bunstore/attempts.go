package bunstore

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/oauth2"
)

var _ oauth2.AttemptStore = (*Store)(nil)

// attemptRow is a row of limiter_attempts (migration 0009).
type attemptRow struct {
	bun.BaseModel `bun:"table:limiter_attempts,alias:la"`

	Key     string    `bun:"key,pk"`
	Count   int       `bun:"count"`
	Last    time.Time `bun:"last"`
	Expires time.Time `bun:"expires"`
}

// UpdateAttempts implements oauth2.AttemptStore. In one transaction it
// makes sure a row exists for every key (a placeholder that reads as the
// zero state), locks them in key order (the flavor's row lock: SELECT ...
// FOR UPDATE on PostgreSQL; SQLite's write transactions are exclusive),
// runs fn and writes back what it
// left: zero states are deleted. Key order makes concurrent calls naming
// overlapping keys queue instead of deadlocking; a key deleted by another
// call between the insert and the lock reruns the transaction, so that no
// row is ever locked out of that order.
func (s *Store) UpdateAttempts(ctx context.Context, keys []string, fn func([]oauth2.AttemptState) error) error {
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	for try := 1; ; try++ {
		err := s.updateAttempts(ctx, keys, sorted, fn)
		if !errors.Is(err, errKeyVanished) || try == maxAttemptTries {
			return err
		}
	}
}

// errKeyVanished: a key's row was deleted (zeroed by a concurrent call, or
// purged) between the placeholder insert and the lock. Writing it back
// would lock a row out of key order, which deadlocks against a call
// waiting in order; the transaction is rolled back and run again instead.
var errKeyVanished = errors.New("bunstore: an attempts row vanished before its lock")

// maxAttemptTries bounds the reruns of errKeyVanished: each needs another
// call to zero a shared key in the few statements between insert and lock.
const maxAttemptTries = 20

func (s *Store) updateAttempts(ctx context.Context, keys, sorted []string, fn func([]oauth2.AttemptState) error) error {
	return s.txn(ctx, "update attempts", writeErr, func(ctx context.Context, tx bun.Tx) error {
		placeholders := make([]attemptRow, len(sorted))
		for i, k := range sorted {
			placeholders[i] = attemptRow{Key: k, Last: time.Unix(0, 0).UTC(), Expires: time.Unix(0, 0).UTC()}
		}
		if _, err := tx.NewInsert().Model(&placeholders).On("CONFLICT (key) DO NOTHING").Exec(ctx); err != nil {
			return err
		}
		var rows []attemptRow
		q := tx.NewSelect().Model(&rows).Where("key IN (?)", bun.List(sorted)).Order("key")
		if err := s.fl.forUpdate(q).Scan(ctx); err != nil {
			return err
		}
		if len(rows) != len(sorted) {
			return keep(errKeyVanished)
		}
		byKey := make(map[string]oauth2.AttemptState, len(rows))
		for _, r := range rows {
			if r.Count != 0 || r.Expires.After(time.Unix(0, 0)) {
				byKey[r.Key] = oauth2.AttemptState{Count: r.Count, Last: r.Last.UTC(), Expires: r.Expires.UTC()}
			}
		}
		states := make([]oauth2.AttemptState, len(keys))
		for i, k := range keys {
			states[i] = byKey[k]
		}
		if err := fn(states); err != nil {
			return keep(err)
		}
		final := make(map[string]oauth2.AttemptState, len(keys))
		for i, k := range keys {
			final[k] = states[i]
		}
		var drop []string
		var keep []attemptRow
		for _, k := range sorted {
			st := final[k]
			if st == (oauth2.AttemptState{}) {
				drop = append(drop, k)
				continue
			}
			keep = append(keep, attemptRow{Key: k, Count: st.Count, Last: utc(st.Last), Expires: utc(st.Expires)})
		}
		if len(drop) > 0 {
			if _, err := tx.NewDelete().Model((*attemptRow)(nil)).Where("key IN (?)", bun.List(drop)).Exec(ctx); err != nil {
				return err
			}
		}
		if len(keep) > 0 {
			if _, err := tx.NewInsert().Model(&keep).On("CONFLICT (key) DO UPDATE").
				Set("count = EXCLUDED.count").Set("last = EXCLUDED.last").Set("expires = EXCLUDED.expires").Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// PurgeAttempts implements oauth2.AttemptStore.
func (s *Store) PurgeAttempts(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.NewDelete().Model((*attemptRow)(nil)).Where("expires < ?", utc(before)).Exec(ctx)
	if err != nil {
		return 0, deleteErr(err, "purge attempts")
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
