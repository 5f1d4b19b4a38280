package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/tapis-go/tapis/internal/testenv"
)

// A standard OAuth2 library works against /v3/oauth2/token unchanged:
// golang.org/x/oauth2 obtains a token (password and code+PKCE grants) and
// refreshes it when it expires.
func TestGolangOAuth2ObtainsAndRefreshes(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	srv := httptest.NewServer(env.Handler)
	t.Cleanup(srv.Close)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
		conf := &oauth2.Config{ClientID: testClientID, ClientSecret: key, RedirectURL: testCallback,
			Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/v3/oauth2/authorize", TokenURL: srv.URL + "/v3/oauth2/token", AuthStyle: style}}

		tok, err := conf.PasswordCredentialsToken(ctx, "testuser1", "testuser1")
		require.NoError(t, err)
		assert.Equal(t, "Bearer", tok.TokenType)
		assert.NotEmpty(t, tok.RefreshToken)
		assert.WithinDuration(t, time.Now().Add(4*time.Hour), tok.Expiry, time.Minute)

		// Force a refresh through the library's own TokenSource.
		tok.Expiry = time.Now().Add(-time.Minute)
		fresh, err := conf.TokenSource(ctx, tok).Token()
		require.NoError(t, err)
		assert.NotEqual(t, tok.AccessToken, fresh.AccessToken)
		assert.NotEqual(t, tok.RefreshToken, fresh.RefreshToken, "rotated")
		_, claims := decode(t, fresh.AccessToken)
		assert.Equal(t, "refresh_token", claims["tapis/grant_type"])
		assert.Equal(t, float64(1), claims["tapis/refresh_count"])

		// The refreshed token opens a protected endpoint through the library's client.
		req, err := http.NewRequest("GET", srv.URL+"/v3/oauth2/userinfo", nil)
		require.NoError(t, err)
		req.Header.Set("X-Tapis-Token", fresh.AccessToken)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 200, resp.StatusCode)

		// Authorization code with PKCE, the URL built by the library.
		verifier := oauth2.GenerateVerifier()
		authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier))
		p := newBrowser(t, env).authorizeURL(authURL, "testuser1", "approve")
		code := codeFrom(t, p.location)
		ctok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		require.NoError(t, err)
		assert.NotEmpty(t, ctok.AccessToken)

		// The library surfaces the RFC error code.
		_, err = conf.PasswordCredentialsToken(ctx, "testuser1", "wrong")
		var re *oauth2.RetrieveError
		require.ErrorAs(t, err, &re)
		assert.Equal(t, "invalid_grant", re.ErrorCode)
	}
}

// The standard device flow (RFC 8628) and revocation (RFC 7009) endpoints
// the metadata advertises work for standard clients.
func TestStandardDeviceFlowRevocationAndBearer(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	srv := httptest.NewServer(env.Handler)
	t.Cleanup(srv.Close)
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, srv.Client())
	conf := &oauth2.Config{ClientID: testClientID, ClientSecret: key, Endpoint: oauth2.Endpoint{
		DeviceAuthURL: srv.URL + "/v3/oauth2/device_authorization", TokenURL: srv.URL + "/v3/oauth2/token", AuthStyle: oauth2.AuthStyleInParams}}
	da, err := conf.DeviceAuth(ctx)
	require.NoError(t, err)
	assert.NotEmpty(t, da.UserCode)
	assert.Contains(t, da.VerificationURIComplete, "user_code=")

	b := newBrowser(t, env)
	b.get("/v3/oauth2/device")
	b.login("testuser1", "testuser1")
	form := b.get("/v3/oauth2/device")
	consent := b.post("/v3/oauth2/device", url.Values{"csrf": {csrfOf(t, form)}, "user_code": {da.UserCode}})
	require.Contains(t, consent.body, "Authorize the device")
	b.post("/v3/oauth2/device", url.Values{"csrf": {csrfOf(t, consent)}, "decision": {"approve"}})

	env.Clock.Advance(10 * time.Second)
	tok, err := conf.DeviceAccessToken(ctx, da)
	require.NoError(t, err, "x/oauth2 polls /v3/oauth2/token until approved")
	assert.NotEmpty(t, tok.AccessToken)

	// userinfo accepts the standard Authorization: Bearer header.
	req, err := http.NewRequest("GET", srv.URL+"/v3/oauth2/userinfo", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)

	rv, err := srv.Client().PostForm(srv.URL+"/v3/oauth2/revoke", url.Values{"token": {tok.AccessToken}})
	require.NoError(t, err)
	rv.Body.Close()
	assert.Equal(t, 200, rv.StatusCode)
	resp, err = srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 401, resp.StatusCode, "revoked")
	garbage, err := srv.Client().PostForm(srv.URL+"/v3/oauth2/revoke", url.Values{"token": {"not-a-token"}})
	require.NoError(t, err)
	garbage.Body.Close()
	assert.Equal(t, 200, garbage.StatusCode, "RFC 7009: an invalid token is not an error")

	md := env.Do(t, testenv.Request{Method: "GET", Path: "/.well-known/oauth-authorization-server/v3/oauth2"})
	require.Equal(t, 200, md.Code)
	assert.Equal(t, "http://dev.tapis.test/v3/oauth2/revoke", md.Body["revocation_endpoint"])
	assert.Equal(t, "http://dev.tapis.test/v3/oauth2/device_authorization", md.Body["device_authorization_endpoint"])
}
