package tenancy_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// source is a primary's registry as a RegistrySource: a snapshot, or a
// failure when down; it counts the fetches.
type source struct {
	mu      sync.Mutex
	snap    tenancy.Snapshot
	down    bool
	fetches int
}

func (s *source) FetchRegistry(context.Context) (tenancy.Snapshot, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	if s.down {
		return tenancy.Snapshot{}, errors.New("connection refused")
	}
	out := s.snap // a fresh copy each time, as from the wire
	out.Sites, out.Tenants = slices.Clone(out.Sites), slices.Clone(out.Tenants)
	out.Owners, out.LDAPs = slices.Clone(out.Owners), slices.Clone(out.LDAPs)
	return out, nil
}

func (s *source) URL() string { return "https://primary.test" }

func newMirror(t *testing.T, src *source, st tenancy.SnapshotStore, clk *clockT) *tenancy.Mirror {
	t.Helper()
	m, err := tenancy.NewMirror(tenancy.MirrorConfig{Source: src, Store: st, StaleAfter: time.Minute, MinRefresh: 10 * time.Second, Now: clk.Now})
	require.NoError(t, err)
	return m
}

// TestMirror: an associate's copy of the registry serves reads once read
// from the primary, refuses writes naming the primary, survives a restart
// with the primary down, and reports itself stale past StaleAfter.
func TestMirror(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	clk := &clockT{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	src := &source{snap: tenancytest.Snapshot()}
	m := newMirror(t, src, st, clk)

	_, err := m.GetTenant(ctx, "t1")
	assert.ErrorIs(t, err, tenancy.ErrMisdirected, "no copy yet")
	assert.ErrorContains(t, err, "https://primary.test")
	assert.Error(t, m.Fresh(ctx))

	changed, err := m.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, changed)
	got, err := m.GetTenant(ctx, "t1")
	require.NoError(t, err)
	assert.Equal(t, "p", got.SiteID)
	all, err := m.ListTenants(ctx, tenancy.TenantFilter{ShowDraft: true, ShowInactive: true})
	require.NoError(t, err)
	assert.Len(t, all, 3)
	active, err := m.ListTenants(ctx, tenancy.TenantFilter{})
	require.NoError(t, err)
	assert.Len(t, active, 1, "the filter applies to the copy")
	_, err = m.GetSite(ctx, "nosuch")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	assert.NoError(t, m.Fresh(ctx))

	assert.ErrorIs(t, m.CreateTenant(ctx, tenancytest.Tenant("t9", "p", "o@x.test")), tenancy.ErrMisdirected)
	assert.ErrorIs(t, m.DeleteSite(ctx, "assoc"), tenancy.ErrMisdirected)
	_, err = m.UpdateTenant(ctx, "t1", func(*tenancy.Tenant) (tenancy.TenantHistory, error) { return tenancy.TenantHistory{}, nil })
	assert.ErrorIs(t, err, tenancy.ErrMisdirected)
	_, err = m.TenantHistory(ctx, "t1")
	assert.ErrorIs(t, err, tenancy.ErrMisdirected, "the history is the primary's")

	changed, err = m.Sync(ctx)
	require.NoError(t, err)
	assert.False(t, changed, "the same records are no change")

	// A restart with the primary down serves the saved copy.
	src.down = true
	clk.Advance(30 * time.Second)
	restarted := newMirror(t, src, st, clk)
	_, err = restarted.Sync(ctx)
	assert.ErrorContains(t, err, "connection refused")
	got, err = restarted.GetTenant(ctx, "t2")
	require.NoError(t, err, "the saved copy serves")
	assert.Equal(t, "assoc", got.SiteID)
	assert.NoError(t, restarted.Fresh(ctx))
	clk.Advance(31 * time.Second)
	assert.ErrorContains(t, restarted.Fresh(ctx), "stale", "older than StaleAfter")

	// The primary back with a change.
	src.down = false
	src.snap.Tenants[0].Description = "changed"
	changed, err = restarted.Sync(ctx)
	require.NoError(t, err)
	assert.True(t, changed)
	assert.NoError(t, restarted.Fresh(ctx))
}

// TestMirrorRefreshIsThrottled: on-demand refreshes fetch at most once per
// MinRefresh; the periodic Sync does not hold them back.
func TestMirrorRefreshIsThrottled(t *testing.T) {
	ctx := context.Background()
	clk := &clockT{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	src := &source{snap: tenancytest.Snapshot()}
	m := newMirror(t, src, memory.New(), clk)
	_, err := m.Sync(ctx)
	require.NoError(t, err)
	src.snap.Tenants[0].Description = "changed"
	changed, err := m.RefreshRegistry(ctx)
	require.NoError(t, err)
	assert.True(t, changed, "a refresh right after the periodic sync still fetches")
	for range 5 {
		changed, err = m.RefreshRegistry(ctx)
		require.NoError(t, err)
		assert.False(t, changed)
	}
	assert.Equal(t, 2, src.fetches, "a burst costs one fetch")

	// A change the periodic sync brought is reported to the next refresh,
	// throttled or not: its caller reloads what it had not seen.
	src.snap.Tenants[0].Description = "changed again"
	changed, err = m.Sync(ctx)
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = m.RefreshRegistry(ctx)
	require.NoError(t, err)
	assert.True(t, changed, "the periodic sync's change is reported")
	assert.Equal(t, 3, src.fetches, "without another fetch")
	changed, err = m.RefreshRegistry(ctx)
	require.NoError(t, err)
	assert.False(t, changed, "and only once")

	clk.Advance(11 * time.Second)
	_, err = m.RefreshRegistry(ctx)
	require.NoError(t, err)
	assert.Equal(t, 4, src.fetches)
}
