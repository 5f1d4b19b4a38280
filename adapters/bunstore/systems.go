package bunstore

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

var _ systems.Store = (*Store)(nil)

// CreateSystem implements systems.Store: it inserts s at version 1 and its
// history record in one transaction. ErrAlreadyExists when the id is taken
// in the tenant, deleted systems included; ErrInvalid when the record is not
// the system's (its Tenant or SystemID differ).
func (s *Store) CreateSystem(ctx context.Context, sys systems.System, h systems.HistoryRecord) error {
	const what = "create system"
	if h.Tenant != sys.Tenant || h.SystemID != sys.ID {
		return sentinel(systems.ErrInvalid, what+": history record of another system")
	}
	row, err := systemToRow(sys)
	if err != nil {
		return err
	}
	row.Version = 1
	hist := systemHistoryToRow(h)
	return s.txn(ctx, what, writeErr, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(row).Returning("NULL").Exec(ctx); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(hist).Returning("NULL").Exec(ctx)
		return err
	})
}

// PurgeSystem implements systems.Store: it deletes the system and its
// history in one transaction (explicitly: the ON DELETE CASCADE of the
// foreign key only backs it up); ErrNotFound when there is no such system.
func (s *Store) PurgeSystem(ctx context.Context, tenant, id string) error {
	const what = "purge system"
	return s.txn(ctx, what, deleteErr, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewDelete().Model((*systemHistoryRow)(nil)).
			Where("tenant = ?", tenant).Where("system_id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*systemRow)(nil)).
			Where("tenant = ?", tenant).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return sentinel(systems.ErrNotFound, what)
		}
		return nil
	})
}

// GetSystem implements systems.Store (one prepared point read).
func (s *Store) GetSystem(ctx context.Context, tenant, id string) (systems.System, error) {
	var rows []systemRow
	if err := s.selectInto(ctx, &rows, s.q.getSystem, tenant, id); err != nil {
		return systems.System{}, readErr(err, "get system")
	}
	if len(rows) == 0 {
		return systems.System{}, readErr(sql.ErrNoRows, "get system")
	}
	return rows[0].domain()
}

// SaveSystems implements systems.Store. Every system and record must be of
// tenant (ErrInvalid otherwise, before anything is written). Then, in one
// transaction, each system is written with
//
//	UPDATE systems SET ..., version = version + 1
//	WHERE tenant = ? AND id = ? AND version = ?
//
// and the history records are inserted after them. A system that matches no
// row rolls everything back: ErrNotFound when no such system exists in the
// tenant, else ErrConflict (its version moved on, or it came twice in the
// batch). So does a record of a system absent from the tenant (ErrNotFound).
func (s *Store) SaveSystems(ctx context.Context, tenant string, list []systems.System, history []systems.HistoryRecord) error {
	const what = "save systems"
	rows := make([]*systemRow, 0, len(list))
	saved := make(map[string]bool, len(list))
	for _, sys := range list {
		if sys.Tenant != tenant {
			return sentinel(systems.ErrInvalid, what+": system of another tenant")
		}
		row, err := systemToRow(sys)
		if err != nil {
			return err
		}
		rows = append(rows, row)
		saved[sys.ID] = true
	}
	hists := make([]*systemHistoryRow, 0, len(history))
	var others []string // systems the records name that the batch does not save
	for _, h := range history {
		if h.Tenant != tenant {
			return sentinel(systems.ErrInvalid, what+": history record of another tenant")
		}
		hists = append(hists, systemHistoryToRow(h))
		if !saved[h.SystemID] && !slices.Contains(others, h.SystemID) {
			others = append(others, h.SystemID)
		}
	}
	if len(rows) == 0 && len(hists) == 0 {
		return nil
	}
	// Rows are locked in id order, so that two batches sharing systems
	// (a parent and its children) cannot deadlock on PostgreSQL; the same id
	// twice keeps its order and conflicts.
	slices.SortStableFunc(rows, func(a, b *systemRow) int { return strings.Compare(a.ID, b.ID) })
	return s.txn(ctx, what, writeErr, func(ctx context.Context, tx bun.Tx) error {
		for _, row := range rows {
			if err := updateSystem(ctx, tx, row); err != nil {
				return err
			}
		}
		if len(hists) == 0 {
			return nil
		}
		if err := systemsExist(ctx, tx, tenant, others); err != nil {
			return err
		}
		// One multi-row INSERT keeps the records in slice order (seq is
		// assigned row by row).
		_, err := tx.NewInsert().Model(&hists).Returning("NULL").Exec(ctx)
		return err
	})
}

// systemsExist returns ErrNotFound unless every id names a system of the
// tenant. The foreign key of system_history backs this check up.
func systemsExist(ctx context.Context, db bun.IDB, tenant string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	n, err := db.NewSelect().Model((*systemRow)(nil)).
		Where("tenant = ?", tenant).Where("id IN (?)", bun.List(ids)).Count(ctx)
	if err != nil {
		return err
	}
	if n != int64(len(ids)) {
		return sentinel(systems.ErrNotFound, "system history: no such system")
	}
	return nil
}

// updateSystem writes one system at the version it was read at.
func updateSystem(ctx context.Context, tx bun.Tx, row *systemRow) error {
	res, err := tx.NewUpdate().Model(row).
		ExcludeColumn("tenant", "id", "version").
		Set("version = version + 1").
		Where("tenant = ?", row.Tenant).
		Where("id = ?", row.ID).
		Where("version = ?", row.Version).
		Exec(ctx)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	found, err := tx.NewSelect().Model((*systemRow)(nil)).
		Where("tenant = ?", row.Tenant).Where("id = ?", row.ID).Exists(ctx)
	if err != nil {
		return err
	}
	if !found {
		return sentinel(systems.ErrNotFound, fmt.Sprintf("save system %q", row.ID))
	}
	return sentinel(systems.ErrConflict, fmt.Sprintf("save system %q: stored version is not %d", row.ID, row.Version))
}

// ListSystems implements systems.Store: the tenant's systems matching f,
// ordered by id. A non-nil empty f.IDs matches nothing. With f.Fields only
// the columns of those attributes are read (the rest stay zero), which
// spares scanning and decoding the JSON columns of a summary listing.
//
// The query is written with placeholders: on SQLite it is prepared and
// kept by its text (its shape: the values vary, the text does not); on
// PostgreSQL it is bound, not prepared,
// because a search's plan depends on its values (a LIKE prefix, a rare
// owner).
func (s *Store) ListSystems(ctx context.Context, tenant string, f systems.ListFilter) ([]systems.System, error) {
	if (f.IDs != nil && len(f.IDs) == 0) || (f.Visible != nil && f.Visible.Owner == "" && len(f.Visible.IDs) == 0) {
		return []systems.System{}, nil
	}
	where, args := s.whereSystems(tenant, f)
	var b strings.Builder
	b.WriteString("SELECT ")
	b.WriteString(s.systemColumns(f.Fields))
	b.WriteString(" FROM systems WHERE ")
	b.WriteString(where)
	b.WriteString(" ORDER BY ")
	if order := search.OrderSQL(f.Order, s.fl.search); order != "" {
		b.WriteString(order)
		b.WriteString(", ")
	}
	b.WriteString("id")
	switch {
	case f.Limit > 0:
		b.WriteString(" LIMIT ?")
		args = append(args, int64(f.Limit))
	case f.Skip > 0:
		// SQLite accepts OFFSET only after a LIMIT.
		b.WriteString(" LIMIT ?")
		args = append(args, int64(math.MaxInt64))
	}
	if f.Skip > 0 {
		b.WriteString(" OFFSET ?")
		args = append(args, int64(f.Skip))
	}
	rows, err := s.query(ctx, s.fl.prepareSearches, true, b.String(), args...)
	if err != nil {
		return nil, readErr(err, "list systems")
	}
	var list []systemRow
	if err := s.db.ScanRows(ctx, rows, &list); err != nil {
		return nil, readErr(err, "list systems")
	}
	out := make([]systems.System, 0, len(list))
	for i := range list {
		sys, err := list[i].domain()
		if err != nil {
			return nil, err
		}
		out = append(out, sys)
	}
	return out, nil
}

// CountSystems implements systems.Store.
func (s *Store) CountSystems(ctx context.Context, tenant string, f systems.ListFilter) (int, error) {
	if (f.IDs != nil && len(f.IDs) == 0) || (f.Visible != nil && f.Visible.Owner == "" && len(f.Visible.IDs) == 0) {
		return 0, nil
	}
	where, args := s.whereSystems(tenant, f)
	rows, err := s.query(ctx, s.fl.prepareSearches, true, "SELECT count(*) FROM systems WHERE "+where, args...)
	if err != nil {
		return 0, readErr(err, "count systems")
	}
	var n []int64
	if err := s.db.ScanRows(ctx, rows, &n); err != nil {
		return 0, readErr(err, "count systems")
	}
	if len(n) != 1 {
		return 0, readErr(sql.ErrNoRows, "count systems")
	}
	return int(n[0]), nil
}

// whereSystems writes the WHERE condition of f with ? placeholders, always
// scoped by tenant, and its arguments; the search fragment comes from
// search.ToSQL (allowlisted columns, values as arguments in the forms the
// columns hold); id lists are one argument each (flavor.in), so the text
// depends only on the shape of f.
func (s *Store) whereSystems(tenant string, f systems.ListFilter) (where string, args []any) {
	var b strings.Builder
	b.WriteString("tenant = ?")
	args = append(args, tenant)
	if f.Owner != "" {
		b.WriteString(" AND owner = ?")
		args = append(args, f.Owner)
	}
	if f.IDs != nil {
		b.WriteString(" AND " + s.fl.in("id"))
		args = append(args, idsArg(f.IDs))
	}
	if f.ParentID != "" {
		b.WriteString(" AND parent_id = ?")
		args = append(args, f.ParentID)
	}
	if !f.IncludeDeleted {
		b.WriteString(" AND deleted = ?")
		args = append(args, false)
	}
	if v := f.Visible; v != nil {
		if len(v.IDs) == 0 {
			b.WriteString(" AND owner = ?")
			args = append(args, v.Owner)
		} else {
			w, a := s.fl.visible(tenant, v.Owner, idsArg(v.IDs))
			b.WriteString(" AND ")
			b.WriteString(w)
			args = append(args, a...)
		}
	}
	if f.Search != nil {
		w, a := search.ToSQL(f.Search, s.fl.search)
		b.WriteString(" AND ")
		b.WriteString(w)
		args = append(args, s.fl.args(a)...)
	}
	return b.String(), args
}

// AddHistory implements systems.Store: ErrNotFound when the record's system
// does not exist in its tenant (deleted systems do).
func (s *Store) AddHistory(ctx context.Context, h systems.HistoryRecord) error {
	const what = "add system history"
	row := systemHistoryToRow(h)
	return s.txn(ctx, what, writeErr, func(ctx context.Context, tx bun.Tx) error {
		if err := systemsExist(ctx, tx, h.Tenant, []string{h.SystemID}); err != nil {
			return err
		}
		_, err := tx.NewInsert().Model(row).Returning("NULL").Exec(ctx)
		return err
	})
}

// ListHistory implements systems.Store: the system's records in insertion
// order, an empty list when there are none.
func (s *Store) ListHistory(ctx context.Context, tenant, systemID string) ([]systems.HistoryRecord, error) {
	var rows []systemHistoryRow
	err := s.db.NewSelect().Model(&rows).
		Where("tenant = ?", tenant).Where("system_id = ?", systemID).Order("seq").Scan(ctx)
	if err != nil {
		return nil, readErr(err, "list system history")
	}
	out := make([]systems.HistoryRecord, 0, len(rows))
	for i := range rows {
		out = append(out, rows[i].domain())
	}
	return out, nil
}

// CreateProfile implements systems.Store: ErrAlreadyExists for a taken name
// in the tenant.
func (s *Store) CreateProfile(ctx context.Context, p systems.SchedulerProfile) error {
	row, err := profileToRow(p)
	if err != nil {
		return err
	}
	_, err = s.db.NewInsert().Model(row).Returning("NULL").Exec(ctx)
	return writeErr(err, "create scheduler profile")
}

// GetProfile implements systems.Store.
func (s *Store) GetProfile(ctx context.Context, tenant, name string) (systems.SchedulerProfile, error) {
	row := new(profileRow)
	err := s.db.NewSelect().Model(row).Where("tenant = ?", tenant).Where("name = ?", name).Scan(ctx)
	if err != nil {
		return systems.SchedulerProfile{}, readErr(err, "get scheduler profile")
	}
	return row.domain()
}

// ListProfiles implements systems.Store, ordered by name.
func (s *Store) ListProfiles(ctx context.Context, tenant string) ([]systems.SchedulerProfile, error) {
	var rows []profileRow
	if err := s.db.NewSelect().Model(&rows).Where("tenant = ?", tenant).Order("name").Scan(ctx); err != nil {
		return nil, readErr(err, "list scheduler profiles")
	}
	out := make([]systems.SchedulerProfile, 0, len(rows))
	for i := range rows {
		p, err := rows[i].domain()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// DeleteProfile implements systems.Store: ErrNotFound when absent.
func (s *Store) DeleteProfile(ctx context.Context, tenant, name string) error {
	const what = "delete scheduler profile"
	res, err := s.db.NewDelete().Model((*profileRow)(nil)).
		Where("tenant = ?", tenant).Where("name = ?", name).Exec(ctx)
	if err != nil {
		return deleteErr(err, what)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return deleteErr(err, what)
	}
	if n == 0 {
		return sentinel(systems.ErrNotFound, what)
	}
	return nil
}
