package tapis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// twoSites is a primary (testenv.Serve: site "local", tenants admin and
// dev) and an associate "assoc" on its own memory store, each behind its
// own HTTP server, the associate registered at the primary with its admin
// tenant assocadmin and a tenant assoc1 (user alice), running systems and
// the authenticator.
type twoSites struct {
	primary     *testenv.Env
	primaryURL  string
	primarySrv  *httptest.Server
	assoc       *tapis.Server
	assocURL    string
	assocClock  *testenv.Clock
	assocHandle http.Handler
}

const assoc1Host = "assoc1.assoc.test"

func newTwoSites(t *testing.T) *twoSites {
	t.Helper()
	ctx := context.Background()
	// The primary behind a server this test can stop.
	primary := testenv.New(t)
	psrv := httptest.NewServer(primary.Handler)
	t.Cleanup(psrv.Close)
	clock := &testenv.Clock{}
	assoc, err := tapis.New(tapis.Config{Store: memory.New(), KEK: seal.NewKey(), SiteID: "assoc", PasswordCost: bcrypt.MinCost,
		Now: clock.Now, Primary: &tapis.PrimaryConfig{URL: psrv.URL, StaleAfter: time.Minute, MinRefresh: time.Millisecond}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = assoc.Close() })
	asrv := httptest.NewServer(assoc.Handler())
	t.Cleanup(asrv.Close)

	ten := primary.Server.Tenancy()
	_, err = ten.CreateSite(ctx, adminPrincipal(), tenancy.Site{ID: "assoc", BaseURL: asrv.URL, SiteAdminTenantID: "assocadmin",
		Services: []string{"systems", "authenticator"}})
	require.NoError(t, err)
	// The associate makes its admin tenant's key; the primary's operator
	// registers that tenant with it.
	own, err := assoc.SyncPrimary(ctx)
	require.NoError(t, err)
	require.Len(t, own, 1)
	assert.Equal(t, "assocadmin", own[0].TenantID)
	assert.False(t, own[0].Published)
	for _, id := range []string{"assocadmin", "assoc1"} {
		base := "http://" + id + ".assoc.test"
		tn := tenancy.Tenant{ID: id, BaseURL: base, SiteID: "assoc", Owner: "tapis-dev@example.org", AdminUser: "admin",
			Status: tenancy.StatusActive, TokenService: base + "/v3/tokens", SecurityKernel: base + "/v3/security",
			Authenticator: base + "/v3/oauth2", Description: "tenant " + id}
		if id == "assocadmin" {
			tn.PublicKey = own[0].PublicKeyPEM
		}
		_, err := ten.CreateTenant(ctx, adminPrincipal(), tn)
		require.NoError(t, err)
	}
	own, err = assoc.SyncPrimary(ctx)
	require.NoError(t, err)
	require.Len(t, own, 2)
	for _, k := range own {
		assert.True(t, k.Published, "%s: %v", k.TenantID, k.Err)
	}
	require.NoError(t, assoc.Tokens().Accounts.Set(ctx, "assoc1", "alice", tenancy.AccountUser, "alice-password"))
	return &twoSites{primary: primary, primaryURL: psrv.URL, primarySrv: psrv, assoc: assoc, assocURL: asrv.URL,
		assocClock: clock, assocHandle: assoc.Handler()}
}

// call sends one request to base with Host host; it returns the status and
// the decoded envelope.
func call(t *testing.T, method, base, path, host, token string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ctype = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("X-Tapis-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var env map[string]any
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = json.Unmarshal(raw, &env)
	return resp.StatusCode, env
}

func result(t *testing.T, env map[string]any) map[string]any {
	t.Helper()
	r, ok := env["result"].(map[string]any)
	require.True(t, ok, "no result object in %v", env)
	return r
}

// TestTwoSitesInProcess: the associate machinery end to end over real HTTP
// between two instances in this process (the process-level test is
// examples/server's TestTwoSiteDeployment).
func TestTwoSitesInProcess(t *testing.T) {
	s := newTwoSites(t)
	ctx := context.Background()

	// A user of the associate's tenant logs in at the associate.
	code, env := call(t, "POST", s.assocURL, "/v3/oauth2/tokens", assoc1Host, "",
		map[string]string{"grant_type": "password", "username": "alice", "password": "alice-password"})
	require.Equal(t, http.StatusCreated, code, "%v", env)
	tok := result(t, env)["access_token"].(map[string]any)["access_token"].(string)
	pair, err := s.assoc.Tokens().Mint(ctx, oauth2.MintRequest{TenantID: "assoc1", Username: "alice", AccountType: tenancy.AccountUser,
		GenerateRefresh: true})
	require.NoError(t, err)
	refresh := pair.Refresh.Raw

	// The associate serves its systems.
	code, env = call(t, "POST", s.assocURL, "/v3/systems", assoc1Host, tok, map[string]any{"id": "sys1", "systemType": "LINUX",
		"host": "example.org", "defaultAuthnMethod": "PASSWORD", "canExec": false, "rootDir": "/"})
	require.Equal(t, http.StatusCreated, code, "%v", env)
	code, env = call(t, "GET", s.assocURL, "/v3/systems?search=(id.eq.sys1)", assoc1Host, tok, nil)
	require.Equal(t, http.StatusOK, code, "%v", env)
	assert.Len(t, env["result"], 1)
	code, env = call(t, "GET", s.primaryURL, "/v3/systems/sys1", assoc1Host, tok, nil)
	assert.Equal(t, http.StatusForbidden, code, "the primary does not serve systems to a tenant whose site runs them: %v", env)
	assert.Contains(t, env["message"], "Site assoc runs the systems service for tenant assoc1")

	// Registry reads come from the mirror; writes go to the primary, which
	// accepts the associate's token.
	var got tenancy.Tenant
	code, env = call(t, "GET", s.assocURL, "/v3/tenants/dev", assoc1Host, "", nil)
	require.Equal(t, http.StatusOK, code, "%v", env)
	assert.Equal(t, "local", result(t, env)["site_id"])
	desc := "changed through the associate"
	code, env = call(t, "PUT", s.assocURL, "/v3/tenants/assoc1", assoc1Host, tokAdmin(t, s), map[string]any{"description": desc})
	require.Equal(t, http.StatusOK, code, "%v", env)
	got, err = s.primary.Server.Tenancy().GetTenant(ctx, "assoc1")
	require.NoError(t, err)
	assert.Equal(t, desc, got.Description, "the primary made the write")

	// A token revoked at the associate is not forwarded.
	revoked := tokAdmin(t, s)
	_, err = s.assoc.Tokens().Revoke(ctx, revoked)
	require.NoError(t, err)
	code, env = call(t, "PUT", s.assocURL, "/v3/tenants/assoc1", assoc1Host, revoked, map[string]any{"description": "revoked"})
	assert.Equal(t, http.StatusUnauthorized, code, "%v", env)

	// Token authority: neither site signs for the other's tenants.
	_, err = s.primary.Server.Tokens().Mint(ctx, oauth2.MintRequest{TenantID: "assoc1", Username: "alice", AccountType: tenancy.AccountUser})
	assert.ErrorIs(t, err, tenancy.ErrForbidden)
	assert.ErrorContains(t, err, "issued by its own site assoc")
	_, err = s.assoc.Tokens().Mint(ctx, oauth2.MintRequest{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser})
	assert.ErrorIs(t, err, tenancy.ErrForbidden)
	code, env = call(t, "POST", s.primaryURL, "/v3/oauth2/tokens", assoc1Host, "",
		map[string]string{"grant_type": "password", "username": "alice", "password": "alice-password"})
	assert.Equal(t, http.StatusForbidden, code, "%v", env)

	_, err = s.primary.Server.Tokens().Refresh(ctx, refresh)
	assert.ErrorIs(t, err, tenancy.ErrForbidden, "the primary refreshes no token of an associate's tenant")
	_, err = s.assoc.Tokens().Refresh(ctx, refresh)
	assert.NoError(t, err, "its own site does")
	_, err = s.primary.Server.Tokens().RotateKeys(ctx, adminPrincipal(), "assoc1")
	assert.ErrorIs(t, err, tenancy.ErrForbidden, "the primary rotates no key of another site's tenant")
	assert.ErrorContains(t, err, "rotate its keys there")

	// A rotated key is published before use; the primary verifies both.
	_, err = s.primary.Server.Tokens().Validate(ctx, tok, "access")
	require.NoError(t, err)
	_, err = s.assoc.Tokens().RotateKeys(ctx, tenancy.Principal{TenantID: "assoc1", Username: "admin", AccountType: tenancy.AccountUser,
		TokenTenantID: "assoc1", TokenUsername: "admin"}, "assoc1")
	require.NoError(t, err)
	fresh, err := s.assoc.Tokens().Mint(ctx, oauth2.MintRequest{TenantID: "assoc1", Username: "alice", AccountType: tenancy.AccountUser})
	require.NoError(t, err)
	_, err = s.primary.Server.Tokens().Validate(ctx, fresh.Access.Raw, "access")
	assert.NoError(t, err, "the new key is known at the primary at once")
	s.primary.Server.Tokens().ForgetCachedTokens()
	_, err = s.primary.Server.Tokens().Validate(ctx, tok, "access")
	assert.NoError(t, err, "the old key verifies during the overlap")

	// A key or tenant the associate's copy does not know yet makes it read
	// the registry again at once.
	_, err = s.primary.Server.Tokens().RotateKeys(ctx, adminPrincipal(), "dev")
	require.NoError(t, err)
	devTok := s.primary.UserToken(t, "dev", "testuser1")
	_, err = s.assoc.Tokens().Validate(ctx, devTok, "access")
	assert.NoError(t, err, "a token of the primary's rotated key verifies at the associate")
	late := tenancy.Tenant{ID: "late", BaseURL: "http://late.tapis.test", SiteID: "local", Owner: "tapis-dev@example.org", AdminUser: "admin",
		Status: tenancy.StatusActive, TokenService: "http://late.tapis.test/v3/tokens", SecurityKernel: "http://late.tapis.test/v3/security",
		Authenticator: "http://late.tapis.test/v3/oauth2", Description: "created after the sync"}
	_, err = s.primary.Server.Tenancy().CreateTenant(ctx, adminPrincipal(), late)
	require.NoError(t, err)
	_, err = s.assoc.Tokens().Validate(ctx, s.primary.UserToken(t, "late", "bob"), "access")
	assert.NoError(t, err, "a token of a tenant created since the sync verifies at the associate")
	_, err = s.assoc.Tokens().Validate(ctx, strings.Replace(devTok, ".", "x.", 1), "access")
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken, "a garbled token is still refused")

	// The primary down: the associate serves its own services, reports
	// the mirror stale after StaleAfter, and refuses nothing it serves.
	s.primarySrv.Close()
	code, _ = call(t, "GET", s.assocURL, "/v3/systems/sys1", assoc1Host, fresh.Access.Raw, nil)
	assert.Equal(t, http.StatusOK, code)
	assert.NoError(t, s.assoc.MirrorFresh(ctx))
	s.assocClock.Advance(2 * time.Minute)
	assert.ErrorContains(t, s.assoc.MirrorFresh(ctx), "stale")
	code, env = call(t, "GET", s.assocURL, "/v3/tokens/ready", assoc1Host, "", nil)
	assert.Equal(t, http.StatusServiceUnavailable, code, "%v", env)
	code, env = call(t, "GET", s.assocURL, "/v3/tenants/assoc1", assoc1Host, "", nil)
	assert.Equal(t, http.StatusOK, code, "registry reads still served from the copy: %v", env)
	code, env = call(t, "PUT", s.assocURL, "/v3/tenants/assoc1", assoc1Host, tokAdmin(t, s), map[string]any{"description": "x"})
	assert.Equal(t, http.StatusBadGateway, code, "a write cannot reach the primary: %v", env)
	local := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "embedder") })
	rec := httptest.NewRecorder()
	s.assoc.Forward(local).ServeHTTP(rec, httptest.NewRequest("POST", "/v3/tenants", nil))
	assert.Equal(t, http.StatusBadGateway, rec.Code, "an embedder's router behind Forward sends registry writes to the primary")
	rec = httptest.NewRecorder()
	s.assoc.Forward(local).ServeHTTP(rec, httptest.NewRequest("GET", "/v3/systems", nil))
	assert.Equal(t, "embedder", rec.Body.String())

	// A key that cannot be published is not used.
	before := tokAdmin(t, s)
	_, err = s.assoc.Tokens().RotateKeys(ctx, tenancy.Principal{TenantID: "assoc1", Username: "admin", AccountType: tenancy.AccountUser,
		TokenTenantID: "assoc1", TokenUsername: "admin"}, "assoc1")
	assert.ErrorIs(t, err, oauth2.ErrPublish)
	assert.Equal(t, kidOf(t, before), kidOf(t, tokAdmin(t, s)), "the current key stays the published one")
}

// tokAdmin is a token of assoc1's admin user, signed at the associate.
func tokAdmin(t *testing.T, s *twoSites) string {
	t.Helper()
	p, err := s.assoc.Tokens().Mint(context.Background(), oauth2.MintRequest{TenantID: "assoc1", Username: "admin", AccountType: tenancy.AccountUser})
	require.NoError(t, err)
	return p.Access.Raw
}
