package bunstore

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/tenancy"
)

// CreateSite implements tenancy.SiteStore: ErrAlreadyExists when the id, the
// base URL or a non-empty tenant base URL template is taken.
func (s *Store) CreateSite(ctx context.Context, site tenancy.Site) error {
	row, err := siteToRow(site)
	if err != nil {
		return err
	}
	_, err = s.db.NewInsert().Model(row).Exec(ctx)
	return writeErr(err, "create site")
}

// GetSite implements tenancy.SiteStore.
func (s *Store) GetSite(ctx context.Context, id string) (tenancy.Site, error) {
	row := new(siteRow)
	if err := s.db.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
		return tenancy.Site{}, readErr(err, "get site")
	}
	return row.domain()
}

// ListSites implements tenancy.SiteStore, ordered by id.
func (s *Store) ListSites(ctx context.Context) ([]tenancy.Site, error) {
	var rows []siteRow
	if err := s.db.NewSelect().Model(&rows).Order("id").Scan(ctx); err != nil {
		return nil, readErr(err, "list sites")
	}
	out := make([]tenancy.Site, 0, len(rows))
	for i := range rows {
		site, err := rows[i].domain()
		if err != nil {
			return nil, err
		}
		out = append(out, site)
	}
	return out, nil
}

// DeleteSite implements tenancy.SiteStore: ErrInUse while a tenant belongs
// to the site.
func (s *Store) DeleteSite(ctx context.Context, id string) error {
	return s.deleteIfUnused(ctx, "delete site", (*siteRow)(nil), "id", id, "site_id")
}

// deleteIfUnused deletes the row of model whose key column equals id, in one
// transaction: ErrNotFound when there is none, ErrInUse while a tenant names
// it in one of refCols. The explicit check gives the answer; the foreign keys
// only back it up against a tenant written concurrently (PostgreSQL).
func (s *Store) deleteIfUnused(ctx context.Context, what string, model any, key, id string, refCols ...string) error {
	return s.txn(ctx, what, deleteErr, func(ctx context.Context, tx bun.Tx) error {
		found, err := tx.NewSelect().Model(model).Where("? = ?", bun.Ident(key), id).Exists(ctx)
		if err != nil {
			return err
		}
		if !found {
			return sentinel(tenancy.ErrNotFound, what)
		}
		q := tx.NewSelect().Model((*tenantRow)(nil))
		for _, col := range refCols {
			q = q.WhereOr("? = ?", bun.Ident(col), id)
		}
		used, err := q.Exists(ctx)
		if err != nil {
			return err
		}
		if used {
			return sentinel(tenancy.ErrInUse, what)
		}
		_, err = tx.NewDelete().Model(model).Where("? = ?", bun.Ident(key), id).Exec(ctx)
		return err
	})
}

// CreateTenant implements tenancy.TenantStore: ErrAlreadyExists when the id
// or base URL is taken, ErrNotFound when its site, owner or an LDAP object is
// missing. Nothing is written on error.
func (s *Store) CreateTenant(ctx context.Context, t tenancy.Tenant) error {
	row, err := tenantToRow(t)
	if err != nil {
		return err
	}
	return s.txn(ctx, "create tenant", writeErr, func(ctx context.Context, tx bun.Tx) error {
		dup, err := tx.NewSelect().Model((*tenantRow)(nil)).
			Where("id = ?", t.ID).WhereOr("base_url = ?", t.BaseURL).Exists(ctx)
		if err != nil {
			return err
		}
		if dup {
			return sentinel(tenancy.ErrAlreadyExists, "create tenant")
		}
		if err := checkTenantRefs(ctx, tx, t); err != nil {
			return err
		}
		_, err = tx.NewInsert().Model(row).Exec(ctx)
		return err
	})
}

// checkTenantRefs returns ErrNotFound, naming the reference, when the site,
// the owner or a set LDAP object of t does not exist.
func checkTenantRefs(ctx context.Context, db bun.IDB, t tenancy.Tenant) error {
	refs := []struct {
		what     string
		model    any
		key      string
		id       string
		optional bool
	}{
		{"tenant site", (*siteRow)(nil), "id", t.SiteID, false},
		{"tenant owner", (*ownerRow)(nil), "email", t.Owner, false},
		{"tenant service LDAP", (*ldapRow)(nil), "id", t.ServiceLDAPConnectionID, true},
		{"tenant user LDAP", (*ldapRow)(nil), "id", t.UserLDAPConnectionID, true},
	}
	for _, ref := range refs {
		if ref.optional && ref.id == "" {
			continue
		}
		ok, err := db.NewSelect().Model(ref.model).Where("? = ?", bun.Ident(ref.key), ref.id).Exists(ctx)
		if err != nil {
			return err
		}
		if !ok {
			return sentinel(tenancy.ErrNotFound, ref.what)
		}
	}
	return nil
}

// GetTenant implements tenancy.TenantStore.
func (s *Store) GetTenant(ctx context.Context, id string) (tenancy.Tenant, error) {
	row := new(tenantRow)
	if err := s.db.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
		return tenancy.Tenant{}, readErr(err, "get tenant")
	}
	return row.domain()
}

// ListTenants implements tenancy.TenantStore: the tenants whose status f
// includes, ordered by id.
func (s *Store) ListTenants(ctx context.Context, f tenancy.TenantFilter) ([]tenancy.Tenant, error) {
	var rows []tenantRow
	q := s.db.NewSelect().Model(&rows).Order("id")
	if !f.ShowDraft {
		q = q.Where("status <> ?", string(tenancy.StatusDraft))
	}
	if !f.ShowInactive {
		q = q.Where("status <> ?", string(tenancy.StatusInactive))
	}
	if err := q.Scan(ctx); err != nil {
		return nil, readErr(err, "list tenants")
	}
	out := make([]tenancy.Tenant, 0, len(rows))
	for i := range rows {
		t, err := rows[i].domain()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// UpdateTenant implements tenancy.TenantStore: a read-modify-write of the
// tenant's row (update) that also checks the references of the result and
// stores the returned history record when that record has updates. The id
// cannot change. An error of change is returned as it is and writes
// nothing.
func (s *Store) UpdateTenant(ctx context.Context, id string, change func(*tenancy.Tenant) (tenancy.TenantHistory, error)) (tenancy.Tenant, error) {
	row, err := update(ctx, s, "update tenant",
		func(q *bun.SelectQuery) *bun.SelectQuery { return q.Where("id = ?", id) },
		func(ctx context.Context, tx bun.Tx, cur *tenantRow) (*tenantRow, error) {
			t, err := cur.domain()
			if err != nil {
				return nil, err
			}
			h, err := change(&t)
			if err != nil {
				return nil, keep(err)
			}
			t.ID = id
			if err := checkTenantRefs(ctx, tx, t); err != nil {
				return nil, err
			}
			if len(h.Updates) > 0 {
				h.TenantID = id
				hrow, err := historyToRow(h)
				if err != nil {
					return nil, err
				}
				if _, err := tx.NewInsert().Model(hrow).Exec(ctx); err != nil {
					return nil, err
				}
			}
			return tenantToRow(t)
		})
	if err != nil {
		return tenancy.Tenant{}, err
	}
	return row.domain()
}

// TenantHistory implements tenancy.TenantStore: the records of tenant id,
// oldest first; an empty list for an unknown tenant.
func (s *Store) TenantHistory(ctx context.Context, id string) ([]tenancy.TenantHistory, error) {
	var rows []historyRow
	if err := s.db.NewSelect().Model(&rows).Where("tenant_id = ?", id).Order("seq").Scan(ctx); err != nil {
		return nil, readErr(err, "tenant history")
	}
	out := make([]tenancy.TenantHistory, 0, len(rows))
	for i := range rows {
		h, err := rows[i].domain()
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, nil
}

// CreateOwner implements tenancy.OwnerStore: ErrAlreadyExists when the email
// is taken.
func (s *Store) CreateOwner(ctx context.Context, o tenancy.Owner) error {
	_, err := s.db.NewInsert().Model(ownerToRow(o)).Exec(ctx)
	return writeErr(err, "create owner")
}

// GetOwner implements tenancy.OwnerStore.
func (s *Store) GetOwner(ctx context.Context, email string) (tenancy.Owner, error) {
	row := new(ownerRow)
	if err := s.db.NewSelect().Model(row).Where("email = ?", email).Scan(ctx); err != nil {
		return tenancy.Owner{}, readErr(err, "get owner")
	}
	return row.domain(), nil
}

// ListOwners implements tenancy.OwnerStore, ordered by email.
func (s *Store) ListOwners(ctx context.Context) ([]tenancy.Owner, error) {
	var rows []ownerRow
	if err := s.db.NewSelect().Model(&rows).Order("email").Scan(ctx); err != nil {
		return nil, readErr(err, "list owners")
	}
	out := make([]tenancy.Owner, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].domain())
	}
	return out, nil
}

// DeleteOwner implements tenancy.OwnerStore: ErrInUse while a tenant names
// the owner.
func (s *Store) DeleteOwner(ctx context.Context, email string) error {
	return s.deleteIfUnused(ctx, "delete owner", (*ownerRow)(nil), "email", email, "owner")
}

// CreateLDAP implements tenancy.LDAPStore: ErrAlreadyExists when the id is
// taken.
func (s *Store) CreateLDAP(ctx context.Context, l tenancy.LDAPConnection) error {
	_, err := s.db.NewInsert().Model(ldapToRow(l)).Exec(ctx)
	return writeErr(err, "create LDAP")
}

// GetLDAP implements tenancy.LDAPStore.
func (s *Store) GetLDAP(ctx context.Context, id string) (tenancy.LDAPConnection, error) {
	row := new(ldapRow)
	if err := s.db.NewSelect().Model(row).Where("id = ?", id).Scan(ctx); err != nil {
		return tenancy.LDAPConnection{}, readErr(err, "get LDAP")
	}
	return row.domain(), nil
}

// ListLDAPs implements tenancy.LDAPStore, ordered by id.
func (s *Store) ListLDAPs(ctx context.Context) ([]tenancy.LDAPConnection, error) {
	var rows []ldapRow
	if err := s.db.NewSelect().Model(&rows).Order("id").Scan(ctx); err != nil {
		return nil, readErr(err, "list LDAPs")
	}
	out := make([]tenancy.LDAPConnection, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].domain())
	}
	return out, nil
}

// DeleteLDAP implements tenancy.LDAPStore: ErrInUse while a tenant uses the
// object for users or services.
func (s *Store) DeleteLDAP(ctx context.Context, id string) error {
	return s.deleteIfUnused(ctx, "delete LDAP", (*ldapRow)(nil), "id", id,
		"service_ldap_connection_id", "user_ldap_connection_id")
}
