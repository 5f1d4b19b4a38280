package bunstore

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/oauth2"
)

// PutRefreshToken implements oauth2.RefreshStore: ErrAlreadyExists when the
// tenant already has a refresh token with that id.
func (s *Store) PutRefreshToken(ctx context.Context, r oauth2.RefreshRecord) error {
	_, err := s.db.NewInsert().Model(refreshToRow(r)).Exec(ctx)
	return writeErr(err, "put refresh token")
}

// UseRefreshToken implements oauth2.RefreshStore. In one transaction it sets
// used_at where it is still NULL; the one caller whose UPDATE changed the row
// gets the record and nil, every later caller the record (with the first
// UsedAt) and ErrRefreshReused. ErrNotFound when the tenant has no such
// token.
func (s *Store) UseRefreshToken(ctx context.Context, tenantID, jti string, now time.Time) (oauth2.RefreshRecord, error) {
	const what = "use refresh token"
	var (
		out    oauth2.RefreshRecord
		reused bool
	)
	err := s.txn(ctx, what, readErr, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*refreshRow)(nil)).
			Set("used_at = ?", nullTime(now)).
			Where("tenant_id = ?", tenantID).Where("jti = ?", jti).
			Where("used_at IS NULL").
			Exec(ctx)
		won, err := oneAffected(res, err)
		if err != nil {
			return err
		}
		row := new(refreshRow)
		if err := tx.NewSelect().Model(row).
			Where("tenant_id = ?", tenantID).Where("jti = ?", jti).Scan(ctx); err != nil {
			return err // sql.ErrNoRows: unknown token
		}
		out, reused = row.domain(), !won
		return nil
	})
	if err != nil {
		return oauth2.RefreshRecord{}, err
	}
	if reused {
		return out, sentinel(oauth2.ErrRefreshReused, what)
	}
	return out, nil
}

// RefreshFamily implements oauth2.RefreshStore: the tenant's records of the
// family, oldest first (by Created, then JTI); an empty list for an unknown
// family.
func (s *Store) RefreshFamily(ctx context.Context, tenantID, familyID string) ([]oauth2.RefreshRecord, error) {
	var rows []refreshRow
	if err := s.db.NewSelect().Model(&rows).
		Where("tenant_id = ?", tenantID).Where("family_id = ?", familyID).
		Order("created", "jti").Scan(ctx); err != nil {
		return nil, readErr(err, "refresh family")
	}
	out := make([]oauth2.RefreshRecord, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].domain())
	}
	return out, nil
}

// RevokeRefreshFamily implements oauth2.RefreshStore. Revoking a family
// again is a no-op that keeps the first revocation time; the family need not
// have records.
func (s *Store) RevokeRefreshFamily(ctx context.Context, tenantID, familyID string, at time.Time) error {
	row := &familyRevocationRow{TenantID: tenantID, FamilyID: familyID, RevokedAt: utc(at)}
	_, err := s.db.NewInsert().Model(row).On("CONFLICT (tenant_id, family_id) DO NOTHING").Exec(ctx)
	return writeErr(err, "revoke refresh family")
}

// IsRefreshFamilyRevoked implements oauth2.RefreshStore.
func (s *Store) IsRefreshFamilyRevoked(ctx context.Context, tenantID, familyID string) (bool, error) {
	ok, err := s.db.NewSelect().Model((*familyRevocationRow)(nil)).
		Where("tenant_id = ?", tenantID).Where("family_id = ?", familyID).Exists(ctx)
	if err != nil {
		return false, readErr(err, "check refresh family revocation")
	}
	return ok, nil
}

// PurgeRefreshTokens implements oauth2.RefreshStore: expired records go,
// then the revocation marks of families left without records.
func (s *Store) PurgeRefreshTokens(ctx context.Context, before time.Time) (int, error) {
	const what = "purge refresh tokens"
	n := 0
	err := s.txn(ctx, what, deleteErr, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewDelete().Model((*refreshRow)(nil)).Where("expires < ?", utc(before)).Exec(ctx)
		if err != nil {
			return err
		}
		k, err := res.RowsAffected()
		if err != nil {
			return err
		}
		n = int(k)
		_, err = tx.NewDelete().Model((*familyRevocationRow)(nil)).
			Where("NOT EXISTS (SELECT 1 FROM oauth2_refresh_tokens AS r WHERE r.tenant_id = rfr.tenant_id AND r.family_id = rfr.family_id)").
			Exec(ctx)
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
