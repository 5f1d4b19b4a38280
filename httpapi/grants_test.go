package httpapi_test

import (
	"context"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

// paramsGrant is an embedder's grant that answers with an access token for
// the user named by its own parameter, and records what it was given.
type paramsGrant struct{ got *[]oauth2.TokenRequest }

const paramsGrantType = "urn:example:params"

func (paramsGrant) Type() string { return paramsGrantType }

func (g paramsGrant) Token(ctx context.Context, gc oauth2.GrantContext, req oauth2.TokenRequest) (oauth2.TokenPair, error) {
	*g.got = append(*g.got, req)
	c, err := gc.AuthenticateClient(ctx, req.ClientID, req.ClientKey)
	if err != nil {
		return oauth2.TokenPair{}, err
	}
	return gc.Issue(ctx, oauth2.IssueRequest{Username: req.Params.Get("for_user"), Client: &c})
}

// TestEmbeddersGrantGetsItsParametersOverHTTP: both token endpoints pass
// an embedder's grant_type and the parameters they do not name themselves
// (form fields, JSON string fields) to its grant, and keep the named ones
// out of Params; its parameters pass the same text checks as the others.
func TestEmbeddersGrantGetsItsParametersOverHTTP(t *testing.T) {
	var got []oauth2.TokenRequest
	env := testenv.New(t, func(c *tapis.Config) { c.Grants = append(oauth2.DefaultGrants(), paramsGrant{got: &got}) })
	key := testClient(t, env)

	r := rfcToken(t, env, url.Values{"grant_type": {paramsGrantType}, "client_id": {testClientID}, "client_secret": {key},
		"for_user": {"testuser3"}, "audience": {"a", "b"}, "scope": {"openid"}}, nil)
	require.Equal(t, 200, r.Code, "body: %s", r.Raw)
	raw, _ := r.Body["access_token"].(string)
	claims, err := env.Server.Tokens().Validate(context.Background(), raw, "access")
	require.NoError(t, err)
	assert.Equal(t, "testuser3", claims.Username)
	require.Len(t, got, 1)
	assert.Equal(t, url.Values{"for_user": {"testuser3"}, "audience": {"a", "b"}}, got[0].Params,
		"the named parameters (grant_type, client_id, client_secret, scope) have their own fields")
	assert.Equal(t, "openid", got[0].Scope)

	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Body: map[string]any{
		"grant_type": paramsGrantType, "client_id": testClientID, "client_key": key, "for_user": "testuser4", "count": 3}})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	require.Len(t, got, 2)
	assert.Equal(t, url.Values{"for_user": {"testuser4"}}, got[1].Params, "JSON: string fields only")

	r = rfcToken(t, env, url.Values{"grant_type": {paramsGrantType}, "client_id": {testClientID}, "client_secret": {key},
		"for_user": {"testuser3\x00"}}, nil)
	assert.Equal(t, 400, r.Code)
	assert.Equal(t, "invalid_request", r.Body["error"])
	assert.Len(t, got, 2, "refused before the grant runs")
}
