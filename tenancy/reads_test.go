package tenancy_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// countingStore counts the registry reads that reach the store.
type countingStore struct {
	tenancy.Store
	reads atomic.Int64
}

func (c *countingStore) GetTenant(ctx context.Context, id string) (tenancy.Tenant, error) {
	c.reads.Add(1)
	return c.Store.GetTenant(ctx, id)
}

func (c *countingStore) ListTenants(ctx context.Context, f tenancy.TenantFilter) ([]tenancy.Tenant, error) {
	c.reads.Add(1)
	return c.Store.ListTenants(ctx, f)
}

func (c *countingStore) GetSite(ctx context.Context, id string) (tenancy.Site, error) {
	c.reads.Add(1)
	return c.Store.GetSite(ctx, id)
}

func (c *countingStore) ListSites(ctx context.Context) ([]tenancy.Site, error) {
	c.reads.Add(1)
	return c.Store.ListSites(ctx)
}

// TestRegistryReads: GET of sites and tenants reads the registry snapshot,
// not the store, on every request (issue 16); the answers are those of the
// store; a write through the service shows at once, a write by another
// process once the snapshot's TTL has passed.
func TestRegistryReads(t *testing.T) {
	ctx := context.Background()
	st := &countingStore{Store: memory.New()}
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	svc, err := tenancy.NewService(tenancy.Config{Store: st, RegistryTTL: 10 * time.Second, Now: clock})
	require.NoError(t, err)
	_, err = svc.BootstrapSite(ctx, tenancytest.Site("p", true))
	require.NoError(t, err)
	_, err = svc.BootstrapOwner(ctx, tenancytest.Owner("o@x.test"))
	require.NoError(t, err)
	draft := tenancytest.Tenant("d1", "p", "o@x.test")
	draft.Status = tenancy.StatusDraft
	for _, tn := range []tenancy.Tenant{tenancytest.Tenant("a1", "p", "o@x.test"), draft} {
		tn.PublicKey = ""
		_, err := svc.BootstrapTenant(ctx, tn)
		require.NoError(t, err)
	}
	_, err = svc.Registry(ctx)
	require.NoError(t, err)

	st.reads.Store(0)
	for range 50 {
		tn, err := svc.GetTenant(ctx, "a1")
		require.NoError(t, err)
		assert.Equal(t, "a1", tn.ID)
		site, err := svc.GetSite(ctx, "p")
		require.NoError(t, err)
		assert.True(t, site.Primary)
		sites, err := svc.ListSites(ctx)
		require.NoError(t, err)
		assert.Len(t, sites, 1)
		active, err := svc.ListTenants(ctx, tenancy.TenantFilter{})
		require.NoError(t, err)
		assert.Len(t, active, 1, "a draft is listed only when asked for")
		all, err := svc.ListTenants(ctx, tenancy.TenantFilter{ShowDraft: true})
		require.NoError(t, err)
		assert.Len(t, all, 2)
		want, err := st.Store.ListTenants(ctx, tenancy.TenantFilter{ShowDraft: true})
		require.NoError(t, err)
		assert.Equal(t, want, all, "the snapshot answers what the store does")
	}
	assert.Zero(t, st.reads.Load(), "no registry read reached the store")
	_, err = svc.GetTenant(ctx, "nope")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	_, err = svc.GetSite(ctx, "nope")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)

	// A write through the service is seen at once.
	b1 := tenancytest.Tenant("b1", "p", "o@x.test")
	b1.PublicKey = ""
	_, err = svc.BootstrapTenant(ctx, b1)
	require.NoError(t, err)
	_, err = svc.GetTenant(ctx, "b1")
	require.NoError(t, err)
	// Another process's write, straight into the store: seen once the
	// snapshot is older than its TTL.
	c1 := tenancytest.Tenant("c1", "p", "o@x.test")
	require.NoError(t, st.Store.CreateTenant(ctx, c1))
	_, err = svc.GetTenant(ctx, "c1")
	assert.ErrorIs(t, err, tenancy.ErrNotFound, "within the TTL the snapshot holds")
	mu.Lock()
	now = now.Add(11 * time.Second)
	mu.Unlock()
	_, err = svc.GetTenant(ctx, "c1")
	assert.NoError(t, err, "after the TTL the snapshot is reloaded")
}
