package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/tapis-go/tapis/systems"
)

var _ systems.GlobusSessionStore = (*Store)(nil)

// globusSessions returns the started Globus authorizations by (tenant, id);
// created lazily under s.mu. Nothing is sealed: a memory store keeps nothing
// at rest.
func (s *Store) globusSessions() map[tenantKey]systems.GlobusSession {
	if s.glSessions == nil {
		s.glSessions = map[tenantKey]systems.GlobusSession{}
	}
	return s.glSessions
}

// PutGlobusSession implements systems.GlobusSessionStore.
func (s *Store) PutGlobusSession(_ context.Context, gs systems.GlobusSession) error {
	gs.Created, gs.Expires = sysTime(gs.Created), sysTime(gs.Expires)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.globusSessions()
	k := tenantKey{gs.Tenant, gs.ID}
	if _, ok := m[k]; ok {
		return fmt.Errorf("memory: put Globus session: %w", systems.ErrAlreadyExists)
	}
	m[k] = gs
	return nil
}

// TakeGlobusSession implements systems.GlobusSessionStore.
func (s *Store) TakeGlobusSession(_ context.Context, k systems.GlobusSessionKey) (systems.GlobusSession, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.globusSessions()
	tk := tenantKey{k.Tenant, k.ID}
	gs, ok := m[tk]
	if !ok || gs.SystemID != k.SystemID || gs.User != k.User {
		return systems.GlobusSession{}, fmt.Errorf("memory: take Globus session: %w", systems.ErrNotFound)
	}
	delete(m, tk)
	return gs, nil
}

// PurgeGlobusSessions implements systems.GlobusSessionStore.
func (s *Store) PurgeGlobusSessions(_ context.Context, before time.Time) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, gs := range s.globusSessions() {
		if gs.Expires.Before(before) {
			delete(s.glSessions, k)
			n++
		}
	}
	return n, nil
}
