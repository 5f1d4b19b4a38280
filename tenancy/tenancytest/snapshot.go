package tenancytest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/tenancy"
)

// Snapshot returns a registry snapshot fixture: a primary and an associate
// site, two owners, an LDAP object and three tenants (one of each status).
func Snapshot() tenancy.Snapshot {
	assocSite := Site("assoc", false)
	assocSite.Services = []string{"systems"}
	draft := Tenant("t2", "assoc", "o2@x.test")
	draft.Status, draft.TokenGenServices, draft.UserLDAPConnectionID = tenancy.StatusDraft, []string{}, "l1"
	off := Tenant("t3", "p", "o@x.test")
	off.Status, off.Description, off.PublicKey = tenancy.StatusInactive, "", ""
	return tenancy.Snapshot{
		Sites:   []tenancy.Site{assocSite, Site("p", true)},
		Tenants: []tenancy.Tenant{Tenant("t1", "p", "o@x.test"), draft, off},
		Owners:  []tenancy.Owner{Owner("o2@x.test"), Owner("o@x.test")},
		LDAPs:   []tenancy.LDAPConnection{LDAP("l1")},
		Fetched: When.Add(time.Hour),
		Source:  "https://p.tapis.test",
	}
}

// RunSnapshotStoreTests is the conformance suite of tenancy.SnapshotStore:
// an associate site's copy of the registry comes back as it was saved,
// every field and list, until the next save replaces it whole.
func RunSnapshotStoreTests(t *testing.T, newStore func(t *testing.T) tenancy.SnapshotStore) {
	ctx := context.Background()
	t.Run("EmptyIsNotFound", func(t *testing.T) {
		_, err := newStore(t).LoadRegistrySnapshot(ctx)
		assert.ErrorIs(t, err, tenancy.ErrNotFound)
	})
	t.Run("RoundTrip", func(t *testing.T) {
		st := newStore(t)
		want := Snapshot()
		require.NoError(t, st.SaveRegistrySnapshot(ctx, want))
		got, err := st.LoadRegistrySnapshot(ctx)
		require.NoError(t, err)
		assertSameSnapshot(t, want, got)
	})
	t.Run("SaveReplacesWhole", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.SaveRegistrySnapshot(ctx, Snapshot()))
		next := Snapshot()
		next.Tenants = next.Tenants[:1]
		next.Tenants[0].Description = "changed"
		next.Owners, next.LDAPs = nil, nil
		next.Fetched = next.Fetched.Add(time.Minute)
		require.NoError(t, st.SaveRegistrySnapshot(ctx, next))
		got, err := st.LoadRegistrySnapshot(ctx)
		require.NoError(t, err)
		assertSameSnapshot(t, next, got)
	})
	t.Run("LoadedCopyIsTheCallers", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.SaveRegistrySnapshot(ctx, Snapshot()))
		got, err := st.LoadRegistrySnapshot(ctx)
		require.NoError(t, err)
		got.Sites[0].Services[0] = "changed"
		got.Tenants[0].TokenGenServices[0] = "changed"
		again, err := st.LoadRegistrySnapshot(ctx)
		require.NoError(t, err)
		assertSameSnapshot(t, Snapshot(), again)
	})
}

// assertSameSnapshot compares two snapshots, times as instants.
func assertSameSnapshot(t *testing.T, want, got tenancy.Snapshot) {
	t.Helper()
	assert.True(t, want.Fetched.Equal(got.Fetched), "fetched %v, want %v", got.Fetched, want.Fetched)
	assert.Equal(t, want.Source, got.Source)
	require.Len(t, got.Sites, len(want.Sites))
	for i := range want.Sites {
		w, g := want.Sites[i], got.Sites[i]
		assert.True(t, w.CreateTime.Equal(g.CreateTime) && w.LastUpdateTime.Equal(g.LastUpdateTime), "site %s times", w.ID)
		w.CreateTime, w.LastUpdateTime, g.CreateTime, g.LastUpdateTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		assert.Equal(t, w, g)
	}
	require.Len(t, got.Tenants, len(want.Tenants))
	for i := range want.Tenants {
		w, g := want.Tenants[i], got.Tenants[i]
		assert.True(t, w.CreateTime.Equal(g.CreateTime) && w.LastUpdateTime.Equal(g.LastUpdateTime), "tenant %s times", w.ID)
		w.CreateTime, w.LastUpdateTime, g.CreateTime, g.LastUpdateTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		assert.Equal(t, w, g)
	}
	require.Len(t, got.Owners, len(want.Owners))
	for i := range want.Owners {
		w, g := want.Owners[i], got.Owners[i]
		assert.True(t, w.CreateTime.Equal(g.CreateTime), "owner %s time", w.Email)
		w.CreateTime, w.LastUpdateTime, g.CreateTime, g.LastUpdateTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		assert.Equal(t, w, g)
	}
	require.Len(t, got.LDAPs, len(want.LDAPs))
	for i := range want.LDAPs {
		w, g := want.LDAPs[i], got.LDAPs[i]
		w.CreateTime, w.LastUpdateTime, g.CreateTime, g.LastUpdateTime = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		assert.Equal(t, w, g)
	}
}
