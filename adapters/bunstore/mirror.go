package bunstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/tenancy"
)

var _ tenancy.SnapshotStore = (*Store)(nil)

// mirrorRow is the one row of registry_mirror (migration 0012).
type mirrorRow struct {
	bun.BaseModel `bun:"table:registry_mirror,alias:rm"`

	ID      int       `bun:"id,pk"`
	Fetched time.Time `bun:"fetched"`
	Source  string    `bun:"source"`
	Body    string    `bun:"body"`
}

// SaveRegistrySnapshot implements tenancy.SnapshotStore: the one row is
// replaced.
func (s *Store) SaveRegistrySnapshot(ctx context.Context, snap tenancy.Snapshot) error {
	body, err := json.Marshal(snap)
	if err != nil {
		return fmt.Errorf("bunstore: encode the registry mirror: %w", err)
	}
	row := mirrorRow{ID: 1, Fetched: snap.Fetched.UTC(), Source: snap.Source, Body: string(body)}
	_, err = s.db.NewInsert().Model(&row).
		On("CONFLICT (id) DO UPDATE").Set("fetched = EXCLUDED.fetched, source = EXCLUDED.source, body = EXCLUDED.body").
		Exec(ctx)
	return writeErr(err, "save the registry mirror")
}

// LoadRegistrySnapshot implements tenancy.SnapshotStore.
func (s *Store) LoadRegistrySnapshot(ctx context.Context) (tenancy.Snapshot, error) {
	var row mirrorRow
	if err := s.db.NewSelect().Model(&row).Where("id = 1").Scan(ctx); err != nil {
		return tenancy.Snapshot{}, readErr(err, "load the registry mirror")
	}
	var out tenancy.Snapshot
	if err := json.Unmarshal([]byte(row.Body), &out); err != nil {
		return tenancy.Snapshot{}, fmt.Errorf("bunstore: decode the registry mirror: %w", err)
	}
	out.Fetched, out.Source = row.Fetched.UTC(), row.Source
	return out, nil
}
