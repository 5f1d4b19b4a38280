package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// Service-level tests of the Tenants API rules (reference/auth.md §1-§2 and
// the README's "Tenants", "Deleting", "Registry writes") on the memory
// store: who may write the registry, every validation rule named, 409s for
// records still in use, partial updates with history.

// world is a Service on the memory store with primary site "p" (admin
// tenant "admin"), owner o@x.test, LDAP l1 and tenants admin and dev (admin
// user "devadmin").
type world struct {
	svc *tenancy.Service
	st  *memory.Store
	now *clockT
}

type clockT struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clockT) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clockT) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// creator is the primary site's tenants service: it may write the registry.
var creator = tenancy.Principal{TenantID: "admin", Username: "tenants", AccountType: tenancy.AccountService,
	TokenTenantID: "admin", TokenUsername: "tenants"}

func newWorld(t *testing.T) world {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	clk := &clockT{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	svc, err := tenancy.NewService(tenancy.Config{Store: st, Now: clk.Now, RegistryTTL: time.Minute})
	require.NoError(t, err)
	site := tenancytest.Site("p", true)
	site.SiteAdminTenantID = "admin"
	_, err = svc.BootstrapSite(ctx, site)
	require.NoError(t, err)
	_, err = svc.BootstrapOwner(ctx, tenancytest.Owner("o@x.test"))
	require.NoError(t, err)
	_, err = svc.BootstrapLDAP(ctx, tenancytest.LDAP("l1"))
	require.NoError(t, err)
	for _, id := range []string{"admin", "dev"} {
		tn := tenancytest.Tenant(id, "p", "o@x.test")
		tn.PublicKey, tn.AdminUser = "", id+"admin"
		_, err := svc.BootstrapTenant(ctx, tn)
		require.NoError(t, err)
	}
	return world{svc: svc, st: st, now: clk}
}

func user(tenant, name string) tenancy.Principal {
	return tenancy.Principal{TenantID: tenant, Username: name, AccountType: tenancy.AccountUser, TokenTenantID: tenant, TokenUsername: name}
}

func assertRules(t *testing.T, err error, kind error, rules ...string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, kind)
	for _, r := range rules {
		assert.Contains(t, err.Error(), r)
	}
}

func TestNewServiceNeedsAStore(t *testing.T) {
	_, err := tenancy.NewService(tenancy.Config{})
	assert.ErrorContains(t, err, "Config.Store is nil")
}

// TestRegistryWritesNeedATenantCreator: only the named services of the
// primary site's admin tenant create and delete sites, tenants, owners and
// LDAP objects.
func TestRegistryWritesNeedATenantCreator(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	for name, p := range map[string]tenancy.Principal{
		"anonymous":                     {TenantID: "admin"},
		"a tenant admin":                user("dev", "devadmin"),
		"the site-admin tenant's admin": user("admin", "adminadmin"),
		"another admin service":         {TenantID: "admin", Username: "jobs", AccountType: tenancy.AccountService, TokenTenantID: "admin", TokenUsername: "jobs"},
		"tenants of another tenant":     {TenantID: "dev", Username: "tenants", AccountType: tenancy.AccountService, TokenTenantID: "dev", TokenUsername: "tenants"},
	} {
		_, err := w.svc.CreateSite(ctx, p, tenancytest.Site("s2", false))
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
		_, err = w.svc.CreateTenant(ctx, p, tenancytest.Tenant("t2", "p", "o@x.test"))
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
		_, err = w.svc.CreateOwner(ctx, p, tenancytest.Owner("n@x.test"))
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
		_, err = w.svc.CreateLDAP(ctx, p, tenancytest.LDAP("l2"))
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
		assert.ErrorIs(t, w.svc.DeleteSite(ctx, p, "p"), tenancy.ErrForbidden, name)
		_, err = w.svc.DeleteOwner(ctx, p, "o@x.test")
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
		assert.ErrorIs(t, w.svc.DeleteLDAP(ctx, p, "l1"), tenancy.ErrForbidden, name)
	}
	sites, err := w.svc.ListSites(ctx)
	require.NoError(t, err)
	assert.Len(t, sites, 1, "nothing refused was written")

	custom, err := tenancy.NewService(tenancy.Config{Store: w.st, Roles: tenancy.Roles{TenantCreators: []string{"registrar"}}})
	require.NoError(t, err)
	_, err = custom.CreateOwner(ctx, creator, tenancytest.Owner("n@x.test"))
	assert.ErrorIs(t, err, tenancy.ErrForbidden, "the roles are configuration")
	registrar := creator
	registrar.Username, registrar.TokenUsername = "registrar", "registrar"
	_, err = custom.CreateOwner(ctx, registrar, tenancytest.Owner("n@x.test"))
	assert.NoError(t, err)
}

func TestSites(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	assoc := tenancytest.Site("assoc", false)
	s, err := w.svc.CreateSite(ctx, creator, assoc)
	require.NoError(t, err)
	assert.Equal(t, "tenants@admin", s.CreatedBy)
	assert.Equal(t, w.now.Now().UTC(), s.CreateTime)
	got, err := w.svc.GetSite(ctx, "assoc")
	require.NoError(t, err)
	assert.Equal(t, s, got)
	_, err = w.svc.GetSite(ctx, "nosuch")
	assertRules(t, err, tenancy.ErrNotFound, "No site found with site_id nosuch.")

	_, err = w.svc.CreateSite(ctx, creator, tenancy.Site{ID: "bad id", BaseURL: "ftp://x", Primary: true, SiteAdminTenantID: "",
		Services: []string{"sys tems"}, TenantBaseURLTemplate: "https://x.example.org"})
	assertRules(t, err, tenancy.ErrInvalid, "site_id is required", "base_url must be an absolute http or https URL",
		"site_admin_tenant_id is required", `services: "sys tems"`, "a primary site already exists.", "must contain ${tenant_id}")
	second := tenancytest.Site("second", true)
	second.TenantBaseURLTemplate = ""
	_, err = w.svc.CreateSite(ctx, creator, second)
	assertRules(t, err, tenancy.ErrInvalid, "tenant_base_url_template is required for primary site.")
	withTemplate := tenancytest.Site("assoc2", false)
	withTemplate.TenantBaseURLTemplate = "https://${tenant_id}.assoc2.test"
	_, err = w.svc.CreateSite(ctx, creator, withTemplate)
	assertRules(t, err, tenancy.ErrInvalid, "the tenant_base_url_template property only applies to primary sites.")
	_, err = w.svc.CreateSite(ctx, creator, assoc)
	assertRules(t, err, tenancy.ErrAlreadyExists, "uniqueness constraints")

	tn := tenancytest.Tenant("t1", "assoc", "o@x.test")
	tn.PublicKey = ""
	_, err = w.svc.CreateTenant(ctx, creator, tn)
	require.NoError(t, err)
	assertRules(t, w.svc.DeleteSite(ctx, creator, "assoc"), tenancy.ErrInUse, "Site assoc still owns tenants")
	assertRules(t, w.svc.DeleteSite(ctx, creator, "nosuch"), tenancy.ErrNotFound, "No site found")
	bare := tenancytest.Site("bare", false)
	bare.BaseURL = "https://bare.example.org"
	_, err = w.svc.CreateSite(ctx, creator, bare)
	require.NoError(t, err)
	require.NoError(t, w.svc.DeleteSite(ctx, creator, "bare"))
	reg, err := w.svc.Registry(ctx)
	require.NoError(t, err)
	_, ok := reg.Site("bare")
	assert.False(t, ok, "a write through the Service refreshes the registry")
}

func TestOwnersAndLDAPs(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, err := w.svc.CreateOwner(ctx, creator, tenancy.Owner{Name: " ", Email: "not-an-email", Institution: strings.Repeat("i", 81)})
	assertRules(t, err, tenancy.ErrInvalid, "name is required.", "email is required and must be an email address.", "institution must be at most 80")
	_, err = w.svc.CreateOwner(ctx, creator, tenancytest.Owner("o@x.test"))
	assertRules(t, err, tenancy.ErrAlreadyExists, "an owner with email o@x.test already exists")
	o, err := w.svc.CreateOwner(ctx, creator, tenancytest.Owner("n@x.test"))
	require.NoError(t, err)
	got, err := w.svc.GetOwner(ctx, "n@x.test")
	require.NoError(t, err)
	assert.Equal(t, o, got)
	_, err = w.svc.DeleteOwner(ctx, creator, "o@x.test")
	assertRules(t, err, tenancy.ErrInUse, "Owner o@x.test is the owner of existing tenants")
	_, err = w.svc.DeleteOwner(ctx, creator, "n@x.test")
	require.NoError(t, err)
	_, err = w.svc.GetOwner(ctx, "n@x.test")
	assertRules(t, err, tenancy.ErrNotFound, "No owner object found with email n@x.test.")
	_, err = w.svc.DeleteOwner(ctx, creator, "n@x.test")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	owners, err := w.svc.ListOwners(ctx)
	require.NoError(t, err)
	assert.Len(t, owners, 1)

	_, err = w.svc.CreateLDAP(ctx, creator, tenancy.LDAPConnection{ID: "bad id", URL: "https://ldap", Port: 0, AccountType: "robot"})
	assertRules(t, err, tenancy.ErrInvalid, "ldap_id is required", "url must be an absolute ldap or ldaps URL", "port must be between 1 and 65535.",
		"user_dn is required.", "bind_dn is required.", "bind_credential is required.", "account_type must be one of user, service.")
	_, err = w.svc.CreateLDAP(ctx, creator, tenancytest.LDAP("l1"))
	assertRules(t, err, tenancy.ErrAlreadyExists, "ldap_id l1 already exists")
	svcLDAP := tenancytest.LDAP("l2")
	svcLDAP.AccountType = "service"
	_, err = w.svc.CreateLDAP(ctx, creator, svcLDAP)
	require.NoError(t, err)
	got2, err := w.svc.GetLDAP(ctx, "l2")
	require.NoError(t, err)
	assert.Equal(t, "service", got2.AccountType, "the real account type is kept")
	_, err = w.svc.GetLDAP(ctx, "nosuch")
	assertRules(t, err, tenancy.ErrNotFound, "No LDAP object found with ldap_id nosuch.")

	ldapID := "l1"
	_, err = w.svc.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{UserLDAPConnectionID: &ldapID})
	require.NoError(t, err)
	assertRules(t, w.svc.DeleteLDAP(ctx, creator, "l1"), tenancy.ErrInUse, "in use by existing tenants")
	require.NoError(t, w.svc.DeleteLDAP(ctx, creator, "l2"))
	assertRules(t, w.svc.DeleteLDAP(ctx, creator, "l2"), tenancy.ErrNotFound, "No LDAP object found")
	ldaps, err := w.svc.ListLDAPs(ctx)
	require.NoError(t, err)
	assert.Len(t, ldaps, 1)
}

func TestCreateTenant(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	tn := tenancytest.Tenant("t1", "p", "o@x.test")
	tn.PublicKey, tn.Status = "", "ACTIVE"
	got, err := w.svc.CreateTenant(ctx, creator, tn)
	require.NoError(t, err)
	assert.Equal(t, tenancy.StatusActive, got.Status, "status is read in any case")
	assert.Equal(t, "tenants@admin", got.CreatedBy)
	noStatus := tenancytest.Tenant("t2", "p", "o@x.test")
	noStatus.PublicKey, noStatus.Status, noStatus.TokenGenServices = "", "", nil
	got, err = w.svc.CreateTenant(ctx, creator, noStatus)
	require.NoError(t, err)
	assert.Equal(t, tenancy.StatusActive, got.Status, "status defaults to active")
	assert.Equal(t, []string{}, got.TokenGenServices)

	_, err = w.svc.CreateTenant(ctx, creator, tenancy.Tenant{ID: "ldaps", BaseURL: "nope", SiteID: "nosuch", Owner: "x@x.test",
		TokenGenServices: []string{"bad name"}, Status: "paused", UserLDAPConnectionID: "nol", PublicKey: "not a key",
		Description: strings.Repeat("d", 1001)})
	assertRules(t, err, tenancy.ErrInvalid, "Invalid tenant_id; 'ldaps' is a reserved keyword.", "base_url must be an absolute",
		"token_service is required.", "admin_user is required.", `token_gen_services: "bad name"`, "status must be one of draft, active, inactive.",
		"site nosuch not found.", "Owner x@x.test not found.", "LDAP nol not found.", "public_key must be a PEM RSA public key",
		"description must be at most 1000")
	_, err = w.svc.CreateTenant(ctx, creator, tenancy.Tenant{ID: "bad_id"})
	assertRules(t, err, tenancy.ErrInvalid, "tenant_id is required and must match", "site_id is required.", "owner is required.")
	_, err = w.svc.CreateTenant(ctx, creator, tn)
	assertRules(t, err, tenancy.ErrAlreadyExists, "a tenant with tenant_id t1 already exists")
	sameURL := tenancytest.Tenant("t3", "p", "o@x.test")
	sameURL.PublicKey, sameURL.BaseURL = "", tn.BaseURL
	_, err = w.svc.CreateTenant(ctx, creator, sameURL)
	assertRules(t, err, tenancy.ErrAlreadyExists, "tenant_id or base_url already exists")
	assert.ErrorIs(t, w.svc.DeleteTenant(ctx, creator, "t1"), tenancy.ErrInvalid, "tenants are deactivated, never deleted")
	_, err = w.svc.GetTenant(ctx, "t1")
	require.NoError(t, err)
	_, err = w.svc.GetTenant(ctx, "nosuch")
	assertRules(t, err, tenancy.ErrNotFound, "No tenant found with tenant_id nosuch.")
}

// keys records what a tenant create asks of the tokens side.
type keys struct {
	asked      []string
	failCommit bool
}

func (k *keys) PrepareTenantKeys(_ context.Context, id, pub string) (tenancy.PreparedKeys, error) {
	k.asked = append(k.asked, id+"|"+pub)
	if pub == "" {
		pub = "generated-for-" + id
	}
	return tenancy.PreparedKeys{PublicKeyPEM: pub, Commit: func(context.Context) error {
		if k.failCommit {
			return errors.New("key store down")
		}
		return nil
	}}, nil
}

func (k *keys) AdoptPublicKey(_ context.Context, id, pub string) (string, error) {
	k.asked = append(k.asked, "adopt|"+id)
	return pub, nil
}

func TestCreateTenantProvisionsKeys(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	k := &keys{}
	svc, err := tenancy.NewService(tenancy.Config{Store: w.st, Keys: k})
	require.NoError(t, err)
	tn := tenancytest.Tenant("t1", "p", "o@x.test")
	tn.PublicKey = ""
	got, err := svc.CreateTenant(ctx, creator, tn)
	require.NoError(t, err)
	assert.Equal(t, "generated-for-t1", got.PublicKey)
	assert.Equal(t, []string{"t1|"}, k.asked)

	k.failCommit = true
	tn = tenancytest.Tenant("t2", "p", "o@x.test")
	tn.PublicKey = ""
	_, err = svc.CreateTenant(ctx, creator, tn)
	assert.ErrorContains(t, err, "rotate them with PUT /v3/tokens/keys", "a tenant without stored keys says how to recover")
	_, err = svc.CreateTenant(ctx, creator, tenancytest.Tenant("t3", "p", "o@x.test"))
	assert.ErrorContains(t, err, "public_key must be a PEM RSA public key", "a given key is checked before it is adopted")
	assert.Len(t, k.asked, 2)
}

func TestUpdateTenant(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	devAdmin := user("dev", "devadmin")
	desc, url, empty := "new description", "https://tokens.example.org", ""

	w.now.Advance(time.Minute)
	got, err := w.svc.UpdateTenant(ctx, devAdmin, "dev", tenancy.TenantUpdate{Description: &desc, TokenService: &url})
	require.NoError(t, err, "the tenant's own admin updates it")
	assert.Equal(t, desc, got.Description)
	assert.Equal(t, "devadmin@dev", got.LastUpdatedBy)
	assert.Equal(t, w.now.Now(), got.LastUpdateTime)
	hist, err := w.svc.TenantHistory(ctx, "dev")
	require.NoError(t, err)
	require.Len(t, hist, 1)
	assert.Equal(t, map[string]tenancy.Change{"description": {Prev: "tenant dev", New: desc}, "token_service": {Prev: "https://dev.p.tapis.test/v3/tokens", New: url}},
		hist[0].Updates, "the history key is token_service")

	_, err = w.svc.UpdateTenant(ctx, devAdmin, "dev", tenancy.TenantUpdate{Description: &desc})
	require.NoError(t, err)
	hist, err = w.svc.TenantHistory(ctx, "dev")
	require.NoError(t, err)
	assert.Len(t, hist, 1, "no history when nothing changed")
	got, err = w.svc.UpdateTenant(ctx, devAdmin, "dev", tenancy.TenantUpdate{Description: &empty})
	require.NoError(t, err)
	assert.Empty(t, got.Description, "an empty string clears an optional field")
	draft := tenancy.TenantStatus("DRAFT")
	gens := []string{"authenticator", "tokens"}
	got, err = w.svc.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{Status: &draft, TokenGenServices: &gens})
	require.NoError(t, err)
	assert.Equal(t, tenancy.StatusDraft, got.Status)
	assert.Equal(t, gens, got.TokenGenServices)
	list, err := w.svc.ListTenants(ctx, tenancy.TenantFilter{})
	require.NoError(t, err)
	assert.Len(t, list, 1, "a draft tenant is hidden by default")
	list, err = w.svc.ListTenants(ctx, tenancy.TenantFilter{ShowDraft: true})
	require.NoError(t, err)
	assert.Len(t, list, 2)

	bad, nosuch, paused := "ftp://x", "nosuch", tenancy.TenantStatus("paused")
	_, err = w.svc.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{Immutable: []string{"tenant_id", "base_url"}, PublicKey: &desc,
		Status: &paused, Authenticator: &bad, AdminUser: &empty, Owner: &nosuch, ServiceLDAPConnectionID: &nosuch,
		TokenGenServices: &[]string{""}})
	assertRules(t, err, tenancy.ErrInvalid, "tenant_id cannot be changed.", "base_url cannot be changed.", "public_key is managed by the Tokens service",
		"status must be one of", "authenticator must be an absolute", "admin_user cannot be empty.", "Owner nosuch not found.", "LDAP nosuch not found.",
		`token_gen_services: ""`)
	for name, p := range map[string]tenancy.Principal{
		"a user of the tenant":        user("dev", "testuser1"),
		"another tenant's admin":      user("admin", "adminadmin"),
		"a service of the tenant":     {TenantID: "dev", Username: "tenants", AccountType: tenancy.AccountService, TokenTenantID: "dev", TokenUsername: "tenants"},
		"a non-updater admin service": {TenantID: "admin", Username: "jobs", AccountType: tenancy.AccountService, TokenTenantID: "admin", TokenUsername: "jobs"},
	} {
		_, err := w.svc.UpdateTenant(ctx, p, "dev", tenancy.TenantUpdate{Description: &desc})
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
	}
	tokens := tenancy.Principal{TenantID: "admin", Username: "tokens", AccountType: tenancy.AccountService, TokenTenantID: "admin", TokenUsername: "tokens"}
	_, err = w.svc.UpdateTenant(ctx, tokens, "dev", tenancy.TenantUpdate{Description: &desc})
	assert.NoError(t, err, "an updater service of the site-admin tenant")
	_, err = w.svc.UpdateTenant(ctx, creator, "nosuch", tenancy.TenantUpdate{Description: &desc})
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	_, err = w.svc.TenantHistory(ctx, "nosuch")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)

	got, err = w.svc.SetTenantPublicKey(ctx, tokens, "dev", "new-public-key")
	require.NoError(t, err)
	assert.Equal(t, "new-public-key", got.PublicKey)
	hist, err = w.svc.TenantHistory(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, "tokens@admin", hist[len(hist)-1].UpdatedBy)
	assert.Contains(t, hist[len(hist)-1].Updates, "public_key")
	_, err = w.svc.SetTenantPublicKey(ctx, tokens, "nosuch", "k")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
}

// TestRegistrySnapshot: the registry is cached for RegistryTTL; another
// writer of the same store shows after it (or a Reload), a write through
// the Service at once.
func TestRegistrySnapshot(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	reg, err := w.svc.Registry(ctx)
	require.NoError(t, err)
	other, err := tenancy.NewService(tenancy.Config{Store: w.st})
	require.NoError(t, err)
	tn := tenancytest.Tenant("t1", "p", "o@x.test")
	tn.PublicKey = ""
	_, err = other.CreateTenant(ctx, creator, tn)
	require.NoError(t, err)

	again, err := w.svc.Registry(ctx)
	require.NoError(t, err)
	assert.Same(t, reg, again, "within the TTL the snapshot is reused")
	_, ok := again.Tenant("t1")
	assert.False(t, ok)
	w.now.Advance(time.Minute)
	fresh, err := w.svc.Registry(ctx)
	require.NoError(t, err)
	_, ok = fresh.Tenant("t1")
	assert.True(t, ok, "after the TTL another writer's tenant shows")
	assert.Len(t, fresh.Tenants(), 3)
	assert.Same(t, w.st, w.svc.Store())
}
