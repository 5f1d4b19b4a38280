package identity_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/identity"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Hosts of the seeded tenants (testenv): admin and dev and other on the
// primary site "local"; world adds an associate site "assoc" with its admin
// tenant assocadmin and a tenant assoc1, and a second associate "assoc2"
// with its admin tenant assoc2admin and a tenant assoc2t. Both associates
// run systems only (and their own Tokens API).
var (
	devHost    = "dev." + testenv.Host
	otherHost  = "other." + testenv.Host
	adminHost  = "admin." + testenv.Host
	assoc1Host = "assoc1.assoc.test"
	assoc2Host = "assoc2t.assoc2.test"
)

// world is a seeded library instance on the memory store with two
// associate sites, and a resolver over its registry and token service.
// Each associate has its own instance (SiteID) over the same store: only a
// tenant's own site signs its tokens, so the associates' tokens are minted
// there.
type world struct {
	env   *testenv.Env
	res   *identity.Resolver
	sites map[string]*tapis.Server // instances of the associate sites
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := testenv.New(t)
	ctx := context.Background()
	w := &world{env: env, sites: map[string]*tapis.Server{}}
	for _, a := range []struct{ site, admin, tenant string }{{"assoc", "assocadmin", "assoc1"}, {"assoc2", "assoc2admin", "assoc2t"}} {
		_, err := env.Server.Tenancy().BootstrapSite(ctx, tenancy.Site{ID: a.site, BaseURL: "http://" + a.site + ".test",
			SiteAdminTenantID: a.admin, Services: []string{"systems"}})
		require.NoError(t, err)
		srv, err := tapis.New(tapis.Config{Store: env.Store, KEK: env.KEK, SiteID: a.site, Now: env.Clock.Now})
		require.NoError(t, err)
		t.Cleanup(func() { _ = srv.Close() })
		w.sites[a.site] = srv
		for _, id := range []string{a.admin, a.tenant} {
			base := "http://" + id + "." + a.site + ".test"
			_, err := srv.Tenancy().BootstrapTenant(ctx, tenancy.Tenant{ID: id, BaseURL: base, SiteID: a.site, Owner: "tapis-dev@example.org",
				AdminUser: "admin", TokenService: base + "/v3/tokens", SecurityKernel: base + "/v3/security", Authenticator: base + "/v3/oauth2"})
			require.NoError(t, err)
		}
	}
	_, err := env.Server.Tenancy().Reload(ctx)
	require.NoError(t, err)
	w.res = resolver(t, env, "")
	return w
}

func resolver(t *testing.T, env *testenv.Env, site string) *identity.Resolver {
	t.Helper()
	r, err := identity.New(identity.Config{Registry: env.Server.Tenancy(), Tokens: env.Server.Tokens(), SiteID: site, DefaultTenant: "dev"})
	require.NoError(t, err)
	return r
}

// mint signs a token at the site that owns its tenant.
func (w *world) mint(t *testing.T, req oauth2.MintRequest) oauth2.TokenPair {
	t.Helper()
	for _, srv := range w.sites {
		if err := srv.Tokens().IssuesFor(context.Background(), req.TenantID); err == nil {
			pair, err := srv.Tokens().Mint(context.Background(), req)
			require.NoError(t, err)
			return pair
		}
	}
	return w.env.Token(t, req)
}

func (w *world) user(t *testing.T, tenant, name string) string {
	return w.mint(t, oauth2.MintRequest{TenantID: tenant, Username: name, AccountType: tenancy.AccountUser}).Access.Raw
}

// service mints a service token of svc@tenant targeting site.
func (w *world) service(t *testing.T, tenant, svc, site string) string {
	return w.mint(t, oauth2.MintRequest{TenantID: tenant, Username: svc, AccountType: tenancy.AccountService, TargetSite: site}).Access.Raw
}

// refused asserts err matches kind and its message contains want.
func refused(t *testing.T, err error, kind error, want string) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, kind)
	assert.Contains(t, err.Error(), want)
}

// TestResolver runs the rules that leave the registry and the clock alone
// on one seeded world (seeding makes five RSA keys).
func TestResolver(t *testing.T) {
	w := newWorld(t)
	for name, fn := range map[string]func(*testing.T, *world){
		"RequestTenant":                        testRequestTenant,
		"UserToken":                            testUserToken,
		"ServiceTokenWithoutOnBehalfOf":        testServiceTokenWithoutOnBehalfOf,
		"ServiceTokenOnBehalfOf":               testServiceTokenOnBehalfOf,
		"AllowableTenants":                     testAllowableTenants,
		"TargetSite":                           testTargetSite,
		"HeadersThatAreNotTextAreRefusedFirst": testHeadersThatAreNotTextAreRefusedFirst,
	} {
		t.Run(name, func(t *testing.T) { fn(t, w) })
	}
}

func TestNewNamesEveryMissingDependency(t *testing.T) {
	_, err := identity.New(identity.Config{})
	require.Error(t, err)
	assert.ErrorContains(t, err, "Config.Registry is nil")
	assert.ErrorContains(t, err, "Config.Tokens is nil")
}

// testRequestTenant: the tenant of a request is the tenant whose base URL
// host equals the Host exactly, else the default tenant; never a substring.
func testRequestTenant(t *testing.T, w *world) {
	ctx := context.Background()
	for host, want := range map[string]string{
		devHost:                  "dev",
		otherHost:                "other",
		"OTHER.tapis.test:80":    "other", // case and the default port do not matter
		assoc1Host:               "assoc1",
		"other.tapis.test.evil":  "dev", // no substring matching
		"xother." + testenv.Host: "dev",
		"":                       "dev",
	} {
		got, err := w.res.RequestTenant(ctx, host)
		require.NoError(t, err, host)
		assert.Equal(t, want, got, "host %q", host)
		p, err := w.res.Resolve(ctx, identity.Request{Host: host})
		require.NoError(t, err, host)
		assert.Equal(t, tenancy.Principal{TenantID: want}, p, "a request without a token is anonymous in the host's tenant")
		assert.False(t, p.Authenticated())
	}
	_, err := w.res.RequestTenant(ctx, "dev.tapis.test\x00")
	refused(t, err, tenancy.ErrInvalid, "Host header contains a NUL character")
}

func testUserToken(t *testing.T, w *world) {
	ctx := context.Background()
	tok := w.user(t, "dev", "testuser1")

	p, err := w.res.Resolve(ctx, identity.Request{Host: devHost, Token: tok})
	require.NoError(t, err)
	assert.Equal(t, "dev", p.TenantID)
	assert.Equal(t, "testuser1", p.Username)
	assert.Equal(t, "dev", p.TokenTenantID)
	assert.Equal(t, "testuser1", p.TokenUsername)
	assert.Equal(t, tenancy.AccountUser, p.AccountType)
	assert.False(t, p.OnBehalfOf)
	assert.NotEmpty(t, p.JTI)
	assert.WithinDuration(t, w.env.Clock.Now().Add(300*time.Second), p.Expires, 5*time.Second, "the token's exp")

	t.Run("from another tenant is refused", func(t *testing.T) {
		_, err := w.res.Resolve(ctx, identity.Request{Host: otherHost, Token: tok})
		refused(t, err, oauth2.ErrInvalidToken, "The tenant_id claim in the token, dev does not match the URL tenant, other.")
		_, err = w.res.Resolve(ctx, identity.Request{Host: "unknown.example", Token: w.user(t, "other", "testuser1")})
		refused(t, err, oauth2.ErrInvalidToken, "does not match the URL tenant, dev.")
	})
	t.Run("on its own tenant's host it passes", func(t *testing.T) {
		p, err := w.res.Resolve(ctx, identity.Request{Host: otherHost, Token: w.user(t, "other", "testuser1")})
		require.NoError(t, err)
		assert.Equal(t, "other", p.TenantID)
	})
	t.Run("with on-behalf-of headers is refused", func(t *testing.T) {
		for name, req := range map[string]identity.Request{
			"both":        {OBOTenant: "dev", OBOUser: "testuser2"},
			"tenant only": {OBOTenant: "dev"},
			"user only":   {OBOUser: "testuser2"},
		} {
			req.Host, req.Token = devHost, tok
			_, err := w.res.Resolve(ctx, req)
			refused(t, err, oauth2.ErrInvalidToken, "Invalid request; cannot set OBO headers with a user token.")
			assert.NotErrorIs(t, err, tenancy.ErrForbidden, name)
		}
	})
}

func testServiceTokenWithoutOnBehalfOf(t *testing.T, w *world) {
	ctx := context.Background()

	// The primary's admin tenant may act for dev: the service acts as itself in dev.
	p, err := w.res.Resolve(ctx, identity.Request{Host: devHost, Token: w.service(t, "admin", "systems", "local")})
	require.NoError(t, err)
	assert.Equal(t, "dev", p.TenantID)
	assert.Equal(t, "systems", p.Username)
	assert.Equal(t, "admin", p.TokenTenantID)
	assert.Equal(t, tenancy.AccountService, p.AccountType)
	assert.Equal(t, "local", p.TargetSite)
	assert.False(t, p.OnBehalfOf)

	// A service of dev (not an admin tenant) on other's host stays in dev.
	p, err = w.res.Resolve(ctx, identity.Request{Host: otherHost, Token: w.service(t, "dev", "abaco", "local")})
	require.NoError(t, err)
	assert.Equal(t, "dev", p.TenantID, "a tenant it may not act for is not taken from the Host")
	assert.Equal(t, "abaco", p.Username)
}

func testServiceTokenOnBehalfOf(t *testing.T, w *world) {
	ctx := context.Background()
	adminSvc := w.service(t, "admin", "jobs", "local")

	t.Run("both headers: acts as the user", func(t *testing.T) {
		p, err := w.res.Resolve(ctx, identity.Request{Host: adminHost, Token: adminSvc, OBOTenant: "dev", OBOUser: "testuser2"})
		require.NoError(t, err)
		assert.Equal(t, "dev", p.TenantID)
		assert.Equal(t, "testuser2", p.Username)
		assert.Equal(t, "admin", p.TokenTenantID)
		assert.Equal(t, "jobs", p.TokenUsername)
		assert.True(t, p.OnBehalfOf)
		assert.True(t, p.IsService())
	})
	t.Run("half the headers", func(t *testing.T) {
		_, err := w.res.Resolve(ctx, identity.Request{Host: devHost, Token: adminSvc, OBOTenant: "dev"})
		refused(t, err, oauth2.ErrInvalidToken, "Invalid service request; X-Tapis-User header missing.")
		_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: adminSvc, OBOUser: "testuser2"})
		refused(t, err, oauth2.ErrInvalidToken, "Invalid service request; X-Tapis-Tenant header missing.")
	})
	t.Run("a tenant that is not allowable", func(t *testing.T) {
		devSvc := w.service(t, "dev", "abaco", "local")
		_, err := w.res.Resolve(ctx, identity.Request{Host: devHost, Token: devSvc, OBOTenant: "other", OBOUser: "testuser1"})
		refused(t, err, tenancy.ErrForbidden, "Tokens of tenant dev may not act for tenant other.")
		_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: adminSvc, OBOTenant: "nosuch", OBOUser: "x"})
		refused(t, err, tenancy.ErrForbidden, "may not act for tenant nosuch")
		p, err := w.res.Resolve(ctx, identity.Request{Host: otherHost, Token: devSvc, OBOTenant: "dev", OBOUser: "testuser1"})
		require.NoError(t, err, "every tenant may act for itself")
		assert.Equal(t, "dev", p.TenantID)
	})
}

// testAllowableTenants: a site's admin tenant acts for the tenants of its
// site, the primary site's admin tenant for every tenant (auth.md §1.3).
func testAllowableTenants(t *testing.T, w *world) {
	ctx := context.Background()
	assocRes := resolver(t, w.env, "assoc")
	cases := []struct {
		name       string
		res        *identity.Resolver
		tenant     string
		site       string
		obo        string
		allowed    bool
		wantTenant string
	}{
		{"primary admin for dev", w.res, "admin", "local", "dev", true, "dev"},
		{"primary admin for other", w.res, "admin", "local", "other", true, "other"},
		{"primary admin for an associate's tenant", w.res, "admin", "local", "assoc1", true, "assoc1"},
		{"primary admin for an associate's admin tenant", w.res, "admin", "local", "assocadmin", true, "assocadmin"},
		{"associate admin for a tenant of its site", assocRes, "assocadmin", "assoc", "assoc1", true, "assoc1"},
		{"associate admin for itself", assocRes, "assocadmin", "assoc", "assocadmin", true, "assocadmin"},
		{"associate admin for a primary tenant", assocRes, "assocadmin", "assoc", "dev", false, ""},
		{"associate admin for the primary admin tenant", assocRes, "assocadmin", "assoc", "admin", false, ""},
		{"a plain tenant for a tenant of its site", assocRes, "assoc1", "assoc", "assocadmin", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tok := w.service(t, tc.tenant, "jobs", tc.site)
			p, err := tc.res.Resolve(ctx, identity.Request{Host: devHost, Token: tok, OBOTenant: tc.obo, OBOUser: "u1"})
			if !tc.allowed {
				refused(t, err, tenancy.ErrForbidden, "Tokens of tenant "+tc.tenant+" may not act for tenant "+tc.obo+".")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantTenant, p.TenantID)
			assert.Equal(t, "u1", p.Username)
			assert.True(t, p.OnBehalfOf)
		})
	}
}

func testTargetSite(t *testing.T, w *world) {
	ctx := context.Background()
	_, err := w.res.Resolve(ctx, identity.Request{Host: devHost, Token: w.service(t, "admin", "jobs", "elsewhere")})
	refused(t, err, oauth2.ErrInvalidToken, "Invalid service token; target_site claim does not match this service's site_id.")

	// Without a configured site the primary is this site; with one, that one.
	assocRes := resolver(t, w.env, "assoc")
	_, err = assocRes.Resolve(ctx, identity.Request{Host: devHost, Token: w.service(t, "admin", "jobs", "local")})
	refused(t, err, oauth2.ErrInvalidToken, "target_site claim does not match")
	_, err = assocRes.Resolve(ctx, identity.Request{Host: assoc1Host, Token: w.service(t, "assocadmin", "jobs", "assoc")})
	require.NoError(t, err)
	_, err = w.res.Resolve(ctx, identity.Request{Host: assoc1Host, Token: w.service(t, "assocadmin", "jobs", "assoc")})
	refused(t, err, oauth2.ErrInvalidToken, "target_site claim does not match")
	_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: w.service(t, "admin", "jobs", "")})
	refused(t, err, oauth2.ErrInvalidToken, "target_site claim does not match") // an empty claim is no site

	reg, err := w.env.Server.Tenancy().Registry(ctx)
	require.NoError(t, err)
	assert.Equal(t, "local", w.res.Site(reg))
	assert.Equal(t, "assoc", assocRes.Site(reg))
}

// TestUnknownSiteRefusesServiceTokens: with no primary site and no site
// configured, no service token is for this site (an empty target_site claim
// must not match an empty site id).
func TestUnknownSiteRefusesServiceTokens(t *testing.T) {
	ctx := context.Background()
	ten, err := tenancy.NewService(tenancy.Config{Store: memory.New()})
	require.NoError(t, err)
	_, err = ten.BootstrapSite(ctx, tenancy.Site{ID: "assoc", BaseURL: "http://assoc.test", SiteAdminTenantID: "a", Services: []string{}})
	require.NoError(t, err)
	claims := oauth2.Claims{TenantID: "a", Username: "jobs", AccountType: tenancy.AccountService, TokenType: "access"}
	res, err := identity.New(identity.Config{Registry: ten, Tokens: fixedClaims{claims}, DefaultTenant: "a"})
	require.NoError(t, err)
	_, err = res.Resolve(ctx, identity.Request{Token: "t"})
	refused(t, err, oauth2.ErrInvalidToken, "this server's site is not known")

	res, err = identity.New(identity.Config{Registry: ten, Tokens: fixedClaims{claims}, SiteID: "assoc", DefaultTenant: "a"})
	require.NoError(t, err)
	_, err = res.Resolve(ctx, identity.Request{Token: "t"})
	refused(t, err, oauth2.ErrInvalidToken, "target_site claim does not match")
}

// fixedClaims is a validator that accepts any token with the same claims
// (for registries without keys).
type fixedClaims struct{ c oauth2.Claims }

func (f fixedClaims) Validate(context.Context, string, string) (oauth2.Claims, error) {
	return f.c, nil
}

func TestTokenRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	key, kid := w.env.SigningKey(t, "dev")
	sign := func(accountType string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"jti": uuid.NewString(), "tapis/tenant_id": "dev",
			"tapis/token_type": "access", "tapis/username": "testuser1", "tapis/account_type": accountType,
			"tapis/target_site": "local", "exp": w.env.Clock.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = kid
		raw, err := tok.SignedString(key)
		require.NoError(t, err)
		return raw
	}
	for _, at := range []string{"robot", "", "USER"} {
		_, err := w.res.Resolve(ctx, identity.Request{Host: devHost, Token: sign(at)})
		refused(t, err, oauth2.ErrInvalidToken, "Invalid Tapis token: tapis/account_type must be user or service.")
	}
	_, err := w.res.Resolve(ctx, identity.Request{Host: devHost, Token: sign("user")})
	require.NoError(t, err, "the same token with a known account type passes")

	revoked := w.user(t, "dev", "testuser1")
	_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: revoked})
	require.NoError(t, err, "valid (and cached) before the revocation")
	_, err = w.env.Server.Tokens().Revoke(ctx, revoked)
	require.NoError(t, err)
	_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: revoked})
	refused(t, err, oauth2.ErrInvalidToken, "has been revoked")

	refresh := w.env.Token(t, oauth2.MintRequest{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser, GenerateRefresh: true}).Refresh.Raw
	_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: refresh})
	refused(t, err, oauth2.ErrInvalidToken, `token type "refresh"`)

	expiring := w.user(t, "dev", "testuser2")
	_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: expiring})
	require.NoError(t, err)
	w.env.Clock.Advance(10 * time.Minute) // past the default 300 s
	_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: expiring})
	refused(t, err, oauth2.ErrInvalidToken, "expired")

	_, err = w.res.Resolve(ctx, identity.Request{Host: devHost, Token: "not-a-jwt"})
	refused(t, err, oauth2.ErrInvalidToken, "not a well-formed JWT")
}

// counting counts the lookups a resolver makes.
type counting struct {
	reg    identity.Registries
	tokens identity.Validator
	n      atomic.Int32
}

func (c *counting) Registry(ctx context.Context) (*tenancy.Registry, error) {
	c.n.Add(1)
	return c.reg.Registry(ctx)
}

func (c *counting) Validate(ctx context.Context, raw, want string) (oauth2.Claims, error) {
	c.n.Add(1)
	return c.tokens.Validate(ctx, raw, want)
}

// testHeadersThatAreNotTextAreRefusedFirst: a NUL, a control character or
// invalid UTF-8 in a header is refused, naming every broken header, before
// the registry or the token is looked at.
func testHeadersThatAreNotTextAreRefusedFirst(t *testing.T, w *world) {
	ctx := context.Background()
	c := &counting{reg: w.env.Server.Tenancy(), tokens: w.env.Server.Tokens()}
	res, err := identity.New(identity.Config{Registry: c, Tokens: c, DefaultTenant: "dev"})
	require.NoError(t, err)
	svc := w.service(t, "admin", "jobs", "local")

	_, err = res.Resolve(ctx, identity.Request{Host: devHost, Token: svc, OBOTenant: "dev\x00", OBOUser: "u\x00"})
	refused(t, err, tenancy.ErrInvalid, "Invalid request; X-Tapis-Tenant header contains a NUL character.; X-Tapis-User header contains a NUL character.")
	_, err = res.Resolve(ctx, identity.Request{Host: "dev\x00.tapis.test", Token: svc})
	refused(t, err, tenancy.ErrInvalid, "Host header contains a NUL character.")
	_, err = res.Resolve(ctx, identity.Request{Host: devHost, Token: svc, OBOTenant: "dev", OBOUser: "u\x01"})
	refused(t, err, tenancy.ErrInvalid, "X-Tapis-User header contains control characters.")
	_, err = res.Resolve(ctx, identity.Request{Host: devHost, Token: svc, OBOTenant: "d\xffev", OBOUser: "u"})
	refused(t, err, tenancy.ErrInvalid, "X-Tapis-Tenant header is not valid UTF-8.")
	_, err = res.Resolve(ctx, identity.Request{Host: devHost, Token: svc + "\x00"})
	refused(t, err, oauth2.ErrInvalidToken, "not a well-formed JWT")
	assert.Zero(t, c.n.Load(), "nothing was looked up")

	p, err := res.Resolve(ctx, identity.Request{Host: devHost, Token: svc, OBOTenant: "dev", OBOUser: "üser"})
	require.NoError(t, err, "non-ASCII text is fine")
	assert.Equal(t, "üser", p.Username)
	assert.Equal(t, int32(2), c.n.Load(), "one registry snapshot and one validation per request")
}

// TestRegistryFailureIsWrapped: a store failure reaches the caller as
// itself (a 500 for httpapi), never as a refusal of the token.
func TestRegistryFailureIsWrapped(t *testing.T) {
	boom := errors.New("store down")
	res, err := identity.New(identity.Config{Registry: failing{boom}, Tokens: fixedClaims{}})
	require.NoError(t, err)
	_, err = res.Resolve(context.Background(), identity.Request{Host: devHost})
	require.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, oauth2.ErrInvalidToken)
	_, err = res.RequestTenant(context.Background(), devHost)
	require.ErrorIs(t, err, boom)
}

type failing struct{ err error }

func (f failing) Registry(context.Context) (*tenancy.Registry, error) { return nil, f.err }
