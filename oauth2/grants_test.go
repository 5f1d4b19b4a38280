package oauth2_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// funcGrant is a grant of the tests: its type and its rules as a function.
type funcGrant struct {
	typ   string
	token func(ctx context.Context, g oauth2.GrantContext, req oauth2.TokenRequest) (oauth2.TokenPair, error)
}

func (f funcGrant) Type() string { return f.typ }
func (f funcGrant) Token(ctx context.Context, g oauth2.GrantContext, req oauth2.TokenRequest) (oauth2.TokenPair, error) {
	return f.token(ctx, g, req)
}

const customType = "urn:example:custom"

// subjectGrant issues tokens for the user of the subject_token parameter
// to the authenticated client, with a refresh token when asked by
// refresh=yes.
var subjectGrant = funcGrant{typ: customType, token: func(ctx context.Context, g oauth2.GrantContext, req oauth2.TokenRequest) (oauth2.TokenPair, error) {
	c, err := g.AuthenticateClient(ctx, req.ClientID, req.ClientKey)
	if err != nil {
		return oauth2.TokenPair{}, err
	}
	sub, err := g.ValidateToken(ctx, req.Params.Get("subject_token"), "access")
	if err != nil {
		return oauth2.TokenPair{}, &oauth2.GrantError{Code: "invalid_grant", Description: err.Error()}
	}
	return g.Issue(ctx, oauth2.IssueRequest{Username: sub.Username, Client: &c, Refresh: req.Params.Get("refresh") == "yes"})
}}

func withGrants(grants ...oauth2.Grant) func(*tapis.Config) {
	return func(c *tapis.Config) { c.Grants = grants }
}

// mustGrantCode is grantCode for an error that must be a *GrantError.
func mustGrantCode(t *testing.T, err error) string {
	t.Helper()
	var ge *oauth2.GrantError
	require.True(t, errors.As(err, &ge), "want a *GrantError, got %v", err)
	return ge.Code
}

func TestNewProviderNamesEveryBadGrant(t *testing.T) {
	env := testenv.New(t)
	s, err := seal.New(seal.NewKey())
	require.NoError(t, err)
	_, err = oauth2.NewProvider(oauth2.ProviderConfig{Tokens: env.Server.Tokens(), Store: env.Store, Sealer: s,
		Authenticator: oauth2.UserAuthenticator{Accounts: env.Server.Tokens().Accounts},
		Grants: []oauth2.Grant{oauth2.PasswordGrant{}, nil, funcGrant{}, funcGrant{typ: oauth2.GrantImplicit},
			funcGrant{typ: oauth2.GrantPassword}}})
	require.Error(t, err)
	for _, want := range []string{"entry 1 is nil", "entry 2 (oauth2_test.funcGrant) has an empty Type()",
		`entry 3: "implicit" is a response type`, `entry 4: grant type "password" is listed twice`} {
		assert.ErrorContains(t, err, want)
	}
}

func TestDefaultGrantsAreTheFourBuiltInsInANewSlice(t *testing.T) {
	var types []string
	for _, g := range oauth2.DefaultGrants() {
		types = append(types, g.Type())
	}
	assert.Equal(t, []string{"password", "authorization_code", "refresh_token", "device_code"}, types)
	a := oauth2.DefaultGrants()
	a[0] = subjectGrant
	assert.Equal(t, "password", oauth2.DefaultGrants()[0].Type(), "no shared slice to change")

	env := testenv.New(t)
	assert.Equal(t, types, env.Server.OAuth2().DefaultTenantConfig("dev").AllowableGrantTypes,
		"without Config.Grants a tenant allows what it always did")
}

// TestACustomGrantRunsUnderTheTenantConfig: the grant gets the request's
// parameters and the tenant's steps; the default configuration allows it,
// a stored one decides, and its name becomes a valid allowable grant type.
func TestACustomGrantRunsUnderTheTenantConfig(t *testing.T) {
	ctx := context.Background()
	env := testenv.New(t, withGrants(append(oauth2.DefaultGrants(), subjectGrant)...))
	prov := env.Server.OAuth2()
	client, key := confidentialClient(t, env, "custom-client")
	req := oauth2.TokenRequest{TenantID: "dev", GrantType: customType, ClientID: client.ClientID, ClientKey: key,
		Params: url.Values{"subject_token": {env.UserToken(t, "dev", "testuser2")}, "refresh": {"yes"}}}

	pair, err := prov.Token(ctx, req)
	require.NoError(t, err)
	c := claimsOf(t, pair.Access.Raw)
	assert.Equal(t, "testuser2", c["tapis/username"])
	assert.Equal(t, customType, c["tapis/grant_type"], "the grant's type, set by Issue")
	assert.Equal(t, "custom-client", c["tapis/client_id"])
	require.NotNil(t, pair.Refresh, "a client asked for a refresh token and the tenant allows refresh_token")

	// Its refresh token is redeemed by the built-in refresh grant.
	next, err := prov.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantRefreshToken,
		ClientID: client.ClientID, ClientKey: key, RefreshToken: pair.Refresh.Raw})
	require.NoError(t, err)
	assert.Equal(t, "testuser2", claimsOf(t, next.Access.Raw)["tapis/username"])

	// The grant's own rules answer through Token.
	bad := req
	bad.Params = url.Values{"subject_token": {"not-a-token"}}
	_, err = prov.Token(ctx, bad)
	assert.Equal(t, "invalid_grant", mustGrantCode(t, err))
	bad = req
	bad.ClientKey = "wrong-key-wrong-key"
	_, err = prov.Token(ctx, bad)
	assert.Equal(t, "invalid_client", mustGrantCode(t, err), "AuthenticateClient checks the key")

	// A stored configuration that leaves it out refuses it...
	types := []string{oauth2.GrantPassword, oauth2.GrantRefreshToken}
	_, err = prov.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{AllowableGrantTypes: &types})
	require.NoError(t, err)
	_, err = prov.Token(ctx, req)
	assert.Equal(t, "unsupported_grant_type", mustGrantCode(t, err))
	// ...and one that names it allows it again.
	types = append(types, customType)
	_, err = prov.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{AllowableGrantTypes: &types})
	require.NoError(t, err)
	_, err = prov.Token(ctx, req)
	require.NoError(t, err)

	// A type no grant answers stays unknown.
	_, err = prov.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{AllowableGrantTypes: &[]string{"urn:example:other"}})
	assert.ErrorContains(t, err, `allowable_grant_types: "urn:example:other" is not one of [password implicit authorization_code refresh_token device_code urn:example:custom].`)
	req.GrantType = "urn:example:other"
	_, err = prov.Token(ctx, req)
	assert.Equal(t, "unsupported_grant_type", mustGrantCode(t, err))
}

// TestGrantContextIsBoundToTheRequestTenant: a custom grant cannot take a
// token of another tenant, and Issue mints in the request's tenant only.
func TestGrantContextIsBoundToTheRequestTenant(t *testing.T) {
	ctx := context.Background()
	env := testenv.New(t, withGrants(append(oauth2.DefaultGrants(), subjectGrant)...))
	client, key := confidentialClient(t, env, "custom-client")
	_, err := env.Server.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: customType,
		ClientID: client.ClientID, ClientKey: key,
		Params: url.Values{"subject_token": {env.UserToken(t, "other", "testuser1")}}})
	assert.Equal(t, "invalid_grant", mustGrantCode(t, err))
	assert.ErrorContains(t, err, "it belongs to another tenant")

	pair, err := env.Server.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: customType,
		ClientID: client.ClientID, ClientKey: key,
		Params: url.Values{"subject_token": {env.UserToken(t, "dev", "testuser1")}}})
	require.NoError(t, err)
	assert.Equal(t, "dev", claimsOf(t, pair.Access.Raw)["tapis/tenant_id"])
	assert.Nil(t, pair.Refresh, "no refresh token unless asked")
}

// TestIssueRules: no refresh token without a client, and none without a
// username at all (a grant's bug, not the client's: not a GrantError).
func TestIssueRules(t *testing.T) {
	ctx := context.Background()
	var asked oauth2.IssueRequest
	issuing := funcGrant{typ: customType, token: func(ctx context.Context, g oauth2.GrantContext, _ oauth2.TokenRequest) (oauth2.TokenPair, error) {
		return g.Issue(ctx, asked)
	}}
	env := testenv.New(t, withGrants(append(oauth2.DefaultGrants(), issuing)...))
	req := oauth2.TokenRequest{TenantID: "dev", GrantType: customType}

	asked = oauth2.IssueRequest{Username: "testuser1", Refresh: true}
	pair, err := env.Server.OAuth2().Token(ctx, req)
	require.NoError(t, err)
	assert.Nil(t, pair.Refresh, "a refresh token is bound to a client")
	assert.Nil(t, claimsOf(t, pair.Access.Raw)["tapis/client_id"])

	asked = oauth2.IssueRequest{Refresh: true}
	_, err = env.Server.OAuth2().Token(ctx, req)
	require.Error(t, err)
	var ge *oauth2.GrantError
	assert.False(t, errors.As(err, &ge))
	assert.False(t, errors.Is(err, tenancy.ErrInvalid), "a server error (500), not the client's")
}

// TestLeftOutBuiltInsAreOffEverywhere: a provider without the refresh and
// device grants neither runs them, nor issues refresh tokens, nor starts
// device flows, nor accepts them in a tenant's configuration, even when a
// stored configuration lists them.
func TestLeftOutBuiltInsAreOffEverywhere(t *testing.T) {
	ctx := context.Background()
	env := testenv.New(t, withGrants(oauth2.PasswordGrant{}))
	prov := env.Server.OAuth2()
	client, key := confidentialClient(t, env, "lonely-client")
	c := prov.DefaultTenantConfig("dev")
	assert.Equal(t, []string{"password"}, c.AllowableGrantTypes)
	c.AllowableGrantTypes = []string{"password", "refresh_token", "device_code", "authorization_code"}
	require.NoError(t, env.Store.PutTenantConfig(ctx, c))

	pair, err := prov.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword,
		ClientID: client.ClientID, ClientKey: key, Username: "testuser1", Password: "testuser1"})
	require.NoError(t, err)
	assert.Nil(t, pair.Refresh, "nothing would redeem it")
	_, err = prov.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantRefreshToken,
		ClientID: client.ClientID, ClientKey: key, RefreshToken: "x"})
	assert.Equal(t, "unsupported_grant_type", mustGrantCode(t, err))
	_, err = prov.StartDevice(ctx, "dev", client.ClientID, "http://dev.tapis.test")
	assert.Equal(t, "unsupported_grant_type", mustGrantCode(t, err))
	_, err = prov.CheckAuthorize(ctx, oauth2.AuthorizeRequest{TenantID: "dev", ClientID: client.ClientID,
		RedirectURI: oidcCallback, ResponseType: oauth2.ResponseCode})
	assert.Equal(t, "unsupported_response_type", mustGrantCode(t, err))
	_, err = prov.UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{AllowableGrantTypes: &[]string{"device_code"}})
	assert.ErrorContains(t, err, `allowable_grant_types: "device_code" is not one of [password implicit].`)
}
