package bunstore

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/seal"
)

// The credential vault, pinned host keys and the credential audit (tables of
// migration 0004). Every statement names the tenant in its WHERE clause (or
// its inserted key), except RewrapCredentials and PurgeCredentialAudit,
// whose contract is to sweep every tenant.

var (
	_ hostcheck.HostKeys  = (*Store)(nil)
	_ credentials.Auditor = (*Store)(nil)
	_ credentials.Vault   = (*credentialVault)(nil)
)

// credentialRow is a row of credentials. Sealed is the envelope of the
// credential's JSON without Updated, which is not secret and lives in its
// own column.
type credentialRow struct {
	bun.BaseModel `bun:"table:credentials,alias:cred"`

	TenantID string    `bun:"tenant_id,pk"`
	SystemID string    `bun:"system_id,pk"`
	UserName string    `bun:"user_name,pk"`
	Sealed   []byte    `bun:"sealed"`
	KEKID    string    `bun:"kek_id"`
	Updated  time.Time `bun:"updated,nullzero"`
}

// hostKeyRow is a row of host_keys.
type hostKeyRow struct {
	bun.BaseModel `bun:"table:host_keys,alias:hk"`

	TenantID string    `bun:"tenant_id,pk"`
	SystemID string    `bun:"system_id,pk"`
	HostKey  string    `bun:"host_key"`
	Created  time.Time `bun:"created"`
}

// auditRow is a row of credential_audit; Seq orders the records.
type auditRow struct {
	bun.BaseModel `bun:"table:credential_audit,alias:ca"`

	Seq        int64     `bun:"seq,pk,autoincrement"`
	At         time.Time `bun:"at"`
	TenantID   string    `bun:"tenant_id"`
	JWTTenant  string    `bun:"jwt_tenant"`
	JWTUser    string    `bun:"jwt_user"`
	OboUser    string    `bun:"obo_user"`
	SystemID   string    `bun:"system_id"`
	TargetUser string    `bun:"target_user"`
	Action     string    `bun:"action"`
	Result     string    `bun:"result"`
}

// credentialAADLabel separates the associated data of credentials from any
// other use of the same KEK (signing keys, client secrets).
const credentialAADLabel = "tapis-credential-v1"

// credentialAAD binds a sealed credential to its row: the label, then
// tenant, system and user, each preceded by its length in bytes, so that no
// two keys share associated data ("a|b","c" and "a","b|c" differ).
func credentialAAD(k credentials.Key) []byte {
	b := make([]byte, 0, len(credentialAADLabel)+12+len(k.Tenant)+len(k.SystemID)+len(k.User))
	b = append(b, credentialAADLabel...)
	for _, p := range []string{k.Tenant, k.SystemID, k.User} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// Vault returns the credential vault on the store's database. Every
// credential is sealed by sealer (a fresh data key per record, wrapped by the
// sealer's current KEK, bound to tenant, system and user) before it reaches
// the database, and opened with any KEK the sealer knows. A sealed value
// moved to another row, tampered with, or sealed under a KEK the sealer does
// not know fails to open: GetCredential then returns an error wrapping
// seal.ErrOpen, never another secret.
func (s *Store) Vault(sealer *seal.Sealer) credentials.Vault {
	if sealer == nil {
		panic("bunstore: Vault needs a sealer")
	}
	return &credentialVault{s: s, sealer: sealer}
}

type credentialVault struct {
	s      *Store
	sealer *seal.Sealer
}

// PutCredential implements credentials.Vault: it replaces the whole set
// stored under k.
func (v *credentialVault) PutCredential(ctx context.Context, k credentials.Key, c credentials.Credential) error {
	updated := utc(c.Updated)
	c.Updated = time.Time{}
	c.AccessTokenExpires = utc(c.AccessTokenExpires)
	plain, err := json.Marshal(c)
	if err != nil {
		return errors.New("bunstore: put credential: cannot encode the credential")
	}
	sealed, err := v.sealer.Seal(plain, credentialAAD(k))
	clear(plain)
	if err != nil {
		return fmt.Errorf("bunstore: put credential: %w", err)
	}
	row := &credentialRow{TenantID: k.Tenant, SystemID: k.SystemID, UserName: k.User, Sealed: sealed,
		KEKID: v.sealer.CurrentKeyID(), Updated: updated}
	_, err = v.s.db.NewInsert().Model(row).
		On("CONFLICT (tenant_id, system_id, user_name) DO UPDATE").
		Set("sealed = EXCLUDED.sealed").
		Set("kek_id = EXCLUDED.kek_id").
		Set("updated = EXCLUDED.updated").
		Exec(ctx)
	return writeErr(err, "put credential")
}

// GetCredential implements credentials.Vault.
func (v *credentialVault) GetCredential(ctx context.Context, k credentials.Key) (credentials.Credential, error) {
	row := new(credentialRow)
	if err := v.s.db.NewSelect().Model(row).
		Where("tenant_id = ?", k.Tenant).Where("system_id = ?", k.SystemID).Where("user_name = ?", k.User).
		Scan(ctx); err != nil {
		return credentials.Credential{}, readErr(err, "get credential")
	}
	plain, err := v.sealer.Open(row.Sealed, credentialAAD(k))
	if err != nil {
		return credentials.Credential{}, fmt.Errorf("bunstore: get credential: the stored value does not open "+
			"(moved from another row, altered, or sealed under a KEK this server does not have): %w", err)
	}
	defer clear(plain)
	var c credentials.Credential
	if err := json.Unmarshal(plain, &c); err != nil {
		// json's message can quote the plaintext: not wrapped.
		return credentials.Credential{}, errors.New("bunstore: get credential: the opened value is no credential")
	}
	c.Updated = utc(row.Updated)
	c.AccessTokenExpires = utc(c.AccessTokenExpires)
	return c, nil
}

// DeleteCredential implements credentials.Vault; a missing key is no error.
func (v *credentialVault) DeleteCredential(ctx context.Context, k credentials.Key) error {
	_, err := v.s.db.NewDelete().Model((*credentialRow)(nil)).
		Where("tenant_id = ?", k.Tenant).Where("system_id = ?", k.SystemID).Where("user_name = ?", k.User).
		Exec(ctx)
	return deleteErr(err, "delete credential")
}

// rewrapBatch is how many credentials RewrapCredentials reads at a time.
const rewrapBatch = 200

// RewrapCredentials re-wraps, under sealer's current KEK, the data key of
// every stored credential (of every tenant) that an older KEK wraps, leaving
// the encrypted data as it is; afterwards the older KEKs can be dropped from
// the configuration. It returns how many records it re-wrapped. A record
// that none of sealer's KEKs opens is left as it is and reported in the error
// (by key, never by value) after the others are done. A record replaced by a
// concurrent PutCredential is skipped: the put sealed it under the current
// KEK. Running it again is a no-op.
func (s *Store) RewrapCredentials(ctx context.Context, sealer *seal.Sealer) (int, error) {
	cur := sealer.CurrentKeyID()
	var (
		n      int
		failed []credentials.Key
		after  *credentialRow
	)
	for {
		var rows []credentialRow
		q := s.db.NewSelect().Model(&rows).Where("kek_id <> ?", cur).
			Order("tenant_id", "system_id", "user_name").Limit(rewrapBatch)
		if after != nil {
			q = q.Where("(tenant_id, system_id, user_name) > (?, ?, ?)", after.TenantID, after.SystemID, after.UserName)
		}
		if err := q.Scan(ctx); err != nil {
			return n, readErr(err, "rewrap credentials")
		}
		if len(rows) == 0 {
			break
		}
		for i := range rows {
			r := &rows[i]
			after = r
			if !sealer.NeedsRewrap(r.Sealed) {
				// Only the kek_id column is stale.
				if _, err := s.db.NewUpdate().Model((*credentialRow)(nil)).Set("kek_id = ?", cur).
					Where("tenant_id = ?", r.TenantID).Where("system_id = ?", r.SystemID).
					Where("user_name = ?", r.UserName).Where("sealed = ?", r.Sealed).Exec(ctx); err != nil {
					return n, writeErr(err, "rewrap credentials")
				}
				continue
			}
			re, err := sealer.Rewrap(r.Sealed)
			if err != nil {
				failed = append(failed, credentials.Key{Tenant: r.TenantID, SystemID: r.SystemID, User: r.UserName})
				continue
			}
			res, err := s.db.NewUpdate().Model((*credentialRow)(nil)).
				Set("sealed = ?", re).Set("kek_id = ?", cur).
				Where("tenant_id = ?", r.TenantID).Where("system_id = ?", r.SystemID).
				Where("user_name = ?", r.UserName).Where("sealed = ?", r.Sealed).Exec(ctx)
			if err != nil {
				return n, writeErr(err, "rewrap credentials")
			}
			if affected, err := res.RowsAffected(); err == nil && affected == 1 {
				n++
			}
		}
		if len(rows) < rewrapBatch {
			break
		}
	}
	if len(failed) > 0 {
		f := failed[0]
		return n, fmt.Errorf("bunstore: rewrap credentials: %d records do not open with the configured KEKs (the first: tenant %q, system %q, user %q): %w",
			len(failed), f.Tenant, f.SystemID, f.User, seal.ErrOpen)
	}
	return n, nil
}

// HostKey implements hostcheck.HostKeys: the pinned key, "" when none.
func (s *Store) HostKey(ctx context.Context, tenant, systemID string) (string, error) {
	var key string
	err := s.db.NewSelect().Model((*hostKeyRow)(nil)).Column("host_key").
		Where("tenant_id = ?", tenant).Where("system_id = ?", systemID).Scan(ctx, &key)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", readErr(err, "get host key")
	}
	return key, nil
}

// PinHostKey implements hostcheck.HostKeys. The first pin wins: pinning the
// pinned key again is no error, pinning another is
// hostcheck.ErrHostKeyMismatch and keeps the first.
func (s *Store) PinHostKey(ctx context.Context, tenant, systemID, key string) error {
	if key == "" {
		return fmt.Errorf("bunstore: pin host key: empty key: %w", credentials.ErrInvalid)
	}
	// A pin deleted between the insert and the read lets the next round
	// insert; three rounds are plenty.
	for range 3 {
		res, err := s.db.NewInsert().Model(&hostKeyRow{TenantID: tenant, SystemID: systemID, HostKey: key,
			Created: utc(time.Now())}).On("CONFLICT (tenant_id, system_id) DO NOTHING").Exec(ctx)
		if err != nil {
			return writeErr(err, "pin host key")
		}
		if affected, err := res.RowsAffected(); err == nil && affected == 1 {
			return nil
		}
		cur, err := s.HostKey(ctx, tenant, systemID)
		if err != nil {
			return err
		}
		switch cur {
		case "":
			continue
		case key:
			return nil
		default:
			return fmt.Errorf("bunstore: pin host key: another key is pinned: %w", hostcheck.ErrHostKeyMismatch)
		}
	}
	return errors.New("bunstore: pin host key: the pin keeps changing")
}

// DeleteHostKey forgets the pinned key of a system (the system is deleted,
// or an administrator accepts a changed key); a missing pin is no error.
func (s *Store) DeleteHostKey(ctx context.Context, tenant, systemID string) error {
	_, err := s.db.NewDelete().Model((*hostKeyRow)(nil)).
		Where("tenant_id = ?", tenant).Where("system_id = ?", systemID).Exec(ctx)
	return deleteErr(err, "delete host key")
}

// Audit implements credentials.Auditor: it appends r to credential_audit.
func (s *Store) Audit(ctx context.Context, r credentials.AuditRecord) error {
	row := &auditRow{At: utc(r.Time), TenantID: r.Tenant, JWTTenant: r.JWTTenant, JWTUser: r.JWTUser,
		OboUser: r.OboUser, SystemID: r.SystemID, TargetUser: r.TargetUser, Action: r.Action, Result: r.Result}
	_, err := s.db.NewInsert().Model(row).Exec(ctx)
	return writeErr(err, "audit credential access")
}

// defaultAuditLimit bounds CredentialAudit when the caller gives no limit.
const defaultAuditLimit = 100

// CredentialAudit returns the newest audit records of tenant, at most limit
// (<= 0: 100), oldest first.
func (s *Store) CredentialAudit(ctx context.Context, tenant string, limit int) ([]credentials.AuditRecord, error) {
	if limit <= 0 {
		limit = defaultAuditLimit
	}
	var rows []auditRow
	if err := s.db.NewSelect().Model(&rows).Where("tenant_id = ?", tenant).
		OrderExpr("seq DESC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, readErr(err, "read credential audit")
	}
	slices.Reverse(rows)
	out := make([]credentials.AuditRecord, 0, len(rows))
	for _, r := range rows {
		out = append(out, credentials.AuditRecord{Time: utc(r.At), Tenant: r.TenantID, JWTTenant: r.JWTTenant,
			JWTUser: r.JWTUser, OboUser: r.OboUser, SystemID: r.SystemID, TargetUser: r.TargetUser,
			Action: r.Action, Result: r.Result})
	}
	return out, nil
}

// PurgeCredentialAudit deletes the audit records (of every tenant) older
// than before and returns how many it deleted.
func (s *Store) PurgeCredentialAudit(ctx context.Context, before time.Time) (int, error) {
	res, err := s.db.NewDelete().Model((*auditRow)(nil)).Where("at < ?", utc(before)).Exec(ctx)
	if err != nil {
		return 0, deleteErr(err, "purge credential audit")
	}
	n, err := res.RowsAffected()
	return int(n), err
}
