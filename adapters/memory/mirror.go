package memory

import (
	"context"
	"encoding/json"

	"github.com/tapis-go/tapis/tenancy"
)

var _ tenancy.SnapshotStore = (*Store)(nil)

// SaveRegistrySnapshot implements tenancy.SnapshotStore. The copy is kept
// as JSON, as the SQL stores keep it, so it reads back the same way.
func (s *Store) SaveRegistrySnapshot(_ context.Context, snap tenancy.Snapshot) error {
	raw, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.snapshot = raw
	s.mu.Unlock()
	return nil
}

// LoadRegistrySnapshot implements tenancy.SnapshotStore.
func (s *Store) LoadRegistrySnapshot(context.Context) (tenancy.Snapshot, error) {
	s.mu.Lock()
	raw := s.snapshot
	s.mu.Unlock()
	if raw == nil {
		return tenancy.Snapshot{}, tenancy.ErrNotFound
	}
	var out tenancy.Snapshot
	err := json.Unmarshal(raw, &out)
	return out, err
}
