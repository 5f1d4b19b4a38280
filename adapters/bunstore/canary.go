package bunstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/cluster"
)

var _ cluster.CanaryStore = (*Store)(nil)

// canaryRow is the one row of kek_canary (migration 0010).
type canaryRow struct {
	bun.BaseModel `bun:"table:kek_canary,alias:kc"`

	ID      int       `bun:"id,pk"`
	Sealed  []byte    `bun:"sealed"`
	Updated time.Time `bun:"updated"`
}

// KEKCanary implements cluster.CanaryStore.
func (s *Store) KEKCanary(ctx context.Context) ([]byte, error) {
	var row canaryRow
	err := s.db.NewSelect().Model(&row).Where("id = 1").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, readErr(err, "KEK canary")
	}
	return row.Sealed, nil
}

// SwapKEKCanary implements cluster.CanaryStore in one transaction: the
// first canary is inserted unless another writer's is there already (which
// it then reads back); a replacement is a read-modify-write of the row
// under the flavor's row lock.
func (s *Store) SwapKEKCanary(ctx context.Context, old, next []byte) ([]byte, error) {
	if len(next) == 0 {
		return nil, cluster.ErrEmptyCanary
	}
	var out []byte
	err := s.txn(ctx, "swap KEK canary", writeErr, func(ctx context.Context, tx bun.Tx) error {
		if old == nil {
			row := &canaryRow{ID: 1, Sealed: next, Updated: utc(time.Now())}
			if _, err := tx.NewInsert().Model(row).On("CONFLICT (id) DO NOTHING").Exec(ctx); err != nil {
				return err
			}
		}
		var cur canaryRow
		err := s.fl.forUpdate(tx.NewSelect().Model(&cur).Where("id = 1")).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // no canary, and old named one: nothing to swap
		}
		if err != nil {
			return err
		}
		if old != nil && bytes.Equal(cur.Sealed, old) {
			cur.Sealed, cur.Updated = next, utc(time.Now())
			if _, err := tx.NewUpdate().Model(&cur).WherePK().Exec(ctx); err != nil {
				return err
			}
		}
		out = cur.Sealed
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// HoldsSealedData implements cluster.CanaryStore: the canary, a sealed
// signing key, a credential, a tenant configuration's sealed secrets or a
// Globus session.
func (s *Store) HoldsSealedData(ctx context.Context) (bool, error) {
	var holds bool
	err := s.db.NewRaw(`SELECT EXISTS (SELECT 1 FROM kek_canary)
	OR EXISTS (SELECT 1 FROM signing_keys WHERE sealed_private_key IS NOT NULL)
	OR EXISTS (SELECT 1 FROM credentials)
	OR EXISTS (SELECT 1 FROM oauth2_tenant_configs WHERE sealed_secrets IS NOT NULL)
	OR EXISTS (SELECT 1 FROM globus_sessions)`).Scan(ctx, &holds)
	if err != nil {
		return false, readErr(err, "sealed data")
	}
	return holds, nil
}
