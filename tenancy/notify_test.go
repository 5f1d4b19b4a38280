package tenancy_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// notes records what a Service notifies.
type notes struct {
	mu  sync.Mutex
	got []string
}

func (n *notes) Notify(_ context.Context, kind, tenantID, key string) {
	n.mu.Lock()
	n.got = append(n.got, kind+"/"+tenantID+"/"+key)
	n.mu.Unlock()
}

func (n *notes) list() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.got...)
}

// TestRegistryWritesAreNotified: every committed write of a site or tenant
// is notified once, with its kind and tenant; refused writes are not.
func TestRegistryWritesAreNotified(t *testing.T) {
	ctx := context.Background()
	n := &notes{}
	svc, err := tenancy.NewService(tenancy.Config{Store: memory.New(), Notifier: n})
	require.NoError(t, err)
	site := tenancytest.Site("p", true)
	site.SiteAdminTenantID = "admin"
	_, err = svc.BootstrapSite(ctx, site)
	require.NoError(t, err)
	_, err = svc.BootstrapOwner(ctx, tenancytest.Owner("o@x.test"))
	require.NoError(t, err)
	for _, id := range []string{"admin", "dev"} {
		tn := tenancytest.Tenant(id, "p", "o@x.test")
		tn.PublicKey = ""
		_, err = svc.BootstrapTenant(ctx, tn)
		require.NoError(t, err)
	}
	assert.Equal(t, []string{"sites//", "tenant/admin/", "tenant/dev/"}, n.list(), "owners are not in the registry snapshot")

	inactive := tenancy.StatusInactive
	_, err = svc.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{Status: &inactive})
	require.NoError(t, err)
	_, err = svc.SetTenantPublicKey(ctx, creator, "dev", "new-pem")
	require.NoError(t, err)
	bad := tenancy.TenantStatus("bogus")
	_, err = svc.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{Status: &bad})
	require.Error(t, err)
	_, err = svc.CreateSite(ctx, creator, tenancy.Site{ID: "x"})
	require.Error(t, err)
	other := tenancytest.Site("q", false)
	other.SiteAdminTenantID = "admin"
	_, err = svc.CreateSite(ctx, creator, other)
	require.NoError(t, err)
	require.NoError(t, svc.DeleteSite(ctx, creator, "q"))
	assert.Equal(t, []string{"sites//", "tenant/admin/", "tenant/dev/", "tenant/dev/", "tenant/dev/", "sites//", "sites//"},
		n.list(), "a refused write notifies nothing")
}

// TestForgetRegistry: a change another instance notified reaches the next
// read at once, whatever the TTL.
func TestForgetRegistry(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, err := w.svc.Registry(ctx)
	require.NoError(t, err)
	other, err := tenancy.NewService(tenancy.Config{Store: w.st})
	require.NoError(t, err)
	inactive := tenancy.StatusInactive
	_, err = other.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{Status: &inactive})
	require.NoError(t, err)
	tn, err := w.svc.GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, tenancy.StatusActive, tn.Status, "within the TTL the snapshot holds")
	w.svc.ForgetRegistry()
	tn, err = w.svc.GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, tenancy.StatusInactive, tn.Status)
}

// slowTenants lets a test act while a registry load is under way.
type slowTenants struct {
	tenancy.Store
	loading chan struct{} // receives when ListTenants starts
	resume  chan struct{}
}

// ListTenants reads the tenants, then waits: what it returns is what the
// store held when it started.
func (s *slowTenants) ListTenants(ctx context.Context, f tenancy.TenantFilter) ([]tenancy.Tenant, error) {
	out, err := s.Store.ListTenants(ctx, f)
	if s.loading != nil {
		s.loading <- struct{}{}
		<-s.resume
	}
	return out, err
}

// TestLoadRacingAForgetIsNotKept: a snapshot loaded while a change was
// notified may predate it, so it is not kept: the next read loads again.
func TestLoadRacingAForgetIsNotKept(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	st := &slowTenants{Store: w.st, loading: make(chan struct{}), resume: make(chan struct{})}
	svc, err := tenancy.NewService(tenancy.Config{Store: st, RegistryTTL: time.Hour})
	require.NoError(t, err)
	done := make(chan *tenancy.Registry)
	go func() {
		reg, err := svc.Registry(ctx)
		assert.NoError(t, err)
		done <- reg
	}()
	<-st.loading
	// Meanwhile another instance deactivates dev and notifies.
	other, err := tenancy.NewService(tenancy.Config{Store: w.st})
	require.NoError(t, err)
	inactive := tenancy.StatusInactive
	_, err = other.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{Status: &inactive})
	require.NoError(t, err)
	svc.ForgetRegistry()
	close(st.resume)
	stale := <-done
	old, _ := stale.Tenant("dev")
	require.Equal(t, tenancy.StatusActive, old.Status, "the racing load read the store before the change")
	st.loading = nil
	tn, err := svc.GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, tenancy.StatusInactive, tn.Status, "the racing load was not kept")
}
