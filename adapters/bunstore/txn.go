package bunstore

import (
	"context"
	"errors"

	"github.com/uptrace/bun"
)

// Transactions. Every transaction of a store operation runs through txn,
// and every read-modify-write of one row through update: read with the
// flavor's row lock, let the caller's closure change it, write it back by
// its primary key, translate the errors into the domain's sentinels. An
// error that a caller's closure returns (a domain rule refusing the change)
// is marked with keep and comes back as it is.

// keptError carries an error of a caller's closure through a transaction.
type keptError struct{ err error }

func (e keptError) Error() string { return e.err.Error() }

// keep marks an error of a caller's closure: txn returns it as it is,
// untranslated. keep(nil) is nil.
func keep(err error) error {
	if err == nil {
		return nil
	}
	return keptError{err}
}

// txn runs fn in one transaction. An error fn marked with keep comes back
// as it is; any other is translated for the operation what by mapErr
// (writeErr, readErr or deleteErr), sentinels passing through.
func (s *Store) txn(ctx context.Context, what string, mapErr func(error, string) error, fn func(ctx context.Context, tx bun.Tx) error) error {
	err := s.db.RunInTx(ctx, nil, fn)
	if err == nil {
		return nil
	}
	var kept keptError
	if errors.As(err, &kept) {
		return kept.err
	}
	return mapErr(err, what)
}

// update is the read-modify-write of one row of R, in one transaction: it
// reads the row that where selects, locked with the flavor's row lock
// (SQLite's write transactions are exclusive), passes it to change, and
// writes the row change returns back by its primary key; it returns that
// row. change may read and write more through tx. No row is ErrNotFound;
// an error of change marked with keep comes back as it is, and writes
// nothing; other errors are translated by writeErr for what.
func update[R any](ctx context.Context, s *Store, what string,
	where func(*bun.SelectQuery) *bun.SelectQuery,
	change func(ctx context.Context, tx bun.Tx, cur *R) (*R, error),
) (*R, error) {
	var out *R
	err := s.txn(ctx, what, writeErr, func(ctx context.Context, tx bun.Tx) error {
		cur := new(R)
		if err := s.fl.forUpdate(where(tx.NewSelect().Model(cur))).Scan(ctx); err != nil {
			return err
		}
		next, err := change(ctx, tx, cur)
		if err != nil {
			return err
		}
		if _, err := tx.NewUpdate().Model(next).WherePK().Exec(ctx); err != nil {
			return err
		}
		out = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
