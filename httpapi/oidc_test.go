package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// newBrowserAt is a cookie-keeping client (no redirect following) for a
// server already listening at base.
func newBrowserAt(t *testing.T, base string) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var regexpToken = regexp.MustCompile(`<textarea id="token" readonly>([^<]+)</textarea>`)

var discoveryPaths = []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server",
	"/v3/oauth2/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/v3/oauth2"}

// Every discovery path answers the same document, whose issuer is the
// tenant of the Host, with the fields OIDC Discovery and RFC 8414 require.
func TestDiscoveryDocumentsNameTheIssuer(t *testing.T) {
	env := testenv.New(t)
	var first map[string]any
	for _, p := range discoveryPaths {
		r := env.Do(t, testenv.Request{Method: "GET", Path: p, Host: "dev.tapis.test"})
		require.Equal(t, 200, r.Code, "%s: %s", p, r.Raw)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"), p)
		if first == nil {
			first = r.Body
			continue
		}
		assert.Equal(t, first, r.Body, "%s serves the same document", p)
	}
	iss := "http://dev.tapis.test"
	assert.Equal(t, iss, first["issuer"])
	for field, want := range map[string]any{
		"authorization_endpoint":                iss + "/v3/oauth2/authorize",
		"token_endpoint":                        iss + "/v3/oauth2/token",
		"jwks_uri":                              iss + "/v3/oauth2/jwks",
		"userinfo_endpoint":                     iss + "/v3/oauth2/userinfo/oidc",
		"revocation_endpoint":                   iss + "/v3/oauth2/revoke",
		"introspection_endpoint":                iss + "/v3/oauth2/introspect",
		"device_authorization_endpoint":         iss + "/v3/oauth2/device_authorization",
		"response_types_supported":              []any{"code"},
		"subject_types_supported":               []any{"public"},
		"id_token_signing_alg_values_supported": []any{"RS256"},
		"code_challenge_methods_supported":      []any{"S256"},
		"scopes_supported":                      []any{"openid", "profile", "email", "offline_access"},
		"grant_types_supported":                 []any{"password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		"request_uri_parameter_supported":       false,
	} {
		assert.Equal(t, want, first[field], field)
	}
	assert.NotContains(t, first, "registration_endpoint", "the Tapis client API is not RFC 7591 registration")

	// Another tenant's Host: its own issuer. The listener's default tenant
	// for an unknown Host.
	other := env.Do(t, testenv.Request{Method: "GET", Path: "/.well-known/openid-configuration", Host: "other.tapis.test"})
	assert.Equal(t, "http://other.tapis.test", other.Body["issuer"])
	anyHost := env.Do(t, testenv.Request{Method: "GET", Path: "/.well-known/openid-configuration", Host: "127.0.0.1:9"})
	assert.Equal(t, iss, anyHost.Body["issuer"])

	// The Tapis enveloped document names the same issuer, with the Tapis client API.
	md := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/.well-known/oauth-authorization-server"}).Result()
	assert.Equal(t, iss, md["issuer"])
	assert.Equal(t, iss+"/v3/oauth2/clients", md["registration_endpoint"])

	// The documents follow the tenant config: without the code and device
	// grants there is neither a response type nor a device endpoint.
	admin := map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")}
	u := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/oauth2/admin/config", Headers: admin,
		Body: map[string]any{"allowable_grant_types": []string{"password", "implicit"}}})
	require.Equal(t, 200, u.Code, "%s", u.Raw)
	d := env.Do(t, testenv.Request{Method: "GET", Path: "/.well-known/openid-configuration"})
	assert.Equal(t, []any{"token"}, d.Body["response_types_supported"])
	assert.Equal(t, []any{"fragment"}, d.Body["response_modes_supported"])
	assert.NotContains(t, d.Body, "device_authorization_endpoint")
}

// The code flow with scope=openid through the real pages: the RFC token
// endpoint answers an id_token and the scope; the standard userinfo gives
// the same sub; the Tapis userinfo keeps its envelope.
func TestOpenIDCodeFlowAndStandardUserinfo(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	b := newBrowser(t, env)
	q := authQuery(testClientID, "scope", "openid email", "nonce", "abc-123", "code_challenge", challengeOf(testVerifier),
		"code_challenge_method", "S256")
	p := b.authorize(q, "testuser1", "approve")
	require.Equal(t, http.StatusSeeOther, p.code, "%s", p.body)
	tok := env.Do(t, formRequest("/v3/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {codeFrom(t, p.location)},
		"redirect_uri": {testCallback}, "code_verifier": {testVerifier}}, basic(testClientID, key)))
	require.Equal(t, 200, tok.Code, "%s", tok.Raw)
	assert.Equal(t, "openid email", tok.Body["scope"])
	idToken, _ := tok.Body["id_token"].(string)
	require.NotEmpty(t, idToken)
	_, id := decode(t, idToken)
	assert.Equal(t, "abc-123", id["nonce"])
	assert.Equal(t, testClientID, id["aud"])
	assert.NotZero(t, id["auth_time"], "the sign-in time of the session")
	access := tok.Body["access_token"].(string)

	for _, method := range []string{"GET", "POST"} {
		ui := env.Do(t, testenv.Request{Method: method, Path: "/v3/oauth2/userinfo/oidc", Headers: map[string]string{"Authorization": "Bearer " + access}})
		require.Equal(t, 200, ui.Code, "%s: %s", method, ui.Raw)
		assert.Equal(t, id["sub"], ui.Body["sub"], "one sub for id_token and userinfo")
		assert.NotContains(t, ui.Body, "result", "plain JSON, no envelope")
		assert.NotContains(t, ui.Body, "preferred_username", "scope openid email does not grant the profile claims")
	}
	tapisInfo := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo", Headers: map[string]string{"X-Tapis-Token": access}})
	require.Equal(t, 200, tapisInfo.Code)
	assert.Equal(t, "testuser1", tapisInfo.Result()["username"], "the Tapis userinfo keeps its envelope")

	// A Tapis token (no scope) gets every claim known.
	plain := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo/oidc",
		Headers: map[string]string{"Authorization": "Bearer " + env.UserToken(t, "dev", "testuser2")}})
	require.Equal(t, 200, plain.Code, "%s", plain.Raw)
	assert.Equal(t, map[string]any{"sub": "testuser2@dev", "preferred_username": "testuser2"}, plain.Body)

	// RFC 6750 errors.
	none := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo/oidc"})
	assert.Equal(t, 401, none.Code)
	assert.Contains(t, none.Header.Get("WWW-Authenticate"), "Bearer")
	for name, bad := range map[string]string{
		"garbage":       "not-a-token",
		"other tenant":  env.UserToken(t, "other", "testuser1"),
		"service token": env.ServiceToken(t, "tokens"),
		"id_token":      idToken,
	} {
		r := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo/oidc", Headers: map[string]string{"Authorization": "Bearer " + bad}})
		assert.Equal(t, 401, r.Code, "%s: %s", name, r.Raw)
		assert.Equal(t, "invalid_token", r.Body["error"], name)
		assert.Contains(t, r.Header.Get("WWW-Authenticate"), `error="invalid_token"`, name)
	}
}

func TestIntrospectionEndpoint(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	live := env.UserToken(t, "dev", "testuser1")
	introspect := func(form url.Values, headers map[string]string) testenv.Response {
		return env.Do(t, formRequest("/v3/oauth2/introspect", form, headers))
	}
	// HTTP Basic with form-encoded id and key (RFC 6749 §2.3.1), and client_secret_post.
	for name, r := range map[string]testenv.Response{
		"basic": introspect(url.Values{"token": {live}}, basic(url.QueryEscape(testClientID), url.QueryEscape(key))),
		"post":  introspect(url.Values{"token": {live}, "client_id": {testClientID}, "client_secret": {key}}, nil),
	} {
		require.Equal(t, 200, r.Code, "%s: %s", name, r.Raw)
		assert.Equal(t, true, r.Body["active"], name)
		assert.Equal(t, "testuser1", r.Body["username"], name)
		assert.Equal(t, "testuser1@dev", r.Body["sub"], name)
		assert.Equal(t, "dev", r.Body["tapis/tenant_id"], name)
	}
	r := introspect(url.Values{"token": {env.UserToken(t, "other", "testuser1")}}, basic(testClientID, key))
	require.Equal(t, 200, r.Code)
	assert.Equal(t, map[string]any{"active": false}, r.Body, "another tenant's token is inactive here, nothing more is said")

	r = introspect(url.Values{"token": {live}}, nil)
	assert.Equal(t, 401, r.Code, "client authentication is required: %s", r.Raw)
	assert.Equal(t, "invalid_client", r.Body["error"])
	r = introspect(url.Values{"token": {live}}, basic(testClientID, "wrong-secret-value"))
	assert.Equal(t, 401, r.Code)
	assert.Contains(t, r.Header.Get("WWW-Authenticate"), "Basic")
	assert.NotContains(t, string(r.Raw), "wrong-secret-value")
	r = introspect(url.Values{}, basic(testClientID, key))
	assert.Equal(t, 400, r.Code, "token is required: %s", r.Raw)
	assert.Equal(t, "invalid_request", r.Body["error"])
}

// Signed out, opened on the listener's address: sign in, approve, and the
// Token Web App shows a token on the first try (it used to end in 400
// "state mismatch": login dropped the web app's state and verifier).
func TestTokenWebAppFirstTrySignedOut(t *testing.T) {
	env, base := testenv.Serve(t)
	b := newBrowserAt(t, base)
	p := b.get("/v3/oauth2/webapp")
	require.Equal(t, http.StatusFound, p.code, "%s", p.body)
	require.True(t, strings.HasPrefix(p.location, "/v3/oauth2/authorize?"), "to the authorization endpoint, on this host: %s", p.location)
	p = b.authorizeURL(p.location, "testuser1", "approve")
	require.Equal(t, http.StatusSeeOther, p.code, "%s", p.body)
	require.True(t, strings.HasPrefix(p.location, base+"/v3/oauth2/webapp/callback?"), "the callback is on the listener's address: %s", p.location)
	p = b.get(p.location)
	require.Equal(t, http.StatusFound, p.code, "callback: %s", p.body)
	assert.Equal(t, "/v3/oauth2/webapp", p.location)
	p = b.get(p.location)
	require.Equal(t, 200, p.code, "%s", p.body)
	m := regexpToken.FindStringSubmatch(p.body)
	require.NotNil(t, m, "the web app shows a token: %s", p.body)
	info := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/userinfo", Headers: map[string]string{"X-Tapis-Token": m[1]}})
	require.Equal(t, 200, info.Code, "%s", info.Raw)
	assert.Equal(t, "testuser1", info.Result()["username"])

	// Discovery of this instance names the listener's address as issuer.
	d := b.get("/.well-known/openid-configuration")
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(d.body), &doc))
	assert.Equal(t, base, doc["issuer"])
}

// Opened on another name of the listener, the web app first moves to the
// tenant's base URL, where its callback and cookie live; only once.
func TestTokenWebAppMovesToTheBaseHost(t *testing.T) {
	_, base := testenv.Serve(t)
	u, err := url.Parse(base)
	require.NoError(t, err)
	alias := "http://localhost:" + u.Port()
	b := newBrowserAt(t, alias)
	p := b.get("/v3/oauth2/webapp")
	require.Equal(t, http.StatusFound, p.code, "%s", p.body)
	assert.Equal(t, base+"/v3/oauth2/webapp?on_base_host=1", p.location)
	p = b.get("/v3/oauth2/webapp?on_base_host=1")
	require.Equal(t, http.StatusFound, p.code)
	assert.True(t, strings.HasPrefix(p.location, "/v3/oauth2/authorize?"), "no second move (a proxy rewriting Host cannot loop): %s", p.location)
}

func TestStandardEndpointsInOpenAPI(t *testing.T) {
	env := testenv.New(t)
	paths := env.API.OpenAPI().Paths
	for path, method := range map[string]string{
		"/v3/oauth2/token": "POST", "/v3/oauth2/revoke": "POST", "/v3/oauth2/introspect": "POST",
		"/v3/oauth2/device_authorization": "POST", "/v3/oauth2/jwks": "GET", "/v3/oauth2/userinfo/oidc": "GET",
		"/.well-known/openid-configuration": "GET", "/.well-known/oauth-authorization-server": "GET",
	} {
		item := paths[path]
		require.NotNil(t, item, path)
		op := item.Get
		if method == "POST" {
			op = item.Post
		}
		require.NotNil(t, op, "%s %s", method, path)
		assert.NotEmpty(t, op.OperationID, path)
		assert.Contains(t, op.Responses, "200", path)
	}
	assert.Contains(t, paths["/v3/oauth2/token"].Post.RequestBody.Content, "application/x-www-form-urlencoded")
}
