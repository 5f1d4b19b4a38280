package httpapi_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/globusauth"
	"github.com/tapis-go/tapis/adapters/globusauth/globusauthtest"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/internal/testenv"
)

const (
	glCollection = "0a6f1c2e-8d0b-4c55-9a3e-0c6b7f2d4e91"
	glOther      = "1b7e2d3f-9e1c-4d66-8b4f-1d7c8e3f5fa2"
)

// withGlobus configures the instance with the globusauth adapter against a
// fake Globus that shares the instance's clock.
func withGlobus(t *testing.T, fake **globusauthtest.Server) func(*tapis.Config) {
	return func(c *tapis.Config) {
		*fake = globusauthtest.New(t, globusauthtest.Options{Now: c.Now, Collections: map[string]globusauthtest.Collection{
			glCollection: {Mapped: true, Dirs: []string{"/home/testuser1", "/"}},
			glOther:      {Mapped: true, Dirs: []string{"/"}},
		}})
		gl, err := globusauth.New(globusauth.Options{ClientID: (*fake).ClientID(), AuthURL: (*fake).AuthURL(),
			TokenURL: (*fake).TokenURL(), TransferURL: (*fake).TransferURL(),
			Policy: hostcheck.Policy{AllowPrivate: true}, Now: c.Now})
		require.NoError(t, err)
		c.Globus = gl
	}
}

// globusSystem is a dynamic GLOBUS system: each user keeps their own tokens.
func globusSystem(id, collection string) map[string]any {
	return map[string]any{"id": id, "systemType": "GLOBUS", "host": collection, "defaultAuthnMethod": "TOKEN",
		"canExec": false, "effectiveUserId": "${apiUserId}", "rootDir": "/home/testuser1"}
}

// startGlobus asks for an authUrl as user and plays the user's consent at
// the fake: the session id and the code.
func startGlobus(t *testing.T, env *testenv.Env, fake *globusauthtest.Server, user, system string) (session, code string) {
	t.Helper()
	r := sysDo(t, env, user, "GET", "/v3/systems/credential/"+system+"/globus/authUrl", nil)
	require.Equal(t, 200, r.Code, "authUrl: %s", r.Raw)
	session, _ = r.Result()["sessionId"].(string)
	require.Len(t, session, 43)
	assert.Equal(t, system, r.Result()["systemId"])
	u, _ := r.Result()["url"].(string)
	require.True(t, strings.HasPrefix(u, fake.AuthURL()+"?"), u)
	code, state := fake.Consent(t, u)
	assert.Equal(t, session, state, "the state is the session id")
	return session, code
}

func tokensPath(system, user, code, session string) string {
	return "/v3/systems/credential/" + system + "/user/" + user + "/globus/tokens/" + url.PathEscape(code) + "/" + session
}

// filesRead is the files service reading testuser's system with its
// credential (returnCredentials): the access and refresh tokens.
func filesRead(t *testing.T, env *testenv.Env, system, user string) (access, refresh string, r testenv.Response) {
	t.Helper()
	r = env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/" + system + "?returnCredentials=true", Headers: filesFor(t, env, user)})
	if r.Code != 200 {
		return "", "", r
	}
	c, _ := r.Result()["authnCredential"].(map[string]any)
	require.NotNil(t, c, "a credential: %s", r.Raw)
	access, _ = c["accessToken"].(string)
	refresh, _ = c["refreshToken"].(string)
	return access, refresh, r
}

func globusBackends() []testenv.Backend {
	return append([]testenv.Backend{{Name: "memory", New: testenv.New}}, testenv.Backends()...)
}

// TestGlobusFlow: authUrl -> consent at (fake) Globus -> tokens stored ->
// read by the files service -> expiry -> refreshed and stored -> checked
// with Globus Transfer -> a dead refresh token is a clear 400. On memory,
// SQLite and (with TAPIS_TEST_POSTGRES_DSN) PostgreSQL.
func TestGlobusFlow(t *testing.T) {
	for _, b := range globusBackends() {
		t.Run(b.Name, func(t *testing.T) {
			var fake *globusauthtest.Server
			env := b.New(t, withGlobus(t, &fake))
			require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", globusSystem("gl1", glCollection)).Code)

			session, code := startGlobus(t, env, fake, "testuser1", "gl1")
			r := sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, session), nil)
			require.Equal(t, 200, r.Code, "tokens: %s", r.Raw)
			exchanges, refreshes, _ := fake.Counts()
			require.Equal(t, 1, exchanges)
			require.Zero(t, refreshes)

			access, refresh, r := filesRead(t, env, "gl1", "testuser1")
			require.Equal(t, 200, r.Code, "%s", r.Raw)
			assert.True(t, strings.HasPrefix(access, globusauthtest.SecretPrefix+"access"), "Globus's token is handed to the files service")
			assert.True(t, strings.HasPrefix(refresh, globusauthtest.SecretPrefix+"refresh"))
			_, refreshes, _ = fake.Counts()
			assert.Zero(t, refreshes, "a fresh token is not refreshed")

			check := sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/gl1/user/testuser1/check", nil)
			require.Equal(t, 200, check.Code, "check with Transfer: %s", check.Raw)
			_, _, transfers := fake.Counts()
			assert.Equal(t, 2, transfers, "endpoint/{id} and an ls of rootDir")

			// 30 seconds before the 48 h expiry: the next read refreshes.
			env.Clock.Advance(48*time.Hour - 30*time.Second)
			access2, refresh2, r := filesRead(t, env, "gl1", "testuser1")
			require.Equal(t, 200, r.Code, "%s", r.Raw)
			assert.NotEqual(t, access, access2, "a token expiring within a minute is refreshed")
			assert.NotEqual(t, refresh, refresh2, "and the rotated refresh token stored")
			_, refreshes, _ = fake.Counts()
			assert.Equal(t, 1, refreshes)
			got := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/credential/gl1/user/testuser1", Headers: filesFor(t, env, "testuser1")})
			require.Equal(t, 200, got.Code, "%s", got.Raw)
			assert.Equal(t, access2, got.Result()["accessToken"], "the new pair is stored")
			assert.Equal(t, refresh2, got.Result()["refreshToken"])
			_, refreshes, _ = fake.Counts()
			assert.Equal(t, 1, refreshes, "and used, not refreshed again")

			// The old access token has now expired at Globus: the check
			// passes only with the refreshed one.
			env.Clock.Advance(time.Hour)
			check = sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/gl1/user/testuser1/check", nil)
			require.Equal(t, 200, check.Code, "check after refresh: %s", check.Raw)

			// A refresh token Globus no longer honours: a clear 400, no secret.
			fake.Revoke(refresh2)
			env.Clock.Advance(48 * time.Hour)
			_, _, r = filesRead(t, env, "gl1", "testuser1")
			assert.Equal(t, 400, r.Code, "%s", r.Raw)
			assert.Contains(t, r.Message(), "authorize again")
			assert.Contains(t, r.Message(), "invalid_grant")
			assert.NotContains(t, string(r.Raw), globusauthtest.SecretPrefix)

			h := sysDo(t, env, "testuser1", "GET", "/v3/systems/gl1/history", nil)
			assert.Contains(t, string(h.Raw), "setAccessRefreshTokens")
			assert.NotContains(t, string(h.Raw), globusauthtest.SecretPrefix, "tokens masked in history")
		})
	}
}

// TestGlobusSessionIsSingleUseAndBound: another user, another system or
// another tenant cannot finish a session (nor use it up); the starter can,
// once; sessions expire; a malformed or forged session id is a 400.
func TestGlobusSessionIsSingleUseAndBound(t *testing.T) {
	for _, b := range globusBackends() {
		t.Run(b.Name, func(t *testing.T) {
			var fake *globusauthtest.Server
			env := b.New(t, withGlobus(t, &fake))
			require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", globusSystem("gl1", glCollection)).Code)
			require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", globusSystem("gl2", glCollection)).Code)
			require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/share/gl1", map[string]any{"users": []string{"testuser2"}}).Code)
			otherHdr := map[string]string{"X-Tapis-Token": env.UserToken(t, "other", "testuser1")}
			otherHost := "other." + testenv.Host
			r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/systems", Host: otherHost, Headers: otherHdr, Body: globusSystem("gl1", glCollection)})
			require.Equal(t, 201, r.Code, "%s", r.Raw)

			session, code := startGlobus(t, env, fake, "testuser1", "gl1")
			invalid := func(r testenv.Response, why string) {
				t.Helper()
				assert.Equal(t, 400, r.Code, "%s: %s", why, r.Raw)
				assert.Contains(t, r.Message(), "SYSAPI_GLOBUS_SESSION", why)
				assert.NotContains(t, string(r.Raw), code, "the code is never echoed")
			}
			invalid(sysDo(t, env, "testuser2", "POST", tokensPath("gl1", "testuser2", code, session), nil),
				"another user (who may set their own credential on gl1)")
			invalid(sysDo(t, env, "testuser1", "POST", tokensPath("gl2", "testuser1", code, session), nil), "another system")
			invalid(env.Do(t, testenv.Request{Method: "POST", Path: tokensPath("gl1", "testuser1", code, session), Host: otherHost, Headers: otherHdr}),
				"another tenant")
			exchanges, _, _ := fake.Counts()
			assert.Zero(t, exchanges, "none of them reached Globus")

			r = sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, session), nil)
			require.Equal(t, 200, r.Code, "the starter finishes it: %s", r.Raw)
			invalid(sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, session), nil), "a session is used once")

			for _, forged := range []string{"x", strings.Repeat("A", 43) + "="} {
				invalid(sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, forged), nil), "forged id "+forged)
			}
			nul := sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, strings.Repeat("%00", 43)), nil)
			assert.Equal(t, 400, nul.Code, "%s", nul.Raw)
			assert.Contains(t, nul.Message(), "sessionId contains a NUL character", "refused at the boundary")

			// A wrong code uses the session up, and says why.
			session, _ = startGlobus(t, env, fake, "testuser1", "gl1")
			r = sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", globusauthtest.SecretPrefix+"code-forged", session), nil)
			assert.Equal(t, 400, r.Code, "%s", r.Raw)
			assert.Contains(t, r.Message(), "Globus Auth refused the authorization code")
			assert.Contains(t, r.Message(), "invalid_grant")

			// Sessions expire after 15 minutes.
			session, code = startGlobus(t, env, fake, "testuser1", "gl1")
			env.Clock.Advance(16 * time.Minute)
			r = sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, session), nil)
			assert.Equal(t, 400, r.Code, "%s", r.Raw)
			assert.Contains(t, r.Message(), "SYSAPI_GLOBUS_SESSION_EXPIRED")

			// A host changed since the flow began: the consent was for the
			// old collection.
			session, code = startGlobus(t, env, fake, "testuser1", "gl1")
			require.Equal(t, 200, sysDo(t, env, "testuser1", "PATCH", "/v3/systems/gl1", map[string]any{"host": glOther}).Code)
			r = sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, session), nil)
			assert.Equal(t, 400, r.Code, "%s", r.Raw)
			assert.Contains(t, r.Message(), "SYSAPI_GLOBUS_SESSION_HOST")
		})
	}
}

// TestGlobusConcurrentReadsRefreshOnce: many reads of an expiring
// credential at once refresh it once (refresh tokens rotate: a second
// refresh with the same token would be refused) and all get the new token.
func TestGlobusConcurrentReadsRefreshOnce(t *testing.T) {
	var fake *globusauthtest.Server
	env := testenv.New(t, withGlobus(t, &fake))
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", globusSystem("gl1", glCollection)).Code)
	session, code := startGlobus(t, env, fake, "testuser1", "gl1")
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, session), nil).Code)
	env.Clock.Advance(48 * time.Hour)
	const n = 8
	tokens := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/credential/gl1/user/testuser1", Headers: filesFor(t, env, "testuser1")})
			codes[i] = r.Code
			tokens[i], _ = r.Result()["accessToken"].(string)
		}()
	}
	wg.Wait()
	for i := range n {
		assert.Equal(t, 200, codes[i])
		assert.Equal(t, tokens[0], tokens[i], "every reader gets the one refreshed token")
	}
	_, refreshes, _ := fake.Counts()
	assert.Equal(t, 1, refreshes)
}

// TestGlobusCredentialWritesAreChecked: a TOKEN credential written for a
// GLOBUS system is checked with Transfer (unless skipped); Globus Auth
// being down is a 502; without a Globus client the endpoints answer 501
// and GLOBUS credentials are stored unchecked, as the original.
func TestGlobusCredentialWritesAreChecked(t *testing.T) {
	var fake *globusauthtest.Server
	env := testenv.New(t, withGlobus(t, &fake))
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", globusSystem("gl1", glCollection)).Code)
	forged := map[string]any{"accessToken": "forged-access", "refreshToken": "forged-refresh"}
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/gl1/user/testuser1", forged)
	assert.Equal(t, 400, r.Code, "%s", r.Raw)
	assert.Contains(t, r.Message(), "SYSAPI_CRED_VALID_FAIL")
	assert.Contains(t, r.Message(), "AuthenticationFailed")
	assert.NotContains(t, r.Message(), "forged-access")
	assert.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/gl1/user/testuser1?skipCredentialCheck=true", forged).Code)
	r = sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/gl1/user/testuser1/check", nil)
	assert.Equal(t, 400, r.Code, "a stored forged token fails the check: %s", r.Raw)

	// Real tokens from the flow, written through the credential endpoint.
	session, code := startGlobus(t, env, fake, "testuser1", "gl1")
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, session), nil).Code)
	access, refresh, _ := filesRead(t, env, "gl1", "testuser1")
	r = sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/gl1/user/testuser1", map[string]any{"accessToken": access, "refreshToken": refresh})
	assert.Equal(t, 200, r.Code, "checked with Transfer and stored: %s", r.Raw)

	session, code = startGlobus(t, env, fake, "testuser1", "gl1")
	fake.SetAuthDown(503)
	r = sysDo(t, env, "testuser1", "POST", tokensPath("gl1", "testuser1", code, session), nil)
	assert.Equal(t, 502, r.Code, "%s", r.Raw)
	assert.Contains(t, r.Message(), "Globus Auth failed (HTTP 503)")

	off := testenv.New(t)
	require.Equal(t, 201, sysDo(t, off, "testuser1", "POST", "/v3/systems", globusSystem("gl1", glCollection)).Code)
	r = sysDo(t, off, "testuser1", "GET", "/v3/systems/credential/gl1/globus/authUrl", nil)
	assert.Equal(t, 501, r.Code, "no Globus client: a clear 501")
	assert.Contains(t, r.Message(), "Globus is not configured")
	assert.Equal(t, 501, sysDo(t, off, "testuser1", "POST", tokensPath("gl1", "testuser1", "c", strings.Repeat("A", 43)), nil).Code)
	assert.Equal(t, 200, sysDo(t, off, "testuser1", "POST", "/v3/systems/credential/gl1/user/testuser1", forged).Code,
		"stored unchecked without a Globus client, as the original")
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("notgl")).Code)
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "GET", "/v3/systems/credential/notgl/globus/authUrl", nil).Code, "GLOBUS systems only")
	r = sysDo(t, env, "testuser1", "POST", "/v3/systems", globusSystem("badhost", "gridftp.example.org"))
	require.Equal(t, 201, r.Code, "%s", r.Raw)
	r = sysDo(t, env, "testuser1", "GET", "/v3/systems/credential/badhost/globus/authUrl", nil)
	assert.Equal(t, 400, r.Code, "%s", r.Raw)
	assert.Contains(t, r.Message(), "collection id")
}
