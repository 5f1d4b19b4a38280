package memory

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
)

var _ systems.Store = (*Store)(nil)

// sysMaps holds the Systems service's records; created lazily under s.mu.
type sysMaps struct {
	systems  map[tenantKey]systems.System
	history  map[tenantKey][]systems.HistoryRecord // by (tenant, system id), insertion order
	profiles map[tenantKey]systems.SchedulerProfile
}

func (s *Store) sys() *sysMaps {
	if s.sysm == nil {
		s.sysm = &sysMaps{systems: map[tenantKey]systems.System{},
			history: map[tenantKey][]systems.HistoryRecord{}, profiles: map[tenantKey]systems.SchedulerProfile{}}
	}
	return s.sysm
}

// sysTime is the store precision of times: UTC microseconds, as in SQL.
func sysTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

func clonePtr(p *string) *string {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func orEmpty[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// copySystem deep-copies a system and gives it the shape it has in a SQL
// store: empty non-nil lists and notes (JobRuntimes excepted), JSON-shaped
// notes, UTC microsecond times.
func copySystem(in systems.System) systems.System {
	c := in.Clone()
	for i := range c.JobRuntimes {
		c.JobRuntimes[i].Version = clonePtr(c.JobRuntimes[i].Version)
	}
	for i := range c.JobCapabilities {
		c.JobCapabilities[i].Value = clonePtr(c.JobCapabilities[i].Value)
	}
	c.JobEnvVariables = orEmpty(c.JobEnvVariables)
	c.BatchLogicalQueues = orEmpty(c.BatchLogicalQueues)
	c.JobCapabilities = orEmpty(c.JobCapabilities)
	c.Tags = orEmpty(c.Tags)
	if c.Notes == nil {
		c.Notes = map[string]any{}
	}
	c.Created, c.Updated = sysTime(c.Created), sysTime(c.Updated)
	return c
}

func copyHistory(h systems.HistoryRecord) systems.HistoryRecord {
	h.Description = bytes.Clone(h.Description)
	h.Created = sysTime(h.Created)
	return h
}

func copyProfile(p systems.SchedulerProfile) systems.SchedulerProfile {
	loads := make([]systems.ModuleLoad, len(p.ModuleLoads))
	for i, m := range p.ModuleLoads {
		m.ModulesToLoad = slices.Clone(m.ModulesToLoad)
		loads[i] = m
	}
	p.ModuleLoads = loads
	p.HiddenOptions = orEmpty(slices.Clone(p.HiddenOptions))
	p.Created, p.Updated = sysTime(p.Created), sysTime(p.Updated)
	return p
}

// CreateSystem implements systems.Store.
func (s *Store) CreateSystem(_ context.Context, sys systems.System, h systems.HistoryRecord) error {
	if h.Tenant != sys.Tenant || h.SystemID != sys.ID {
		return systems.ErrInvalid
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, k := s.sys(), tenantKey{sys.Tenant, sys.ID}
	if _, ok := m.systems[k]; ok {
		return systems.ErrAlreadyExists
	}
	c := copySystem(sys)
	c.Version = 1
	m.systems[k] = c
	m.history[k] = append(m.history[k], copyHistory(h))
	return nil
}

// PurgeSystem implements systems.Store.
func (s *Store) PurgeSystem(_ context.Context, tenant, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, k := s.sys(), tenantKey{tenant, id}
	if _, ok := m.systems[k]; !ok {
		return systems.ErrNotFound
	}
	delete(m.systems, k)
	delete(m.history, k)
	return nil
}

// GetSystem implements systems.Store.
func (s *Store) GetSystem(_ context.Context, tenant, id string) (systems.System, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.sys().systems[tenantKey{tenant, id}]
	if !ok {
		return systems.System{}, systems.ErrNotFound
	}
	return copySystem(c), nil
}

// SaveSystems implements systems.Store: every check passes before anything
// is written.
func (s *Store) SaveSystems(_ context.Context, tenant string, list []systems.System, history []systems.HistoryRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.sys()
	seen := map[string]bool{}
	for _, sys := range list {
		if sys.Tenant != tenant {
			return systems.ErrInvalid
		}
		cur, ok := m.systems[tenantKey{tenant, sys.ID}]
		if !ok {
			return systems.ErrNotFound
		}
		if cur.Version != sys.Version || seen[sys.ID] {
			return systems.ErrConflict
		}
		seen[sys.ID] = true
	}
	for _, h := range history {
		if h.Tenant != tenant {
			return systems.ErrInvalid
		}
		if _, ok := m.systems[tenantKey{tenant, h.SystemID}]; !ok {
			return systems.ErrNotFound
		}
	}
	for _, sys := range list {
		c := copySystem(sys)
		c.Version++
		m.systems[tenantKey{tenant, sys.ID}] = c
	}
	for _, h := range history {
		k := tenantKey{tenant, h.SystemID}
		m.history[k] = append(m.history[k], copyHistory(h))
	}
	return nil
}

// ListSystems implements systems.Store.
func (s *Store) ListSystems(_ context.Context, tenant string, f systems.ListFilter) ([]systems.System, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.matching(tenant, f)
	orders := append(slices.Clone(f.Order), systems.ByID())
	slices.SortFunc(out, func(a, b systems.System) int { return search.CompareRows(systems.Row(a), systems.Row(b), orders) })
	out = out[min(max(f.Skip, 0), len(out)):]
	if f.Limit > 0 && f.Limit < len(out) {
		out = out[:f.Limit]
	}
	for i := range out {
		out[i] = copySystem(out[i])
	}
	return out, nil
}

// CountSystems implements systems.Store.
func (s *Store) CountSystems(_ context.Context, tenant string, f systems.ListFilter) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.matching(tenant, f)), nil
}

// matching returns the tenant's systems that pass f (unsorted, shared
// values: copy before returning them). Called with s.mu held.
func (s *Store) matching(tenant string, f systems.ListFilter) []systems.System {
	set := func(list []string) map[string]bool {
		if list == nil {
			return nil
		}
		m := make(map[string]bool, len(list))
		for _, id := range list {
			m[id] = true
		}
		return m
	}
	ids := set(f.IDs)
	var visible map[string]bool
	if f.Visible != nil {
		visible = set(f.Visible.IDs)
	}
	out := []systems.System{}
	for k, sys := range s.sys().systems {
		if k.tenant != tenant || (sys.Deleted && !f.IncludeDeleted) ||
			(f.Owner != "" && sys.Owner != f.Owner) || (f.ParentID != "" && sys.ParentID != f.ParentID) ||
			(ids != nil && !ids[sys.ID]) ||
			(f.Visible != nil && sys.Owner != f.Visible.Owner && !visible[sys.ID]) ||
			(f.Search != nil && !search.Eval(f.Search, systems.Row(sys))) {
			continue
		}
		out = append(out, sys)
	}
	return out
}

// AddHistory implements systems.Store.
func (s *Store) AddHistory(_ context.Context, h systems.HistoryRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, k := s.sys(), tenantKey{h.Tenant, h.SystemID}
	if _, ok := m.systems[k]; !ok {
		return systems.ErrNotFound
	}
	m.history[k] = append(m.history[k], copyHistory(h))
	return nil
}

// ListHistory implements systems.Store.
func (s *Store) ListHistory(_ context.Context, tenant, systemID string) ([]systems.HistoryRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.sys().history[tenantKey{tenant, systemID}]
	out := make([]systems.HistoryRecord, len(recs))
	for i, h := range recs {
		out[i] = copyHistory(h)
	}
	return out, nil
}

// CreateProfile implements systems.Store.
func (s *Store) CreateProfile(_ context.Context, p systems.SchedulerProfile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, k := s.sys(), tenantKey{p.Tenant, p.Name}
	if _, ok := m.profiles[k]; ok {
		return systems.ErrAlreadyExists
	}
	m.profiles[k] = copyProfile(p)
	return nil
}

// GetProfile implements systems.Store.
func (s *Store) GetProfile(_ context.Context, tenant, name string) (systems.SchedulerProfile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.sys().profiles[tenantKey{tenant, name}]
	if !ok {
		return systems.SchedulerProfile{}, systems.ErrNotFound
	}
	return copyProfile(p), nil
}

// ListProfiles implements systems.Store.
func (s *Store) ListProfiles(_ context.Context, tenant string) ([]systems.SchedulerProfile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []systems.SchedulerProfile{}
	for k, p := range s.sys().profiles {
		if k.tenant == tenant {
			out = append(out, copyProfile(p))
		}
	}
	slices.SortFunc(out, func(a, b systems.SchedulerProfile) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// DeleteProfile implements systems.Store.
func (s *Store) DeleteProfile(_ context.Context, tenant, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, k := s.sys(), tenantKey{tenant, name}
	if _, ok := m.profiles[k]; !ok {
		return systems.ErrNotFound
	}
	delete(m.profiles, k)
	return nil
}
