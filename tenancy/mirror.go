package tenancy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"
)

// Snapshot is a copy of the primary site's registry: what an associate site
// serves its registry reads from.
type Snapshot struct {
	Sites   []Site
	Tenants []Tenant
	Owners  []Owner
	LDAPs   []LDAPConnection
	// Fetched is when it was read from the primary.
	Fetched time.Time
	// Source is the URL of the primary it was read from.
	Source string
}

// SnapshotStore keeps an associate site's copy of the registry in its own
// database, so that it survives a restart and serves while the primary is
// down.
type SnapshotStore interface {
	// SaveRegistrySnapshot replaces the stored snapshot.
	SaveRegistrySnapshot(ctx context.Context, s Snapshot) error
	// LoadRegistrySnapshot returns the stored snapshot; ErrNotFound when
	// none was ever saved.
	LoadRegistrySnapshot(ctx context.Context) (Snapshot, error)
}

// RegistrySource reads the registry of the primary site (an HTTP client of
// its Tenants API: httpapi.PrimaryClient).
type RegistrySource interface {
	FetchRegistry(ctx context.Context) (Snapshot, error)
	// URL is the primary's base URL, named in messages.
	URL() string
}

// MirrorConfig configures a Mirror.
type MirrorConfig struct {
	Source RegistrySource
	Store  SnapshotStore
	// StaleAfter is the age past which Fresh reports the copy stale;
	// default 10 minutes.
	StaleAfter time.Duration
	// MinRefresh is the least time between two on-demand refreshes
	// (Refresh, on a token naming an unknown tenant or key); default 5s.
	MinRefresh time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Mirror is an associate site's read-only copy of the primary's registry of
// sites, tenants, owners and LDAP objects. It is a Store: the associate's
// tenancy Service reads it like any store, and every write is refused with
// ErrMisdirected naming the primary. Sync replaces the copy from the
// primary and saves it in the SnapshotStore; a restarted instance serves
// the saved copy until the primary answers again.
type Mirror struct {
	cfg MirrorConfig

	mu   sync.RWMutex
	snap *Snapshot

	syncMu     sync.Mutex // one fetch at a time; guards the fields below
	lastDemand time.Time  // of the last RefreshRegistry that fetched
	version    uint64     // counts the syncs that changed the copy
	reported   uint64     // version the last RefreshRegistry reported
}

var _ Store = (*Mirror)(nil)

// NewMirror returns a Mirror; its error names every missing dependency.
func NewMirror(cfg MirrorConfig) (*Mirror, error) {
	var missing []error
	if cfg.Source == nil {
		missing = append(missing, errors.New("tenancy: MirrorConfig.Source is nil"))
	}
	if cfg.Store == nil {
		missing = append(missing, errors.New("tenancy: MirrorConfig.Store is nil"))
	}
	if err := errors.Join(missing...); err != nil {
		return nil, err
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = 10 * time.Minute
	}
	if cfg.MinRefresh <= 0 {
		cfg.MinRefresh = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Mirror{cfg: cfg}, nil
}

// PrimaryURL is the URL of the primary site the copy comes from.
func (m *Mirror) PrimaryURL() string { return m.cfg.Source.URL() }

// current returns the copy, reading the saved one at first use.
func (m *Mirror) current(ctx context.Context) (*Snapshot, error) {
	m.mu.RLock()
	s := m.snap
	m.mu.RUnlock()
	if s != nil {
		return s, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.snap != nil {
		return m.snap, nil
	}
	saved, err := m.cfg.Store.LoadRegistrySnapshot(ctx)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, Errorf(ErrMisdirected, "This associate site has no copy of the registry yet: the primary site (%s) has not answered since it started.", m.PrimaryURL())
	case err != nil:
		return nil, fmt.Errorf("tenancy: load the registry mirror: %w", err)
	}
	m.snap = &saved
	return m.snap, nil
}

// Sync reads the registry from the primary, saves it, and serves it from
// now on. It reports whether anything changed. On failure the previous
// copy keeps serving.
func (m *Mirror) Sync(ctx context.Context) (changed bool, err error) {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	return m.sync(ctx)
}

func (m *Mirror) sync(ctx context.Context) (bool, error) {
	fresh, err := m.cfg.Source.FetchRegistry(ctx)
	if err != nil {
		return false, fmt.Errorf("tenancy: read the registry of the primary site %s: %w", m.PrimaryURL(), err)
	}
	fresh.Fetched = m.cfg.Now().UTC()
	fresh.Source = m.PrimaryURL()
	sortSnapshot(&fresh)
	old, _ := m.current(ctx)
	if err := m.cfg.Store.SaveRegistrySnapshot(ctx, fresh); err != nil {
		return false, fmt.Errorf("tenancy: save the registry mirror: %w", err)
	}
	m.mu.Lock()
	m.snap = &fresh
	m.mu.Unlock()
	changed := old == nil || !sameRecords(*old, fresh)
	if changed {
		m.version++
	}
	return changed, nil
}

// RefreshRegistry is Sync at most once per MinRefresh (callers that find
// an unknown tenant or key ask for it; a burst of them costs one fetch;
// the periodic Sync does not count, so a tenant created just after it is
// still read at once). It reports whether the copy changed since the
// previous RefreshRegistry reported, by its own fetch or a periodic Sync
// (whose caller may not have taken the change into use yet).
func (m *Mirror) RefreshRegistry(ctx context.Context) (bool, error) {
	m.syncMu.Lock()
	defer m.syncMu.Unlock()
	now := m.cfg.Now()
	if m.lastDemand.IsZero() || now.Sub(m.lastDemand) >= m.cfg.MinRefresh {
		m.lastDemand = now
		if _, err := m.sync(ctx); err != nil {
			return false, err
		}
	}
	changed := m.version != m.reported
	m.reported = m.version
	return changed, nil
}

// Fetched returns when the served copy was read from the primary (zero
// when there is none).
func (m *Mirror) Fetched(ctx context.Context) time.Time {
	s, err := m.current(ctx)
	if err != nil {
		return time.Time{}
	}
	return s.Fetched
}

// Fresh returns nil while the copy is younger than StaleAfter, else an
// error saying how old it is: the readiness check of an associate site.
func (m *Mirror) Fresh(ctx context.Context) error {
	s, err := m.current(ctx)
	if err != nil {
		return err
	}
	if age := m.cfg.Now().Sub(s.Fetched); age > m.cfg.StaleAfter {
		return fmt.Errorf("the registry mirror is stale: last read from the primary site %s %s ago (stale after %s)",
			m.PrimaryURL(), age.Truncate(time.Second), m.cfg.StaleAfter)
	}
	return nil
}

func sortSnapshot(s *Snapshot) {
	slices.SortFunc(s.Sites, func(a, b Site) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Tenants, func(a, b Tenant) int { return strings.Compare(a.ID, b.ID) })
	slices.SortFunc(s.Owners, func(a, b Owner) int { return strings.Compare(a.Email, b.Email) })
	slices.SortFunc(s.LDAPs, func(a, b LDAPConnection) int { return strings.Compare(a.ID, b.ID) })
}

// sameRecords compares the records of two sorted snapshots.
func sameRecords(a, b Snapshot) bool {
	return slices.EqualFunc(a.Sites, b.Sites, sameSite) &&
		slices.EqualFunc(a.Tenants, b.Tenants, sameTenant) &&
		slices.EqualFunc(a.Owners, b.Owners, func(x, y Owner) bool {
			return x.Name == y.Name && x.Email == y.Email && x.Institution == y.Institution
		}) &&
		slices.EqualFunc(a.LDAPs, b.LDAPs, func(x, y LDAPConnection) bool {
			return x.ID == y.ID && x.URL == y.URL && x.Port == y.Port && x.UseSSL == y.UseSSL && x.UserDN == y.UserDN &&
				x.BindDN == y.BindDN && x.BindCredential == y.BindCredential && x.AccountType == y.AccountType
		})
}

func sameSite(x, y Site) bool {
	return x.ID == y.ID && x.BaseURL == y.BaseURL && x.Primary == y.Primary &&
		x.TenantBaseURLTemplate == y.TenantBaseURLTemplate && x.SiteAdminTenantID == y.SiteAdminTenantID &&
		slices.Equal(x.Services, y.Services)
}

func sameTenant(x, y Tenant) bool {
	return x.ID == y.ID && x.BaseURL == y.BaseURL && x.SiteID == y.SiteID && x.TokenService == y.TokenService &&
		x.SecurityKernel == y.SecurityKernel && x.Authenticator == y.Authenticator && x.Owner == y.Owner &&
		x.AdminUser == y.AdminUser && slices.Equal(x.TokenGenServices, y.TokenGenServices) &&
		x.ServiceLDAPConnectionID == y.ServiceLDAPConnectionID && x.UserLDAPConnectionID == y.UserLDAPConnectionID &&
		x.PublicKey == y.PublicKey && x.Description == y.Description && x.Status == y.Status &&
		x.LastUpdateTime.Equal(y.LastUpdateTime)
}

// readOnly is the answer to every write: the registry is the primary's.
func (m *Mirror) readOnly() error {
	return Errorf(ErrMisdirected, "The registry of sites and tenants is kept by the primary site (%s); send this request there.", m.PrimaryURL())
}

// ---- Store: reads from the copy, writes refused ----

// CreateSite implements SiteStore: refused (ErrMisdirected).
func (m *Mirror) CreateSite(context.Context, Site) error { return m.readOnly() }

// DeleteSite implements SiteStore: refused (ErrMisdirected).
func (m *Mirror) DeleteSite(context.Context, string) error { return m.readOnly() }

// CreateTenant implements TenantStore: refused (ErrMisdirected).
func (m *Mirror) CreateTenant(context.Context, Tenant) error { return m.readOnly() }

// UpdateTenant implements TenantStore: refused (ErrMisdirected).
func (m *Mirror) UpdateTenant(context.Context, string, func(*Tenant) (TenantHistory, error)) (Tenant, error) {
	return Tenant{}, m.readOnly()
}

// TenantHistory implements TenantStore: the history is not copied; the
// primary answers it (ErrMisdirected).
func (m *Mirror) TenantHistory(context.Context, string) ([]TenantHistory, error) {
	return nil, Errorf(ErrMisdirected, "The history of tenants is kept by the primary site (%s); ask it there.", m.PrimaryURL())
}

// CreateOwner implements OwnerStore: refused (ErrMisdirected).
func (m *Mirror) CreateOwner(context.Context, Owner) error { return m.readOnly() }

// DeleteOwner implements OwnerStore: refused (ErrMisdirected).
func (m *Mirror) DeleteOwner(context.Context, string) error { return m.readOnly() }

// CreateLDAP implements LDAPStore: refused (ErrMisdirected).
func (m *Mirror) CreateLDAP(context.Context, LDAPConnection) error { return m.readOnly() }

// DeleteLDAP implements LDAPStore: refused (ErrMisdirected).
func (m *Mirror) DeleteLDAP(context.Context, string) error { return m.readOnly() }

// GetSite implements SiteStore from the copy.
func (m *Mirror) GetSite(ctx context.Context, id string) (Site, error) {
	s, err := m.current(ctx)
	if err != nil {
		return Site{}, err
	}
	site, err := find(s.Sites, func(x Site) bool { return x.ID == id })
	site.Services = slices.Clone(site.Services)
	return site, err
}

// ListSites implements SiteStore from the copy, ordered by id.
func (m *Mirror) ListSites(ctx context.Context) ([]Site, error) {
	s, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	return cloneAll(s.Sites, func(x Site) Site { x.Services = slices.Clone(x.Services); return x }), nil
}

// GetTenant implements TenantStore from the copy.
func (m *Mirror) GetTenant(ctx context.Context, id string) (Tenant, error) {
	s, err := m.current(ctx)
	if err != nil {
		return Tenant{}, err
	}
	t, err := find(s.Tenants, func(x Tenant) bool { return x.ID == id })
	t.TokenGenServices = slices.Clone(t.TokenGenServices)
	return t, err
}

// ListTenants implements TenantStore from the copy, ordered by id.
func (m *Mirror) ListTenants(ctx context.Context, f TenantFilter) ([]Tenant, error) {
	s, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	out := []Tenant{}
	for _, t := range s.Tenants {
		if f.Includes(t.Status) {
			t.TokenGenServices = slices.Clone(t.TokenGenServices)
			out = append(out, t)
		}
	}
	return out, nil
}

// GetOwner implements OwnerStore from the copy.
func (m *Mirror) GetOwner(ctx context.Context, email string) (Owner, error) {
	s, err := m.current(ctx)
	if err != nil {
		return Owner{}, err
	}
	return find(s.Owners, func(x Owner) bool { return x.Email == email })
}

// ListOwners implements OwnerStore from the copy, ordered by email.
func (m *Mirror) ListOwners(ctx context.Context) ([]Owner, error) {
	s, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	return cloneAll(s.Owners, func(x Owner) Owner { return x }), nil
}

// GetLDAP implements LDAPStore from the copy.
func (m *Mirror) GetLDAP(ctx context.Context, id string) (LDAPConnection, error) {
	s, err := m.current(ctx)
	if err != nil {
		return LDAPConnection{}, err
	}
	return find(s.LDAPs, func(x LDAPConnection) bool { return x.ID == id })
}

// ListLDAPs implements LDAPStore from the copy, ordered by id.
func (m *Mirror) ListLDAPs(ctx context.Context) ([]LDAPConnection, error) {
	s, err := m.current(ctx)
	if err != nil {
		return nil, err
	}
	return cloneAll(s.LDAPs, func(x LDAPConnection) LDAPConnection { return x }), nil
}

func find[T any](list []T, match func(T) bool) (T, error) {
	for _, x := range list {
		if match(x) {
			return x, nil
		}
	}
	var zero T
	return zero, ErrNotFound
}

func cloneAll[T any](list []T, clone func(T) T) []T {
	out := make([]T, 0, len(list))
	for _, x := range list {
		out = append(out, clone(x))
	}
	return out
}
