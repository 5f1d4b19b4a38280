package bunstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/systems"
)

// Started Globus authorizations (systems.GlobusSessionStore, the table of
// migration 0008). Every statement names the tenant, except
// PurgeGlobusSessions, whose contract is to sweep every tenant.

var _ systems.GlobusSessionStore = (*globusSessions)(nil)

// globusSessionRow is a row of globus_sessions. Sealed is the envelope of
// the PKCE verifier.
type globusSessionRow struct {
	bun.BaseModel `bun:"table:globus_sessions,alias:gs"`

	TenantID   string    `bun:"tenant_id,pk"`
	ID         string    `bun:"id,pk"`
	SystemID   string    `bun:"system_id"`
	UserName   string    `bun:"user_name"`
	Collection string    `bun:"collection"`
	Sealed     []byte    `bun:"sealed"`
	KEKID      string    `bun:"kek_id"`
	Created    time.Time `bun:"created"`
	Expires    time.Time `bun:"expires"`
}

// globusSessionAADLabel separates the associated data of session verifiers
// from every other use of the KEK.
const globusSessionAADLabel = "tapis-globus-session-v1"

// globusSessionAAD binds a sealed verifier to its session: the label, then
// tenant, id, system, user and collection, each preceded by its length.
func globusSessionAAD(s systems.GlobusSession) []byte {
	b := []byte(globusSessionAADLabel)
	for _, p := range []string{s.Tenant, s.ID, s.SystemID, s.User, s.Collection} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// GlobusSessions returns the store of started Globus authorizations on the
// store's database. Each verifier is sealed by sealer (as credentials are:
// a fresh data key, wrapped by the current KEK, bound to the session's
// tenant, id, system, user and collection). Sessions live minutes, so KEK
// rotation needs no re-wrap: keep the previous KEK configured for
// systems.GlobusSessionTTL.
func (s *Store) GlobusSessions(sealer *seal.Sealer) systems.GlobusSessionStore {
	if sealer == nil {
		panic("bunstore: GlobusSessions needs a sealer")
	}
	return &globusSessions{s: s, sealer: sealer}
}

type globusSessions struct {
	s      *Store
	sealer *seal.Sealer
}

// PutGlobusSession implements systems.GlobusSessionStore.
func (g *globusSessions) PutGlobusSession(ctx context.Context, gs systems.GlobusSession) error {
	sealed, err := g.sealer.Seal([]byte(gs.Verifier), globusSessionAAD(gs))
	if err != nil {
		return fmt.Errorf("bunstore: put Globus session: %w", err)
	}
	row := &globusSessionRow{TenantID: gs.Tenant, ID: gs.ID, SystemID: gs.SystemID, UserName: gs.User,
		Collection: gs.Collection, Sealed: sealed, KEKID: g.sealer.CurrentKeyID(), Created: utc(gs.Created), Expires: utc(gs.Expires)}
	_, err = g.s.db.NewInsert().Model(row).Returning("NULL").Exec(ctx)
	return writeErr(err, "put Globus session")
}

// TakeGlobusSession implements systems.GlobusSessionStore: in one
// transaction it reads the row matching the whole key and deletes it; the
// delete decides between concurrent takers.
func (g *globusSessions) TakeGlobusSession(ctx context.Context, k systems.GlobusSessionKey) (systems.GlobusSession, error) {
	const what = "take Globus session"
	var out systems.GlobusSession
	err := g.s.txn(ctx, what, writeErr, func(ctx context.Context, tx bun.Tx) error {
		row := new(globusSessionRow)
		match := func(q bun.QueryBuilder) bun.QueryBuilder {
			return q.Where("tenant_id = ?", k.Tenant).Where("id = ?", k.ID).
				Where("system_id = ?", k.SystemID).Where("user_name = ?", k.User)
		}
		if err := tx.NewSelect().Model(row).ApplyQueryBuilder(match).Scan(ctx); err != nil {
			return err // sql.ErrNoRows: ErrNotFound
		}
		res, err := tx.NewDelete().Model((*globusSessionRow)(nil)).ApplyQueryBuilder(match).Exec(ctx)
		won, err := oneAffected(res, err)
		if err != nil {
			return err
		}
		if !won {
			return sentinel(systems.ErrNotFound, what) // another taker was first
		}
		out = systems.GlobusSession{ID: row.ID, Tenant: row.TenantID, SystemID: row.SystemID, User: row.UserName,
			Collection: row.Collection, Created: utc(row.Created), Expires: utc(row.Expires)}
		plain, err := g.sealer.Open(row.Sealed, globusSessionAAD(out))
		if err != nil {
			return keep(fmt.Errorf("bunstore: %s: the stored verifier does not open "+
				"(moved from another row, altered, or sealed under a KEK this server does not have): %w", what, err))
		}
		out.Verifier = string(plain)
		clear(plain)
		return nil
	})
	if err != nil {
		return systems.GlobusSession{}, err
	}
	return out, nil
}

// PurgeGlobusSessions implements systems.GlobusSessionStore.
func (g *globusSessions) PurgeGlobusSessions(ctx context.Context, before time.Time) (int, error) {
	res, err := g.s.db.NewDelete().Model((*globusSessionRow)(nil)).Where("expires < ?", utc(before)).Exec(ctx)
	if err != nil {
		return 0, deleteErr(err, "purge Globus sessions")
	}
	n, err := res.RowsAffected()
	return int(n), err
}
