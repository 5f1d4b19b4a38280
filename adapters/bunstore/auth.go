package bunstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/oauth2"
)

var _ oauth2.AuthStore = (*Store)(nil)

// The authenticator's records (oauth2.AuthStore; tables of migration 0002).
// Every statement names the tenant in its WHERE clause (or its inserted
// key), except PurgeAuthCodes, whose contract is to sweep expired codes of
// every tenant. Single-use records (authorization codes here, refresh tokens
// in auth_refresh.go) are claimed with a conditional UPDATE whose affected
// row count says who won: PostgreSQL re-checks the condition after waiting
// for the row lock of a concurrent winner, and SQLite's write transactions
// (BEGIN IMMEDIATE) run one at a time.

// CreateClient implements oauth2.ClientStore: ErrAlreadyExists when the
// tenant already has a client with that id.
func (s *Store) CreateClient(ctx context.Context, c oauth2.Client) error {
	_, err := s.db.NewInsert().Model(clientToRow(c)).Exec(ctx)
	return writeErr(err, "create client")
}

// GetClient implements oauth2.ClientStore.
func (s *Store) GetClient(ctx context.Context, tenantID, clientID string) (oauth2.Client, error) {
	row := new(clientRow)
	if err := s.db.NewSelect().Model(row).
		Where("tenant_id = ?", tenantID).Where("client_id = ?", clientID).Scan(ctx); err != nil {
		return oauth2.Client{}, readErr(err, "get client")
	}
	return row.domain(), nil
}

// ListClients implements oauth2.ClientStore: the tenant's clients of owner
// (of every owner when it is empty), the inactive ones only when asked,
// ordered by client id.
func (s *Store) ListClients(ctx context.Context, tenantID, owner string, includeInactive bool) ([]oauth2.Client, error) {
	var rows []clientRow
	q := s.db.NewSelect().Model(&rows).Where("tenant_id = ?", tenantID).Order("client_id")
	if owner != "" {
		q = q.Where("owner = ?", owner)
	}
	if !includeInactive {
		q = q.Where("active = ?", true)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, readErr(err, "list clients")
	}
	out := make([]oauth2.Client, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].domain())
	}
	return out, nil
}

// UpdateClient implements oauth2.ClientStore: a read-modify-write of the
// client's row (update). TenantID and ClientID cannot change. An error of
// change is returned as it is and writes nothing.
func (s *Store) UpdateClient(ctx context.Context, tenantID, clientID string, change func(*oauth2.Client) error) (oauth2.Client, error) {
	row, err := update(ctx, s, "update client",
		func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("tenant_id = ?", tenantID).Where("client_id = ?", clientID)
		},
		func(_ context.Context, _ bun.Tx, cur *clientRow) (*clientRow, error) {
			c := cur.domain()
			if err := change(&c); err != nil {
				return nil, keep(err)
			}
			c.TenantID, c.ClientID = tenantID, clientID
			return clientToRow(c), nil
		})
	if err != nil {
		return oauth2.Client{}, err
	}
	return row.domain(), nil
}

// CreateAuthCode implements oauth2.CodeStore: ErrAlreadyExists when the
// tenant already has a code with that hash.
func (s *Store) CreateAuthCode(ctx context.Context, c oauth2.AuthCode) error {
	_, err := s.db.NewInsert().Model(authCodeToRow(c)).Exec(ctx)
	return writeErr(err, "create authorization code")
}

// RedeemAuthCode implements oauth2.CodeStore. In one transaction it sets
// redeemed_at where it is still NULL; the one caller whose UPDATE changed the
// row gets the code and nil. Every later caller records the first reuse
// (reuse_seen_at) and gets the code, with the tokens it produced, and
// ErrCodeUsed; that record is committed, so that RecordCodeTokens sees it.
func (s *Store) RedeemAuthCode(ctx context.Context, tenantID, codeHash string, now time.Time) (oauth2.AuthCode, error) {
	const what = "redeem authorization code"
	var (
		out  oauth2.AuthCode
		used bool
	)
	err := s.txn(ctx, what, writeErr, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*authCodeRow)(nil)).
			Set("redeemed_at = ?", nullTime(now)).
			Where("tenant_id = ?", tenantID).Where("code_hash = ?", codeHash).
			Where("redeemed_at IS NULL").
			Exec(ctx)
		won, err := oneAffected(res, err)
		if err != nil {
			return err
		}
		if !won {
			// Redeemed before, or unknown. The UPDATE also locks the row on
			// PostgreSQL until the reuse is committed.
			res, err := tx.NewUpdate().Model((*authCodeRow)(nil)).
				Set("reuse_seen_at = COALESCE(reuse_seen_at, ?)", nullTime(now)).
				Where("tenant_id = ?", tenantID).Where("code_hash = ?", codeHash).
				Exec(ctx)
			found, err := oneAffected(res, err)
			if err != nil {
				return err
			}
			if !found {
				return sentinel(oauth2.ErrNotFound, what)
			}
			used = true
		}
		row := new(authCodeRow)
		if err := tx.NewSelect().Model(row).
			Where("tenant_id = ?", tenantID).Where("code_hash = ?", codeHash).Scan(ctx); err != nil {
			return err
		}
		out = row.domain()
		return nil
	})
	if err != nil {
		return oauth2.AuthCode{}, err
	}
	if used {
		return out, sentinel(oauth2.ErrCodeUsed, what)
	}
	return out, nil
}

// RecordCodeTokens implements oauth2.CodeStore. In one transaction it stores
// the tokens a redeemed code produced and reads whether a reuse was recorded
// before; a reuse recorded after it reads these tokens instead (the row lock
// on PostgreSQL, BEGIN IMMEDIATE on SQLite, orders the two). ErrNotFound
// when the tenant has no such code.
func (s *Store) RecordCodeTokens(ctx context.Context, tenantID, codeHash, accessJTI string, accessExp time.Time, family string) (bool, error) {
	const what = "record code tokens"
	var reused bool
	err := s.txn(ctx, what, writeErr, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*authCodeRow)(nil)).
			Set("access_jti = ?", accessJTI).
			Set("access_exp = ?", nullTime(accessExp)).
			Set("refresh_family = ?", family).
			Where("tenant_id = ?", tenantID).Where("code_hash = ?", codeHash).
			Exec(ctx)
		if err := affectedOne(res, err, what); err != nil {
			return err
		}
		row := new(authCodeRow)
		if err := tx.NewSelect().Model(row).Column("reuse_seen_at").
			Where("tenant_id = ?", tenantID).Where("code_hash = ?", codeHash).Scan(ctx); err != nil {
			return err
		}
		reused = !row.ReuseSeenAt.IsZero()
		return nil
	})
	return reused, err
}

// PurgeAuthCodes implements oauth2.CodeStore: it deletes, for every tenant,
// the codes that expired before the given time, and returns how many it
// deleted.
func (s *Store) PurgeAuthCodes(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.NewDelete().Model((*authCodeRow)(nil)).Where("expires < ?", utc(before)).Exec(ctx)
	if err != nil {
		return 0, deleteErr(err, "purge authorization codes")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, deleteErr(err, "purge authorization codes")
	}
	return int(n), nil
}

// PurgeDeviceCodes implements oauth2.DeviceStore.
func (s *Store) PurgeDeviceCodes(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.NewDelete().Model((*deviceCodeRow)(nil)).Where("expires < ?", utc(before)).Exec(ctx)
	if err != nil {
		return 0, deleteErr(err, "purge device codes")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, deleteErr(err, "purge device codes")
	}
	return int(n), nil
}

// CreateDeviceCode implements oauth2.DeviceStore: ErrAlreadyExists when the
// tenant already has a device code with that hash or that user code.
func (s *Store) CreateDeviceCode(ctx context.Context, d oauth2.DeviceCode) error {
	_, err := s.db.NewInsert().Model(deviceCodeToRow(d)).Exec(ctx)
	return writeErr(err, "create device code")
}

// GetDeviceCode implements oauth2.DeviceStore.
func (s *Store) GetDeviceCode(ctx context.Context, tenantID, codeHash string) (oauth2.DeviceCode, error) {
	row := new(deviceCodeRow)
	if err := s.db.NewSelect().Model(row).
		Where("tenant_id = ?", tenantID).Where("code_hash = ?", codeHash).Scan(ctx); err != nil {
		return oauth2.DeviceCode{}, readErr(err, "get device code")
	}
	return row.domain(), nil
}

// GetDeviceCodeByUserCode implements oauth2.DeviceStore. The user code is
// matched exactly (byte-wise); normalizing what people type is the caller's.
func (s *Store) GetDeviceCodeByUserCode(ctx context.Context, tenantID, userCode string) (oauth2.DeviceCode, error) {
	row := new(deviceCodeRow)
	if err := s.db.NewSelect().Model(row).
		Where("tenant_id = ?", tenantID).Where("user_code = ?", userCode).Scan(ctx); err != nil {
		return oauth2.DeviceCode{}, readErr(err, "get device code by user code")
	}
	return row.domain(), nil
}

// UpdateDeviceCode implements oauth2.DeviceStore: a read-modify-write of
// the device code's row (update). TenantID and CodeHash cannot change; a
// user code taken by another device code of the tenant is
// ErrAlreadyExists. An error of change is returned as it is and writes
// nothing.
func (s *Store) UpdateDeviceCode(ctx context.Context, tenantID, codeHash string, change func(*oauth2.DeviceCode) error) (oauth2.DeviceCode, error) {
	row, err := update(ctx, s, "update device code",
		func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("tenant_id = ?", tenantID).Where("code_hash = ?", codeHash)
		},
		func(_ context.Context, _ bun.Tx, cur *deviceCodeRow) (*deviceCodeRow, error) {
			d := cur.domain()
			if err := change(&d); err != nil {
				return nil, keep(err)
			}
			d.TenantID, d.CodeHash = tenantID, codeHash
			return deviceCodeToRow(d), nil
		})
	if err != nil {
		return oauth2.DeviceCode{}, err
	}
	return row.domain(), nil
}

// GetTenantConfig implements oauth2.ConfigStore: ErrNotFound when the tenant
// has no configuration yet. A nil list or map comes back nil, an empty one
// empty.
func (s *Store) GetTenantConfig(ctx context.Context, tenantID string) (oauth2.TenantConfig, error) {
	row := new(tenantConfigRow)
	if err := s.db.NewSelect().Model(row).Where("tenant_id = ?", tenantID).Scan(ctx); err != nil {
		return oauth2.TenantConfig{}, readErr(err, "get tenant config")
	}
	return row.domain()
}

// tenantConfigColumns are the columns PutTenantConfig replaces.
var tenantConfigColumns = []string{
	"allowable_grant_types", "use_ldap", "use_token_webapp", "mfa_config",
	"default_access_ttl_ns", "default_refresh_ttl_ns", "max_access_ttl_ns", "max_refresh_ttl_ns",
	"custom_idp_configuration", "token_url", "impers_oauth_client_id", "impersadmin_username",
	"sealed_secrets", "updated",
}

// PutTenantConfig implements oauth2.ConfigStore: it creates the tenant's
// configuration or replaces every field of the existing one, in one
// statement.
func (s *Store) PutTenantConfig(ctx context.Context, c oauth2.TenantConfig) error {
	row, err := tenantConfigToRow(c)
	if err != nil {
		return err
	}
	q := s.db.NewInsert().Model(row).On("CONFLICT (tenant_id) DO UPDATE")
	for _, col := range tenantConfigColumns {
		q = q.Set("? = EXCLUDED.?", bun.Ident(col), bun.Ident(col))
	}
	_, err = q.Exec(ctx)
	return writeErr(err, "put tenant config")
}

// oneAffected reports whether a statement changed a row.
func oneAffected(res sql.Result, err error) (bool, error) {
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// nullTime is the value of a nullable time column: NULL for the zero time,
// else the stored form of t.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return utc(t)
}
