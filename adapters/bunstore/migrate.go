package bunstore

import (
	"cmp"
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// migrationFS holds the schema of each dialect: migrations/<dialect>/NNNN_name.sql.
//
//go:embed migrations
var migrationFS embed.FS

// migrationName is the file name of one migration: a version and a name.
var migrationName = regexp.MustCompile(`^([0-9]{4,})_([a-z0-9_]+)\.sql$`)

// migration is one versioned schema change.
type migration struct {
	version int64
	name    string
	sql     string
}

// schemaMigrationRow records one applied migration.
type schemaMigrationRow struct {
	bun.BaseModel `bun:"table:schema_migrations,alias:sm"`

	Version   int64     `bun:"version,pk"`
	Name      string    `bun:"name,notnull"`
	AppliedAt time.Time `bun:"applied_at,notnull"`
}

// loadMigrations reads the migrations of one dialect, ordered by version.
func loadMigrations(dir string) ([]migration, error) {
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("bunstore: read migrations: %w", err)
	}
	var out []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("bunstore: unexpected migration file %s/%s", dir, e.Name())
		}
		v, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bunstore: migration %s: %w", e.Name(), err)
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("bunstore: read migration %s: %w", e.Name(), err)
		}
		if len(out) > 0 && out[len(out)-1].version == v {
			return nil, fmt.Errorf("bunstore: two migrations with version %d in %s", v, dir)
		}
		out = append(out, migration{version: v, name: m[2], sql: string(body)})
	}
	slices.SortFunc(out, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	return out, nil
}

// Migrate brings the schema up to date: it applies, in version order and in
// one transaction, every embedded migration of the dialect that the
// schema_migrations table does not list yet. Running it again is a no-op, and
// concurrent runs (several processes starting at once) wait for each other.
// Then it calls Optimize.
func (s *Store) Migrate(ctx context.Context) error {
	migs, err := loadMigrations(s.fl.migrations)
	if err != nil {
		return err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		// Serialize concurrent migrators (SQLite's BEGIN IMMEDIATE does
		// that by itself).
		if err := s.fl.lockName(ctx, tx, "tapis-go/bunstore:migrate"); err != nil {
			return err
		}
		if _, err := tx.Tx.ExecContext(ctx, s.fl.schemaMigrations); err != nil {
			return err
		}
		var applied []int64
		if err := tx.NewSelect().Model((*schemaMigrationRow)(nil)).Column("version").Scan(ctx, &applied); err != nil {
			return err
		}
		for _, m := range migs {
			if slices.Contains(applied, m.version) {
				continue
			}
			// The raw *sql.Tx runs the file as written: bun's formatter would
			// read '?' as a placeholder.
			if _, err := tx.Tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
			row := &schemaMigrationRow{Version: m.version, Name: m.name, AppliedAt: utc(time.Now())}
			if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
				return fmt.Errorf("migration %04d_%s: record: %w", m.version, m.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("bunstore: migrate: %w", err)
	}
	return s.Optimize(ctx)
}

// Optimize refreshes the statistics the query planner chooses indexes by,
// where they are missing or stale. On SQLite it runs PRAGMA optimize over
// every table, which analyzes a table only when it has no statistics or
// its size changed tenfold since, and then reads it whole (about half a
// second for 100k systems here): without statistics, or with the sampled
// ones of analysis_limit, SQLite walks a whole tenant in id order rather
// than sort the few matches of an owner's index (issue 16).
// PostgreSQL's autovacuum keeps its own statistics, so it does nothing
// there. Migrate calls it; a long-running server calls it now and then
// (tapis.Server does every ten minutes).
func (s *Store) Optimize(ctx context.Context) error {
	if s.fl.optimize == "" {
		return nil
	}
	if _, err := s.db.DB.ExecContext(ctx, s.fl.optimize); err != nil {
		return fmt.Errorf("bunstore: optimize: %w", err)
	}
	return nil
}
