package oauth2_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// The Tokens API's mint rules (POST /v3/tokens; reference/auth.md §3.2,
// §3.7 and the README's "Minting rules"), called as the service:
// HTTP Basic mints a service account's own token, a service token mints a
// bounded copy of itself, token generators mint user tokens; and key
// rotation (PUT /v3/tokens/keys).

// principalOf validates a raw token into the principal it presents.
func principalOf(t *testing.T, env *testenv.Env, raw string) tenancy.Principal {
	t.Helper()
	c, err := env.Server.Tokens().Validate(context.Background(), raw, "access")
	require.NoError(t, err)
	return tenancy.Principal{TenantID: c.TenantID, Username: c.Username, AccountType: c.AccountType, TokenTenantID: c.TenantID,
		TokenUsername: c.Username, TargetSite: c.TargetSite, JTI: c.JTI, Expires: c.Expires, Delegation: c.Delegation, ParentJTI: c.ParentJTI}
}

func testCreateTokenValidation(t *testing.T, env *testenv.Env) {
	ts := env.Server.Tokens()
	ctx := context.Background()
	_, err := ts.CreateToken(ctx, oauth2.Caller{Principal: principalOf(t, env, env.ServiceToken(t, "authenticator"))}, oauth2.CreateTokenRequest{
		AccountType: "robot", DelegationToken: true, AccessTokenTTL: -1, TargetSiteID: "nosuch",
		Claims: map[string]any{"tapis/username": "root", "sub": "root@admin"}})
	require.ErrorIs(t, err, tenancy.ErrInvalid)
	for _, rule := range []string{"account_type is required and must be user or service.", "token_tenant_id is required.",
		"token_username is required.", "delegation_sub_tenant_id and delegation_sub_username are required", "token TTLs cannot be negative.",
		"target_site_id nosuch is not a known site.", "tapis/username", "sub"} {
		assert.Contains(t, err.Error(), rule)
	}
	_, err = ts.CreateToken(ctx, oauth2.Caller{Basic: true, Username: "jobs", Password: testenv.ServicePassword},
		oauth2.CreateTokenRequest{AccountType: tenancy.AccountService, TokenTenantID: "admin", TokenUsername: "jobs"})
	assert.ErrorContains(t, err, "target_site_id required for creating tokens of type 'service'.")
}

func testCreateTokenWithBasic(t *testing.T, env *testenv.Env) {
	ts := env.Server.Tokens()
	ctx := context.Background()
	req := oauth2.CreateTokenRequest{AccountType: tenancy.AccountService, TokenTenantID: "admin", TokenUsername: "jobs", TargetSiteID: "local",
		AccessTokenTTL: 100 * 24 * 3600}
	basic := oauth2.Caller{Basic: true, Username: "jobs", Password: testenv.ServicePassword, Addr: "192.0.2.1"}

	pair, err := ts.CreateToken(ctx, basic, req)
	require.NoError(t, err)
	p := principalOf(t, env, pair.Access.Raw)
	assert.Equal(t, tenancy.AccountService, p.AccountType)
	assert.Equal(t, "jobs", p.TokenUsername)
	assert.Equal(t, "local", p.TargetSite)
	assert.Equal(t, int64(24*3600), pair.Access.ExpiresIn, "a TTL beyond the maximum is capped")

	// Every failure of the login gives the same answer.
	for name, c := range map[string]struct {
		caller oauth2.Caller
		tenant string
	}{
		"a wrong password":           {oauth2.Caller{Basic: true, Username: "jobs", Password: "wrong-password"}, "admin"},
		"an unknown account":         {oauth2.Caller{Basic: true, Username: "nobody", Password: testenv.ServicePassword}, "admin"},
		"a user account":             {oauth2.Caller{Basic: true, Username: "testuser1", Password: "testuser1"}, "dev"},
		"an unknown tenant":          {oauth2.Caller{Basic: true, Username: "jobs", Password: testenv.ServicePassword}, "nosuch"},
		"the account in a wrong one": {oauth2.Caller{Basic: true, Username: "jobs", Password: testenv.ServicePassword}, "dev"},
	} {
		r := req
		r.TokenTenantID, r.TokenUsername = c.tenant, c.caller.Username
		_, err := ts.CreateToken(ctx, c.caller, r)
		assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials, name)
		assert.EqualError(t, err, "Invalid service account/password combination.", name)
	}
	// A service account of a tenant that is not active gets the same answer.
	require.NoError(t, ts.Accounts.Set(ctx, "other", "svc-o", tenancy.AccountService, testenv.ServicePassword))
	inOther := oauth2.CreateTokenRequest{AccountType: tenancy.AccountService, TokenTenantID: "other", TokenUsername: "svc-o", TargetSiteID: "local"}
	svcO := oauth2.Caller{Basic: true, Username: "svc-o", Password: testenv.ServicePassword}
	_, err = ts.CreateToken(ctx, svcO, inOther)
	require.NoError(t, err)
	tenantsSvc := principalOf(t, env, env.ServiceToken(t, "tenants"))
	for _, st := range []tenancy.TenantStatus{tenancy.StatusDraft, tenancy.StatusInactive} {
		_, err = env.Server.Tenancy().UpdateTenant(ctx, tenantsSvc, "other", tenancy.TenantUpdate{Status: &st})
		require.NoError(t, err)
		_, err = ts.CreateToken(ctx, svcO, inOther)
		assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials, "a %s tenant", st)
		assert.EqualError(t, err, "Invalid service account/password combination.")
	}
	active := tenancy.StatusActive
	_, err = env.Server.Tenancy().UpdateTenant(ctx, tenantsSvc, "other", tenancy.TenantUpdate{Status: &active})
	require.NoError(t, err)

	r := req
	r.TokenUsername = "files"
	_, err = ts.CreateToken(ctx, basic, r)
	assert.ErrorIs(t, err, tenancy.ErrInvalid)
	assert.ErrorContains(t, err, "username does not match auth header")
	r = req
	r.AccountType, r.TargetSiteID = tenancy.AccountUser, ""
	_, err = ts.CreateToken(ctx, basic, r)
	assert.ErrorContains(t, err, "HTTP Basic authentication mints service tokens only")
}

// testSelfMint: a service token mints a copy of itself that lives no
// longer than it, has no refresh token, and dies with it; nothing else
// mints for itself.
func testSelfMint(t *testing.T, env *testenv.Env) {
	ts := env.Server.Tokens()
	ctx := context.Background()
	parentRaw := env.ServiceToken(t, "jobs") // 300 s
	parent := principalOf(t, env, parentRaw)
	req := oauth2.CreateTokenRequest{AccountType: tenancy.AccountService, TokenTenantID: "admin", TokenUsername: "jobs", TargetSiteID: "local",
		AccessTokenTTL: 3600}

	pair, err := ts.CreateToken(ctx, oauth2.Caller{Principal: parent}, req)
	require.NoError(t, err)
	assert.Nil(t, pair.Refresh)
	child := principalOf(t, env, pair.Access.Raw)
	assert.Equal(t, parent.JTI, child.ParentJTI)
	assert.False(t, child.Expires.After(parent.Expires), "never outlives the presenting token")

	_, err = ts.CreateToken(ctx, oauth2.Caller{Principal: child}, req)
	assert.ErrorIs(t, err, tenancy.ErrForbidden)
	assert.ErrorContains(t, err, "a token minted from a token cannot mint further tokens.")

	bad := req
	bad.GenerateRefreshToken, bad.TargetSiteID, bad.DelegationToken = true, "local", true
	bad.DelegationSubTenantID, bad.DelegationSubUsername = "dev", "testuser1"
	_, err = ts.CreateToken(ctx, oauth2.Caller{Principal: parent}, bad)
	require.ErrorIs(t, err, tenancy.ErrForbidden)
	for _, rule := range []string{"delegation tokens are minted by token generator services only.", "a token minted from a token gets no refresh token."} {
		assert.Contains(t, err.Error(), rule)
	}
	user := principalOf(t, env, env.UserToken(t, "dev", "testuser1"))
	_, err = ts.CreateToken(ctx, oauth2.Caller{Principal: user}, oauth2.CreateTokenRequest{AccountType: tenancy.AccountService,
		TokenTenantID: "dev", TokenUsername: "testuser1", TargetSiteID: "local"})
	require.ErrorIs(t, err, tenancy.ErrForbidden)
	for _, rule := range []string{"a user token cannot mint tokens", "keeps the holder's account type (user)", "keeps the holder's target site ()"} {
		assert.Contains(t, err.Error(), rule)
	}

	_, err = ts.Revoke(ctx, parentRaw)
	require.NoError(t, err)
	_, err = ts.Validate(ctx, pair.Access.Raw, "access")
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken, "revoking the parent revokes the copy")
	assert.ErrorContains(t, err, "has been revoked")

	_, err = ts.CreateToken(ctx, oauth2.Caller{}, req)
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken, "no credentials at all")
}

// testTokenGenerators: a service named in a tenant's token_gen_services,
// of an admin tenant that may act for it, mints user tokens there, never
// service tokens and never in a site-admin tenant.
func testTokenGenerators(t *testing.T, env *testenv.Env) {
	ts := env.Server.Tokens()
	ctx := context.Background()
	authn := oauth2.Caller{Principal: principalOf(t, env, env.ServiceToken(t, "authenticator"))}
	forUser := func(tenant, user string) oauth2.CreateTokenRequest {
		return oauth2.CreateTokenRequest{AccountType: tenancy.AccountUser, TokenTenantID: tenant, TokenUsername: user, GenerateRefreshToken: true,
			Claims: map[string]any{"project": "x"}}
	}

	pair, err := ts.CreateToken(ctx, authn, forUser("dev", "testuser3"))
	require.NoError(t, err)
	c := claimsOf(t, pair.Access.Raw)
	assert.Equal(t, "testuser3", c["tapis/username"])
	assert.Equal(t, "x", c["project"], "extra claims are carried")
	require.NotNil(t, pair.Refresh)
	_, err = ts.CreateToken(ctx, authn, forUser("other", "anyone"))
	assert.NoError(t, err, "other lists authenticator too")

	// Even when the site-admin tenant lists the generator.
	gens := []string{"authenticator"}
	tenantsSvc := principalOf(t, env, env.ServiceToken(t, "tenants"))
	_, err = env.Server.Tenancy().UpdateTenant(ctx, tenantsSvc, "admin", tenancy.TenantUpdate{TokenGenServices: &gens})
	require.NoError(t, err)
	for name, c := range map[string]struct {
		caller oauth2.Caller
		req    oauth2.CreateTokenRequest
		want   string
	}{
		"a service not listed":      {oauth2.Caller{Principal: principalOf(t, env, env.ServiceToken(t, "jobs"))}, forUser("dev", "testuser3"), "Not authorized to generate tokens in tenant dev."},
		"a user":                    {oauth2.Caller{Principal: principalOf(t, env, env.UserToken(t, "dev", "testadmin"))}, forUser("dev", "testuser3"), "Not authorized"},
		"a service token for dev":   {authn, oauth2.CreateTokenRequest{AccountType: tenancy.AccountService, TokenTenantID: "dev", TokenUsername: "svc", TargetSiteID: "local"}, "mint user tokens only"},
		"the site-admin tenant":     {authn, forUser("admin", "root"), "only service tokens can be generated in the site-admin tenant"},
		"a tenant it does not list": {oauth2.Caller{Principal: principalOf(t, env, env.ServiceToken(t, "files"))}, forUser("other", "u"), "Not authorized"},
	} {
		_, err := ts.CreateToken(ctx, c.caller, c.req)
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
		assert.ErrorContains(t, err, c.want, name)
	}
}

func testRotateKeys(t *testing.T, env *testenv.Env) {
	ts := env.Server.Tokens()
	ctx := context.Background()
	old := env.UserToken(t, "dev", "testuser1")
	before, err := ts.JWKS(ctx, "dev")
	require.NoError(t, err)
	require.Len(t, before.Keys, 1)

	_, err = ts.RotateKeys(ctx, devUser("testuser1"), "dev")
	assert.ErrorIs(t, err, tenancy.ErrForbidden, "a plain user rotates nothing")
	_, err = ts.RotateKeys(ctx, devAdmin, "nosuch")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	_, err = ts.RotateKeys(ctx, devAdmin, "other")
	assert.ErrorIs(t, err, tenancy.ErrForbidden, "dev's admin does not manage other")

	pub, err := ts.RotateKeys(ctx, devAdmin, "dev")
	require.NoError(t, err)
	tenant, err := env.Server.Tenancy().GetTenant(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, pub, tenant.PublicKey, "the tenant record carries the new key")
	after, err := ts.JWKS(ctx, "dev")
	require.NoError(t, err)
	assert.Len(t, after.Keys, 2, "the old key verifies until its tokens expire")
	_, err = ts.Validate(ctx, old, "access")
	assert.NoError(t, err, "a token of the old key still validates")
	fresh := env.UserToken(t, "dev", "testuser1")
	assert.NotEqual(t, claimsKid(t, old), claimsKid(t, fresh), "new tokens are signed by the new key")
	n, err := ts.Keys().RewrapKeys(ctx, "dev")
	require.NoError(t, err)
	assert.Zero(t, n, "keys sealed under the current KEK need no rewrap")

	_, err = ts.JWKS(ctx, "nosuch")
	assert.ErrorIs(t, err, tenancy.ErrNotFound)
	raw, err := json.Marshal(oauth2.JWKS{})
	require.NoError(t, err)
	assert.JSONEq(t, `{"keys":[]}`, string(raw), "an empty set is a list, not null")
	env.Clock.Advance(91 * 24 * time.Hour)
	env.Server.Tokens().ForgetCachedTokens()
	_, err = ts.Validate(ctx, old, "access")
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken)
}

// headerOf decodes a JWT's header.
func headerOf(t *testing.T, raw string) map[string]any {
	t.Helper()
	head, _, ok := strings.Cut(raw, ".")
	require.True(t, ok, "not a JWT")
	b, err := base64.RawURLEncoding.DecodeString(head)
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(b, &h))
	return h
}

// claimsKid is the kid in a JWT's header.
func claimsKid(t *testing.T, raw string) string {
	t.Helper()
	h := headerOf(t, raw)
	kid, _ := h["kid"].(string)
	require.NotEmpty(t, kid)
	return kid
}
