package oauth2_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// The tenant configuration of the authenticator (/v3/oauth2/admin/config;
// README "Tenant config"): who may read and change it, its rules, and that
// the token endpoint, the device flow and the browser flow obey it. The
// steps share one instance and run in order: each changes dev's
// configuration.
func TestTenantConfig(t *testing.T) {
	env := testenv.New(t)
	for _, step := range []struct {
		name string
		fn   func(*testing.T, *testenv.Env)
	}{
		{"administration", testConfigAdministration},
		{"TTLs drive the grants", testConfigDrivesTheGrants},
		{"grant types", testConfigGrantTypes},
		{"implicit grant", testImplicitGrant},
	} {
		if !t.Run(step.name, func(t *testing.T) { step.fn(t, env) }) {
			return
		}
	}
}

func testConfigAdministration(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()

	c, err := p.GetConfig(ctx, devAdmin)
	require.NoError(t, err)
	assert.Equal(t, []string{"password", "authorization_code", "refresh_token", "device_code"}, c.AllowableGrantTypes, "implicit is off by default")
	assert.Equal(t, 4*time.Hour, c.DefaultAccessTTL)
	assert.Equal(t, 30*24*time.Hour, c.DefaultRefreshTTL)
	authnSvc := principalOf(t, env, env.ServiceToken(t, "authenticator"))
	authnSvc.TenantID = "dev"
	_, err = p.GetConfig(ctx, authnSvc)
	assert.NoError(t, err, "the authenticator service acting for dev")
	for name, pr := range map[string]tenancy.Principal{
		"a user":                    devUser("testuser1"),
		"another service":           func() tenancy.Principal { s := authnSvc; s.TokenUsername = "jobs"; return s }(),
		"other's admin":             {TenantID: "other", Username: "testadmin", TokenTenantID: "other", TokenUsername: "testadmin", AccountType: tenancy.AccountUser},
		"a service named testadmin": {TenantID: "dev", Username: "testadmin", TokenTenantID: "dev", TokenUsername: "testadmin", AccountType: tenancy.AccountService},
	} {
		_, err := p.GetConfig(ctx, pr)
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
		_, err = p.UpdateConfig(ctx, pr, oauth2.ConfigUpdate{})
		assert.ErrorIs(t, err, tenancy.ErrForbidden, name)
	}

	hour, day, tooLong, zero := int64(3600), int64(86400), int64(91*86400), int64(0)
	grants := []string{"password", "client_credentials"}
	_, err = p.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{AllowableGrantTypes: &grants, MaxAccessTTL: &tooLong, DefaultRefreshTTL: &zero,
		CustomIdPConfiguration: &map[string]any{"github": map[string]any{}}})
	require.ErrorIs(t, err, tenancy.ErrInvalid)
	for _, rule := range []string{`allowable_grant_types: "client_credentials"`, "max_access_token_ttl must be between 1 and 86400 seconds.",
		"default_refresh_token_ttl must be between 1 and", "custom_idp_configuration: only the ldap type"} {
		assert.Contains(t, err.Error(), rule)
	}
	_, err = p.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{MaxAccessTTL: &hour, DefaultAccessTTL: &day})
	assert.ErrorContains(t, err, "default_access_token_ttl must be between 1 and 3600 seconds.", "the default is checked against the new maximum")
	_, err = p.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{MaxAccessTTL: &hour})
	assert.ErrorContains(t, err, "default TTLs cannot exceed the maximum TTLs.", "the stored 4 h default is above a 1 h maximum")
	c, err = p.GetConfig(ctx, devAdmin)
	require.NoError(t, err)
	assert.Equal(t, 24*time.Hour, c.MaxAccessTTL, "refused updates change nothing")

	off, url := false, "https://tokens.example.org"
	c, err = p.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{MaxAccessTTL: &hour, DefaultAccessTTL: &hour, UseTokenWebapp: &off, TokenURL: &url,
		CustomIdPConfiguration: &map[string]any{"ldap": map[string]any{"url": "ldap://x"}}})
	require.NoError(t, err)
	assert.Equal(t, time.Hour, c.MaxAccessTTL)
	assert.False(t, c.UseTokenWebapp)
	assert.Equal(t, url, c.TokenURL)
	other, err := p.TenantConfig(ctx, "other")
	require.NoError(t, err)
	assert.Equal(t, 24*time.Hour, other.MaxAccessTTL, "other's configuration is untouched")
}

// testConfigDrivesTheGrants: tokens follow the tenant's TTLs, and the
// refresh grant re-mints with the tenant's current ones (a sliding window).
// dev's default access TTL is one hour here (set by the step before).
func testConfigDrivesTheGrants(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, key := confidentialClient(t, env, "ttl-cli")
	first, err := p.Token(ctx, passwordReq("ttl-cli", key))
	require.NoError(t, err)
	assert.Equal(t, int64(3600), first.Access.ExpiresIn, "tokens follow the tenant's TTLs")
	half := int64(1800)
	_, err = p.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{DefaultAccessTTL: &half})
	require.NoError(t, err)
	next, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantRefreshToken, ClientID: "ttl-cli", ClientKey: key,
		RefreshToken: first.Refresh.Raw})
	require.NoError(t, err)
	assert.Equal(t, int64(1800), next.Access.ExpiresIn, "a refresh takes the current TTL")
}

// testConfigGrantTypes: a grant the tenant does not list is refused by the
// token endpoint and the device flow; other tenants keep theirs.
func testConfigGrantTypes(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, _, err := p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "gt-cli", Public: true})
	require.NoError(t, err)
	grants := []string{oauth2.GrantAuthorizationCode}
	_, err = p.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{AllowableGrantTypes: &grants})
	require.NoError(t, err)
	_, err = p.Token(ctx, passwordReq("", ""))
	refusedGrant(t, err, "unsupported_grant_type", "not allowed for this tenant")
	_, err = p.StartDevice(ctx, "dev", "gt-cli", "http://dev.tapis.test")
	refusedGrant(t, err, "unsupported_grant_type", "The device_code grant type is not allowed for this tenant.")
	_, err = p.Token(ctx, oauth2.TokenRequest{TenantID: "other", GrantType: oauth2.GrantPassword, Username: "testuser1", Password: "testuser1"})
	assert.NoError(t, err, "another tenant's configuration is its own")
}

// testImplicitGrant: off by default; when the tenant lists it, the token
// goes in the fragment, never in the query, and a public client may not
// use it.
func testImplicitGrant(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	confidentialClient(t, env, "ig-cli")
	_, _, err := p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "ig-spa", Public: true, CallbackURL: oidcCallback})
	require.NoError(t, err)
	grants := []string{oauth2.GrantImplicit, oauth2.GrantAuthorizationCode}
	_, err = p.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{AllowableGrantTypes: &grants})
	require.NoError(t, err)
	req := oauth2.AuthorizeRequest{TenantID: "dev", ClientID: "ig-cli", RedirectURI: oidcCallback, ResponseType: oauth2.ResponseToken, State: "s1"}

	to, err := p.Approve(ctx, req, "testuser2", time.Time{})
	require.NoError(t, err)
	u, err := url.Parse(to)
	require.NoError(t, err)
	assert.Empty(t, u.RawQuery, "nothing in the query")
	frag, err := url.ParseQuery(u.Fragment)
	require.NoError(t, err)
	assert.Equal(t, "Bearer", frag.Get("token_type"))
	assert.Equal(t, "s1", frag.Get("state"))
	claims, err := env.Server.Tokens().Validate(ctx, frag.Get("access_token"), "access")
	require.NoError(t, err)
	assert.Equal(t, "testuser2", claims.Username)
	assert.Equal(t, "implicit", claims.Raw["tapis/grant_type"])

	to, err = p.Deny(ctx, req)
	require.NoError(t, err)
	u, err = url.Parse(to)
	require.NoError(t, err)
	assert.Contains(t, u.Fragment, "error=access_denied", "the implicit grant's denial goes in the fragment too")

	req.ClientID = "ig-spa"
	_, err = p.CheckAuthorize(ctx, req)
	refusedGrant(t, err, "unauthorized_client", "A client without a key cannot use the implicit grant.")
	req.ClientID, req.ResponseType = "ig-cli", oauth2.ResponseCode
	_, err = p.CheckAuthorize(ctx, req)
	assert.NoError(t, err)
}
