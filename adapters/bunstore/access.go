package bunstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/systems"
)

var _ systems.AccessStore = (*Store)(nil)

// Row structs of the permission and sharing tables (migration 0005). Neither
// table refers to systems: permissions and shares may name a system before
// it exists or after it is gone, and the service purges them itself.

// permRow is a row of system_perms: one permission of one user on one
// system.
type permRow struct {
	bun.BaseModel `bun:"table:system_perms,alias:acp"`

	Tenant   string `bun:"tenant,pk"`
	SystemID string `bun:"system_id,pk"`
	UserName string `bun:"user_name,pk"`
	Perm     string `bun:"perm,pk"`
}

// shareRow is a row of system_shares: a system shared with a grantee (a
// user or systems.PublicGrantee) by grantor, the first one to share it.
// loginRow is a row of system_login_users.
type loginRow struct {
	bun.BaseModel `bun:"table:system_login_users,alias:acl"`

	Tenant    string `bun:"tenant,pk"`
	SystemID  string `bun:"system_id,pk"`
	TapisUser string `bun:"tapis_user,pk"`
	LoginUser string `bun:"login_user"`
}

type shareRow struct {
	bun.BaseModel `bun:"table:system_shares,alias:acs"`

	Tenant   string    `bun:"tenant,pk"`
	SystemID string    `bun:"system_id,pk"`
	Grantee  string    `bun:"grantee,pk"`
	Grantor  string    `bun:"grantor"`
	Created  time.Time `bun:"created"`
}

// permNames checks perms and returns them unique, in canonical order;
// ErrInvalid names an unknown permission (the schema's CHECK constraint
// backs this up).
func permNames(what string, perms []systems.Permission) ([]string, error) {
	for _, p := range perms {
		if !slices.Contains(systems.AllPermissions(), p) {
			return nil, sentinel(systems.ErrInvalid, fmt.Sprintf("%s: unknown permission %q", what, p))
		}
	}
	out := make([]string, 0, len(systems.AllPermissions()))
	for _, p := range systems.AllPermissions() {
		if slices.Contains(perms, p) {
			out = append(out, string(p))
		}
	}
	return out, nil
}

// uniq returns the strings of l without repeats, in first-seen order.
func uniq(l []string) []string {
	seen := make(map[string]bool, len(l))
	out := make([]string, 0, len(l))
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// GrantPerms implements systems.AccessStore: one multi-row
// INSERT ... ON CONFLICT DO NOTHING, so permissions already held stay and
// concurrent grants of the same permission both succeed. ErrInvalid for a
// permission other than READ, MODIFY and EXECUTE, before anything is
// written.
func (s *Store) GrantPerms(ctx context.Context, tenant, systemID, user string, perms []systems.Permission) error {
	const what = "grant system permissions"
	names, err := permNames(what, perms)
	if err != nil || len(names) == 0 {
		return err
	}
	rows := make([]permRow, 0, len(names))
	for _, p := range names {
		rows = append(rows, permRow{Tenant: tenant, SystemID: systemID, UserName: user, Perm: p})
	}
	_, err = s.db.NewInsert().Model(&rows).
		On("CONFLICT (tenant, system_id, user_name, perm) DO NOTHING").Exec(ctx)
	return writeErr(err, what)
}

// RevokePerms implements systems.AccessStore: permissions the user does not
// hold are ignored; ErrInvalid for an unknown permission, as GrantPerms.
func (s *Store) RevokePerms(ctx context.Context, tenant, systemID, user string, perms []systems.Permission) error {
	const what = "revoke system permissions"
	names, err := permNames(what, perms)
	if err != nil || len(names) == 0 {
		return err
	}
	_, err = s.db.NewDelete().Model((*permRow)(nil)).
		Where("tenant = ?", tenant).Where("system_id = ?", systemID).
		Where("user_name = ?", user).Where("perm IN (?)", bun.List(names)).Exec(ctx)
	return deleteErr(err, what)
}

// UserPerms implements systems.AccessStore: the user's permissions in the
// canonical order of systems.AllPermissions(), an empty (non-nil) list when
// there are none.
func (s *Store) UserPerms(ctx context.Context, tenant, systemID, user string) ([]systems.Permission, error) {
	var held []string
	if err := s.selectInto(ctx, &held, s.q.userPerms, tenant, systemID, user); err != nil {
		return nil, readErr(err, "get system permissions")
	}
	out := []systems.Permission{}
	for _, p := range systems.AllPermissions() {
		if slices.Contains(held, string(p)) {
			out = append(out, p)
		}
	}
	return out, nil
}

// PurgeSystemPerms implements systems.AccessStore: every user's permissions
// on the system go; its shares stay.
func (s *Store) PurgeSystemPerms(ctx context.Context, tenant, systemID string) error {
	_, err := s.db.NewDelete().Model((*permRow)(nil)).
		Where("tenant = ?", tenant).Where("system_id = ?", systemID).Exec(ctx)
	return deleteErr(err, "purge system permissions")
}

// AddShares implements systems.AccessStore: one multi-row
// INSERT ... ON CONFLICT DO NOTHING, so an existing share keeps its first
// grantor and creation time.
func (s *Store) AddShares(ctx context.Context, tenant, systemID, grantor string, grantees []string) error {
	grantees = uniq(grantees)
	if len(grantees) == 0 {
		return nil
	}
	now := utc(time.Now())
	rows := make([]shareRow, 0, len(grantees))
	for _, g := range grantees {
		rows = append(rows, shareRow{Tenant: tenant, SystemID: systemID, Grantee: g, Grantor: grantor, Created: now})
	}
	_, err := s.db.NewInsert().Model(&rows).
		On("CONFLICT (tenant, system_id, grantee) DO NOTHING").Exec(ctx)
	return writeErr(err, "share system")
}

// RemoveShares implements systems.AccessStore: the shares with grantees go,
// whoever granted them; grantees the system is not shared with are ignored.
func (s *Store) RemoveShares(ctx context.Context, tenant, systemID string, grantees []string) error {
	grantees = uniq(grantees)
	if len(grantees) == 0 {
		return nil
	}
	_, err := s.db.NewDelete().Model((*shareRow)(nil)).
		Where("tenant = ?", tenant).Where("system_id = ?", systemID).
		Where("grantee IN (?)", bun.List(grantees)).Exec(ctx)
	return deleteErr(err, "unshare system")
}

// Shares implements systems.AccessStore: the system's shares ordered by
// grantee (byte order), an empty (non-nil) list when there are none.
func (s *Store) Shares(ctx context.Context, tenant, systemID string) ([]systems.Share, error) {
	var rows []shareRow
	if err := s.selectInto(ctx, &rows, s.q.shares, tenant, systemID); err != nil {
		return nil, readErr(err, "list system shares")
	}
	out := make([]systems.Share, 0, len(rows))
	for _, r := range rows {
		out = append(out, systems.Share{Grantee: r.Grantee, Grantor: r.Grantor})
	}
	return out, nil
}

// SharesOf implements systems.AccessStore: one prepared query for every
// system named (the ids bound as one JSON array).
func (s *Store) SharesOf(ctx context.Context, tenant string, systemIDs []string) (map[string][]systems.Share, error) {
	out := map[string][]systems.Share{}
	ids := uniq(systemIDs)
	if len(ids) == 0 {
		return out, nil
	}
	var rows []shareRow
	if err := s.selectInto(ctx, &rows, s.q.sharesOf, tenant, idsArg(ids)); err != nil {
		return nil, readErr(err, "list system shares")
	}
	for _, r := range rows {
		out[r.SystemID] = append(out[r.SystemID], systems.Share{Grantee: r.Grantee, Grantor: r.Grantor})
	}
	return out, nil
}

// accessibleSystemsSQL lists, once each and in byte order, the systems on
// which a user holds READ or MODIFY or that are shared with the user or
// publicly. Each branch is scoped by tenant and reads a covering index of
// migration 0005. The branches are joined with UNION ALL and deduplicated
// outside: with a plain UNION, SQLite merges the branches in system_id order
// and so walks the whole tenant's rows through the primary key instead. The
// output keeps the COLLATE "C" of the source columns on PostgreSQL.
const accessibleSystemsSQL = `SELECT DISTINCT system_id FROM (
	SELECT system_id FROM system_perms
		WHERE tenant = ? AND user_name = ? AND perm IN (?)
	UNION ALL
	SELECT system_id FROM system_shares
		WHERE tenant = ? AND grantee IN (?)
) AS accessible
ORDER BY system_id`

// AccessibleSystems implements systems.AccessStore: EXECUTE alone does not
// make a system accessible.
func (s *Store) AccessibleSystems(ctx context.Context, tenant, user string) ([]string, error) {
	var ids []string
	err := s.db.NewRaw(accessibleSystemsSQL,
		tenant, user, bun.List([]string{string(systems.PermRead), string(systems.PermModify)}),
		tenant, bun.List(uniq([]string{user, systems.PublicGrantee})),
	).Scan(ctx, &ids)
	if err != nil {
		return nil, readErr(err, "list accessible systems")
	}
	return nonNil(ids), nil
}

// PublicSystems implements systems.AccessStore: the systems shared with
// systems.PublicGrantee, in byte order.
func (s *Store) PublicSystems(ctx context.Context, tenant string) ([]string, error) {
	var ids []string
	err := s.db.NewSelect().Model((*shareRow)(nil)).Column("system_id").
		Where("tenant = ?", tenant).Where("grantee = ?", systems.PublicGrantee).
		Order("system_id").Scan(ctx, &ids)
	if err != nil {
		return nil, readErr(err, "list public systems")
	}
	return nonNil(ids), nil
}

// SetLoginUser implements systems.AccessStore: insert or replace the
// mapping; an empty login removes it.
func (s *Store) SetLoginUser(ctx context.Context, tenant, systemID, tapisUser, loginUser string) error {
	if loginUser == "" {
		_, err := s.db.NewDelete().Model((*loginRow)(nil)).Where("tenant = ?", tenant).
			Where("system_id = ?", systemID).Where("tapis_user = ?", tapisUser).Exec(ctx)
		return deleteErr(err, "remove login user")
	}
	row := &loginRow{Tenant: tenant, SystemID: systemID, TapisUser: tapisUser, LoginUser: loginUser}
	_, err := s.db.NewInsert().Model(row).
		On("CONFLICT (tenant, system_id, tapis_user) DO UPDATE").Set("login_user = EXCLUDED.login_user").Exec(ctx)
	return writeErr(err, "set login user")
}

// LoginUser implements systems.AccessStore ("" when none is mapped).
func (s *Store) LoginUser(ctx context.Context, tenant, systemID, tapisUser string) (string, error) {
	var logins []string
	if err := s.selectInto(ctx, &logins, s.q.loginUser, tenant, systemID, tapisUser); err != nil {
		return "", readErr(err, "read login user")
	}
	if len(logins) == 0 {
		return "", nil
	}
	return logins[0], nil
}

// LoginUsers implements systems.AccessStore: one prepared query for every
// system named.
func (s *Store) LoginUsers(ctx context.Context, tenant, tapisUser string, systemIDs []string) (map[string]string, error) {
	out := map[string]string{}
	ids := uniq(systemIDs)
	if len(ids) == 0 {
		return out, nil
	}
	var rows []loginRow
	if err := s.selectInto(ctx, &rows, s.q.loginUsers, tenant, tapisUser, idsArg(ids)); err != nil {
		return nil, readErr(err, "read login users")
	}
	for _, r := range rows {
		out[r.SystemID] = r.LoginUser
	}
	return out, nil
}
