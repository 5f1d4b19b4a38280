// Package tenancytest is the conformance suite every tenancy.Store adapter
// runs, so that memory, SQLite and PostgreSQL give the same answers.
package tenancytest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/tenancy"
)

// When is a fixed UTC timestamp with microseconds, as the services store them.
var When = time.Date(2026, 11, 23, 9, 30, 15, 123456000, time.UTC)

// Site returns a valid site fixture.
func Site(id string, primary bool) tenancy.Site {
	s := tenancy.Site{ID: id, BaseURL: "https://" + id + ".tapis.test", Primary: primary,
		SiteAdminTenantID: id + "-admin", Services: []string{"systems", "tokens"},
		CreateTime: When, LastUpdateTime: When, CreatedBy: "tenants@admin", LastUpdatedBy: "tenants@admin"}
	if primary {
		s.TenantBaseURLTemplate = "https://${tenant_id}." + id + ".tapis.test"
	}
	return s
}

// Owner returns a valid owner fixture.
func Owner(email string) tenancy.Owner {
	return tenancy.Owner{Name: "Owner " + email, Email: email, Institution: "UT", CreateTime: When, LastUpdateTime: When}
}

// LDAP returns a valid LDAP object fixture.
func LDAP(id string) tenancy.LDAPConnection {
	return tenancy.LDAPConnection{ID: id, URL: "ldaps://ldap.test", Port: 636, UseSSL: true,
		UserDN: "ou=users,dc=test", BindDN: "cn=admin,dc=test", BindCredential: "ldap." + id,
		AccountType: "user", CreateTime: When, LastUpdateTime: When}
}

// Tenant returns a valid tenant fixture on site siteID owned by owner.
func Tenant(id, siteID, owner string) tenancy.Tenant {
	base := "https://" + id + "." + siteID + ".tapis.test"
	return tenancy.Tenant{ID: id, BaseURL: base, SiteID: siteID, TokenService: base + "/v3/tokens",
		SecurityKernel: base + "/v3/security", Authenticator: base + "/v3/oauth2", Owner: owner,
		AdminUser: "admin", TokenGenServices: []string{"authenticator"}, Status: tenancy.StatusActive,
		Description: "tenant " + id, PublicKey: "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
		CreateTime: When, LastUpdateTime: When, CreatedBy: "tenants@admin", LastUpdatedBy: "tenants@admin"}
}

// seed creates site s1, owner o@x.test and LDAP l1.
func seed(t *testing.T, st tenancy.Store) {
	t.Helper()
	ctx := context.Background()
	require.NoError(t, st.CreateSite(ctx, Site("s1", true)))
	require.NoError(t, st.CreateOwner(ctx, Owner("o@x.test")))
	require.NoError(t, st.CreateLDAP(ctx, LDAP("l1")))
}

// RunStoreTests runs the suite; newStore must return a fresh, empty store.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) tenancy.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, st tenancy.Store)
	}{
		{"SiteRoundTrip", testSiteRoundTrip},
		{"SiteUniqueness", testSiteUniqueness},
		{"SiteDeleteInUse", testSiteDeleteInUse},
		{"OwnerCRUD", testOwnerCRUD},
		{"LDAPCRUD", testLDAPCRUD},
		{"TenantRoundTrip", testTenantRoundTrip},
		{"TenantUniqueness", testTenantUniqueness},
		{"TenantMissingRefs", testTenantMissingRefs},
		{"TenantListFilter", testTenantListFilter},
		{"TenantUpdateAndHistory", testTenantUpdateAndHistory},
		{"TenantUpdateAbort", testTenantUpdateAbort},
		{"NotFound", testNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

func testSiteRoundTrip(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	primary, assoc := Site("s1", true), Site("s2", false)
	assoc.Services = nil
	require.NoError(t, st.CreateSite(ctx, assoc))
	require.NoError(t, st.CreateSite(ctx, primary))
	got, err := st.GetSite(ctx, "s1")
	require.NoError(t, err)
	assert.Equal(t, primary, got)
	assert.Equal(t, time.UTC, got.CreateTime.Location())
	got2, err := st.GetSite(ctx, "s2")
	require.NoError(t, err)
	assert.NotNil(t, got2.Services, "nil services come back as an empty list")
	assert.Empty(t, got2.Services)
	list, err := st.ListSites(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"s1", "s2"}, []string{list[0].ID, list[1].ID}, "ordered by id")
	require.NoError(t, st.DeleteSite(ctx, "s2"))
	_, err = st.GetSite(ctx, "s2")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	assert.ErrorIs(t, st.DeleteSite(ctx, "s2"), tenancy.ErrNotFound)
}

func testSiteUniqueness(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	require.NoError(t, st.CreateSite(ctx, Site("s1", true)))
	assert.ErrorIs(t, st.CreateSite(ctx, Site("s1", false)), tenancy.ErrAlreadyExists, "same id")
	dupURL := Site("s3", false)
	dupURL.BaseURL = Site("s1", true).BaseURL
	assert.ErrorIs(t, st.CreateSite(ctx, dupURL), tenancy.ErrAlreadyExists, "same base_url")
	dupTpl := Site("s4", true)
	dupTpl.TenantBaseURLTemplate = Site("s1", true).TenantBaseURLTemplate
	assert.ErrorIs(t, st.CreateSite(ctx, dupTpl), tenancy.ErrAlreadyExists, "same template")
	list, err := st.ListSites(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 1, "failed creates write nothing")
}

func testSiteDeleteInUse(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	require.NoError(t, st.CreateTenant(ctx, Tenant("dev", "s1", "o@x.test")))
	assert.ErrorIs(t, st.DeleteSite(ctx, "s1"), tenancy.ErrInUse)
	_, err := st.GetSite(ctx, "s1")
	assert.NoError(t, err, "a refused delete keeps the site")
}

func testOwnerCRUD(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	require.NoError(t, st.CreateOwner(ctx, Owner("a@x.test")))
	assert.ErrorIs(t, st.CreateOwner(ctx, Owner("a@x.test")), tenancy.ErrAlreadyExists)
	got, err := st.GetOwner(ctx, "a@x.test")
	require.NoError(t, err)
	assert.Equal(t, Owner("a@x.test"), got)
	list, err := st.ListOwners(ctx)
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, "a@x.test", list[0].Email, "ordered by email")
	require.NoError(t, st.CreateTenant(ctx, Tenant("dev", "s1", "o@x.test")))
	assert.ErrorIs(t, st.DeleteOwner(ctx, "o@x.test"), tenancy.ErrInUse)
	require.NoError(t, st.DeleteOwner(ctx, "a@x.test"))
	assert.ErrorIs(t, st.DeleteOwner(ctx, "a@x.test"), tenancy.ErrNotFound)
}

func testLDAPCRUD(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	l2 := LDAP("l2")
	l2.AccountType, l2.UseSSL, l2.Port = "service", false, 389
	require.NoError(t, st.CreateLDAP(ctx, l2))
	assert.ErrorIs(t, st.CreateLDAP(ctx, LDAP("l2")), tenancy.ErrAlreadyExists)
	got, err := st.GetLDAP(ctx, "l2")
	require.NoError(t, err)
	assert.Equal(t, l2, got)
	list, err := st.ListLDAPs(ctx)
	require.NoError(t, err)
	assert.Len(t, list, 2)
	tn := Tenant("dev", "s1", "o@x.test")
	tn.UserLDAPConnectionID = "l1"
	tn.ServiceLDAPConnectionID = "l2"
	require.NoError(t, st.CreateTenant(ctx, tn))
	assert.ErrorIs(t, st.DeleteLDAP(ctx, "l1"), tenancy.ErrInUse, "user LDAP in use")
	assert.ErrorIs(t, st.DeleteLDAP(ctx, "l2"), tenancy.ErrInUse, "service LDAP in use")
	require.NoError(t, st.CreateLDAP(ctx, LDAP("l3")))
	require.NoError(t, st.DeleteLDAP(ctx, "l3"))
	assert.ErrorIs(t, st.DeleteLDAP(ctx, "l3"), tenancy.ErrNotFound)
}

func testTenantRoundTrip(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	tn := Tenant("dev", "s1", "o@x.test")
	tn.UserLDAPConnectionID = "l1"
	require.NoError(t, st.CreateTenant(ctx, tn))
	got, err := st.GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, tn, got)
	empty := Tenant("bare", "s1", "o@x.test")
	empty.TokenGenServices, empty.Description, empty.PublicKey = nil, "", ""
	require.NoError(t, st.CreateTenant(ctx, empty))
	got, err = st.GetTenant(ctx, "bare")
	require.NoError(t, err)
	assert.NotNil(t, got.TokenGenServices)
	assert.Empty(t, got.TokenGenServices)
	assert.Empty(t, got.Description)
}

func testTenantUniqueness(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	require.NoError(t, st.CreateTenant(ctx, Tenant("dev", "s1", "o@x.test")))
	assert.ErrorIs(t, st.CreateTenant(ctx, Tenant("dev", "s1", "o@x.test")), tenancy.ErrAlreadyExists)
	dup := Tenant("other", "s1", "o@x.test")
	dup.BaseURL = Tenant("dev", "s1", "o@x.test").BaseURL
	assert.ErrorIs(t, st.CreateTenant(ctx, dup), tenancy.ErrAlreadyExists, "same base_url")
}

func testTenantMissingRefs(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	for name, mutate := range map[string]func(*tenancy.Tenant){
		"site":  func(tn *tenancy.Tenant) { tn.SiteID = "nosite" },
		"owner": func(tn *tenancy.Tenant) { tn.Owner = "nobody@x.test" },
		"ldap":  func(tn *tenancy.Tenant) { tn.UserLDAPConnectionID = "noldap" },
	} {
		tn := Tenant("t-"+name, "s1", "o@x.test")
		mutate(&tn)
		assert.ErrorIs(t, st.CreateTenant(ctx, tn), tenancy.ErrNotFound, name)
		_, err := st.GetTenant(ctx, tn.ID)
		assert.ErrorIs(t, err, tenancy.ErrNotFound, "nothing written for missing %s", name)
	}
}

func testTenantListFilter(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	for id, status := range map[string]tenancy.TenantStatus{"a": tenancy.StatusActive, "d": tenancy.StatusDraft, "i": tenancy.StatusInactive, "b": tenancy.StatusActive} {
		tn := Tenant(id, "s1", "o@x.test")
		tn.Status = status
		require.NoError(t, st.CreateTenant(ctx, tn))
	}
	ids := func(f tenancy.TenantFilter) []string {
		list, err := st.ListTenants(ctx, f)
		require.NoError(t, err)
		out := []string{}
		for _, tn := range list {
			out = append(out, tn.ID)
		}
		return out
	}
	assert.Equal(t, []string{"a", "b"}, ids(tenancy.TenantFilter{}))
	assert.Equal(t, []string{"a", "b", "d"}, ids(tenancy.TenantFilter{ShowDraft: true}))
	assert.Equal(t, []string{"a", "b", "i"}, ids(tenancy.TenantFilter{ShowInactive: true}))
	assert.Equal(t, []string{"a", "b", "d", "i"}, ids(tenancy.TenantFilter{ShowDraft: true, ShowInactive: true}))
}

func testTenantUpdateAndHistory(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	require.NoError(t, st.CreateTenant(ctx, Tenant("dev", "s1", "o@x.test")))
	later := When.Add(time.Hour)
	out, err := st.UpdateTenant(ctx, "dev", func(tn *tenancy.Tenant) (tenancy.TenantHistory, error) {
		prev := tn.Description
		tn.Description = "changed"
		tn.TokenGenServices = []string{"authenticator", "abaco"}
		tn.UserLDAPConnectionID = "l1"
		tn.LastUpdateTime = later
		return tenancy.TenantHistory{TenantID: "dev", UpdateTime: later, UpdatedBy: "tokens@admin",
			Updates: map[string]tenancy.Change{"description": {Prev: prev, New: "changed"}}}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, "changed", out.Description)
	got, err := st.GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, out, got)
	assert.Equal(t, []string{"authenticator", "abaco"}, got.TokenGenServices)
	assert.Equal(t, later, got.LastUpdateTime)

	_, err = st.UpdateTenant(ctx, "dev", func(tn *tenancy.Tenant) (tenancy.TenantHistory, error) {
		return tenancy.TenantHistory{TenantID: "dev", UpdateTime: later, Updates: map[string]tenancy.Change{}}, nil
	})
	require.NoError(t, err)
	hist, err := st.TenantHistory(ctx, "dev")
	require.NoError(t, err)
	require.Len(t, hist, 1, "an update without changes writes no history")
	assert.Equal(t, "tokens@admin", hist[0].UpdatedBy)
	assert.Equal(t, later, hist[0].UpdateTime)
	assert.Equal(t, tenancy.Change{Prev: "tenant dev", New: "changed"}, hist[0].Updates["description"])

	other, err := st.TenantHistory(ctx, "nope")
	require.NoError(t, err)
	assert.Empty(t, other)
}

func testTenantUpdateAbort(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	seed(t, st)
	require.NoError(t, st.CreateTenant(ctx, Tenant("dev", "s1", "o@x.test")))
	boom := assert.AnError
	_, err := st.UpdateTenant(ctx, "dev", func(tn *tenancy.Tenant) (tenancy.TenantHistory, error) {
		tn.Description = "half-done"
		return tenancy.TenantHistory{}, boom
	})
	assert.ErrorIs(t, err, boom)
	got, err := st.GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, "tenant dev", got.Description, "an aborted update writes nothing")
	_, err = st.UpdateTenant(ctx, "dev", func(tn *tenancy.Tenant) (tenancy.TenantHistory, error) {
		tn.Owner = "nobody@x.test"
		return tenancy.TenantHistory{}, nil
	})
	assert.ErrorIs(t, err, tenancy.ErrNotFound, "an update naming a missing owner fails")
	_, err = st.UpdateTenant(ctx, "ghost", func(*tenancy.Tenant) (tenancy.TenantHistory, error) {
		t.Fatal("updater must not run for a missing tenant")
		return tenancy.TenantHistory{}, nil
	})
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
}

func testNotFound(t *testing.T, st tenancy.Store) {
	ctx := context.Background()
	_, err := st.GetSite(ctx, "x")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	_, err = st.GetTenant(ctx, "x")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	_, err = st.GetOwner(ctx, "x@y")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	_, err = st.GetLDAP(ctx, "x")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	list, err := st.ListTenants(ctx, tenancy.TenantFilter{ShowDraft: true, ShowInactive: true})
	require.NoError(t, err)
	assert.NotNil(t, list)
	assert.Empty(t, list)
}
