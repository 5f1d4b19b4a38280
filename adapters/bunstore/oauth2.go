package bunstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/oauth2"
)

// Every statement on signing_keys, token_revocations and accounts names the
// tenant in its WHERE clause (or its inserted key), except PurgeRevocations,
// whose contract is to sweep expired revocations of every tenant.

// RotateSigningKey implements oauth2.KeyStore. In one transaction it retires
// the tenant's current key (RetiredAt = key.Created, VerifyUntil =
// retireUntil) and stores key as the new current one; ErrAlreadyExists when
// the tenant already has a key with key.KID. Concurrent rotations of one
// tenant run one after the other (the flavor's named lock: an advisory lock
// on PostgreSQL; BEGIN IMMEDIATE on SQLite).
func (s *Store) RotateSigningKey(ctx context.Context, key oauth2.SigningKey, retireUntil time.Time) error {
	row := signingKeyToRow(key)
	row.RetiredAt, row.VerifyUntil = time.Time{}, time.Time{}
	return s.txn(ctx, "rotate signing key", writeErr, func(ctx context.Context, tx bun.Tx) error {
		if err := s.fl.lockName(ctx, tx, "tapis-go/bunstore:signing_keys:"+key.TenantID); err != nil {
			return err
		}
		dup, err := tx.NewSelect().Model((*signingKeyRow)(nil)).
			Where("tenant_id = ?", key.TenantID).Where("kid = ?", key.KID).Exists(ctx)
		if err != nil {
			return err
		}
		if dup {
			return sentinel(oauth2.ErrAlreadyExists, "rotate signing key")
		}
		if _, err := tx.NewUpdate().Model((*signingKeyRow)(nil)).
			Set("retired_at = ?", utc(key.Created)).
			Set("verify_until = ?", utc(retireUntil)).
			Where("tenant_id = ?", key.TenantID).Where("retired_at IS NULL").
			Exec(ctx); err != nil {
			return err
		}
		_, err = tx.NewInsert().Model(row).Exec(ctx)
		return err
	})
}

// ListSigningKeys implements oauth2.KeyStore: the tenant's keys, newest
// first (by Created, then KID).
func (s *Store) ListSigningKeys(ctx context.Context, tenantID string) ([]oauth2.SigningKey, error) {
	var rows []signingKeyRow
	if err := s.db.NewSelect().Model(&rows).Where("tenant_id = ?", tenantID).
		Order("created DESC", "kid ASC").Scan(ctx); err != nil {
		return nil, readErr(err, "list signing keys")
	}
	out := make([]oauth2.SigningKey, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].domain())
	}
	return out, nil
}

// UpdateSealedKey implements oauth2.KeyStore: ErrNotFound when the tenant
// has no key kid.
func (s *Store) UpdateSealedKey(ctx context.Context, tenantID, kid string, sealed []byte) error {
	res, err := s.db.NewUpdate().Model((*signingKeyRow)(nil)).
		Set("sealed_private_key = ?", sealed).
		Where("tenant_id = ?", tenantID).Where("kid = ?", kid).
		Exec(ctx)
	return affectedOne(res, err, "update sealed key")
}

// RevokeToken implements oauth2.RevocationStore. Revoking again keeps the
// later of the two expiry times.
func (s *Store) RevokeToken(ctx context.Context, tenantID, jti string, expires time.Time) error {
	row := &revocationRow{TenantID: tenantID, JTI: jti, Expires: utc(expires)}
	_, err := s.db.NewInsert().Model(row).
		On("CONFLICT (tenant_id, jti) DO UPDATE").
		Set("expires = CASE WHEN EXCLUDED.expires > ?TableAlias.expires THEN EXCLUDED.expires ELSE ?TableAlias.expires END").
		Exec(ctx)
	return writeErr(err, "revoke token")
}

// IsTokenRevoked implements oauth2.RevocationStore.
func (s *Store) IsTokenRevoked(ctx context.Context, tenantID, jti string) (bool, error) {
	var found []int
	if err := s.selectInto(ctx, &found, s.q.revoked, tenantID, jti); err != nil {
		return false, readErr(err, "check revocation")
	}
	return len(found) > 0, nil
}

// PurgeRevocations implements oauth2.RevocationStore: it deletes, for every
// tenant, the revocations of tokens that expired before the given time, and
// returns how many it deleted.
func (s *Store) PurgeRevocations(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.NewDelete().Model((*revocationRow)(nil)).Where("expires < ?", utc(before)).Exec(ctx)
	if err != nil {
		return 0, deleteErr(err, "purge revocations")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, deleteErr(err, "purge revocations")
	}
	return int(n), nil
}

// PutAccount implements oauth2.AccountStore: it creates the account or
// replaces every field of an existing one.
func (s *Store) PutAccount(ctx context.Context, a oauth2.Account) error {
	_, err := s.db.NewInsert().Model(accountToRow(a)).
		On("CONFLICT (tenant_id, username) DO UPDATE").
		Set("account_type = EXCLUDED.account_type").
		Set("password_hash = EXCLUDED.password_hash").
		Set("created = EXCLUDED.created").
		Exec(ctx)
	return writeErr(err, "put account")
}

// GetAccount implements oauth2.AccountStore.
func (s *Store) GetAccount(ctx context.Context, tenantID, username string) (oauth2.Account, error) {
	row := new(accountRow)
	if err := s.db.NewSelect().Model(row).
		Where("tenant_id = ?", tenantID).Where("username = ?", username).Scan(ctx); err != nil {
		return oauth2.Account{}, readErr(err, "get account")
	}
	return row.domain(), nil
}

// ListAccounts implements oauth2.AccountStore: the tenant's accounts ordered
// by username.
func (s *Store) ListAccounts(ctx context.Context, tenantID string) ([]oauth2.Account, error) {
	var rows []accountRow
	if err := s.db.NewSelect().Model(&rows).Where("tenant_id = ?", tenantID).
		Order("username").Scan(ctx); err != nil {
		return nil, readErr(err, "list accounts")
	}
	out := make([]oauth2.Account, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].domain())
	}
	return out, nil
}

// DeleteAccount implements oauth2.AccountStore: ErrNotFound when the tenant
// has no such account.
func (s *Store) DeleteAccount(ctx context.Context, tenantID, username string) error {
	res, err := s.db.NewDelete().Model((*accountRow)(nil)).
		Where("tenant_id = ?", tenantID).Where("username = ?", username).Exec(ctx)
	if err != nil {
		return deleteErr(err, "delete account")
	}
	return affectedOne(res, nil, "delete account")
}

// affectedOne turns a statement that matched no row into ErrNotFound.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return writeErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return writeErr(err, what)
	}
	if n == 0 {
		return sentinel(oauth2.ErrNotFound, what)
	}
	return nil
}
