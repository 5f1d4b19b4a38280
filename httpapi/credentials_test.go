package httpapi_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/internal/testenv"
)

// filesFor is the files service acting for user in dev.
func filesFor(t *testing.T, env *testenv.Env, user string) map[string]string {
	return map[string]string{"X-Tapis-Token": env.ServiceToken(t, "files"), "X-Tapis-Tenant": "dev", "X-Tapis-User": user}
}

func TestCredentialsThroughHTTP(t *testing.T) {
	audit := &credentials.MemoryAuditor{}
	env := testenv.New(t, func(c *tapis.Config) { c.Stores.Audit = audit })
	const secret = "hunter2-credential-secret"
	static := linuxSystem("st")
	static["effectiveUserId"] = "hpcuser"
	static["defaultAuthnMethod"] = "PASSWORD"
	static["authnCredential"] = map[string]any{"password": secret}
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/systems?skipCredentialCheck=true", Body: static,
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")}})
	require.Equal(t, 201, r.Code, "a static system with its credential: %s", r.Raw)

	noCheck := linuxSystem("st2")
	noCheck["effectiveUserId"], noCheck["authnCredential"] = "hpcuser", map[string]any{"password": secret}
	r = sysDo(t, env, "testuser1", "POST", "/v3/systems", noCheck)
	assert.Equal(t, 501, r.Code, "no host checks configured and no skipCredentialCheck: %s", r.Raw)
	assert.Equal(t, 404, sysDo(t, env, "testuser1", "GET", "/v3/systems/st2", nil).Code, "nothing created")

	dyn := linuxSystem("dy")
	dyn["authnCredential"] = map[string]any{"password": secret}
	r = sysDo(t, env, "testuser1", "POST", "/v3/systems?skipCredentialCheck=true", dyn)
	assert.Equal(t, 400, r.Code)
	assert.Contains(t, r.Message(), "SYSLIB_CRED_DISALLOWED_INPUT")

	// Users never read secrets, owners included.
	assert.Equal(t, 403, sysDo(t, env, "testuser1", "GET", "/v3/systems/credential/st/user/hpcuser", nil).Code)
	assert.Equal(t, 403, sysDo(t, env, "testuser1", "GET", "/v3/systems/st?returnCredentials=true", nil).Code)
	g := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/credential/st/user/hpcuser", Headers: filesFor(t, env, "testuser1")})
	require.Equal(t, 200, g.Code, "the files service reads it: %s", g.Raw)
	assert.Equal(t, secret, g.Result()["password"])
	assert.Equal(t, "PASSWORD", g.Result()["authnMethod"])
	sys := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/st?returnCredentials=true", Headers: filesFor(t, env, "testuser1")})
	require.Equal(t, 200, sys.Code, "body: %s", sys.Raw)
	assert.Equal(t, secret, sys.Result()["authnCredential"].(map[string]any)["password"])

	// A dynamic system: each user stores their own, for themselves only.
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("dyn")).Code)
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/share/dyn", map[string]any{"users": []string{"testuser2"}}).Code)
	own := sysDo(t, env, "testuser2", "POST", "/v3/systems/credential/dyn/user/testuser2?skipCredentialCheck=true",
		map[string]any{"loginUser": "tu2linux", "password": "pw2-secret-value"})
	require.Equal(t, 200, own.Code, "a share lets a user store their own credential: %s", own.Raw)
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "POST", "/v3/systems/credential/dyn/user/testuser3?skipCredentialCheck=true",
		map[string]any{"password": "x"}).Code, "but nobody else's")
	asFiles := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/dyn?returnCredentials=true", Headers: filesFor(t, env, "testuser2")})
	require.Equal(t, 200, asFiles.Code, "body: %s", asFiles.Raw)
	assert.Equal(t, "tu2linux", asFiles.Result()["effectiveUserId"], "the mapped login user")
	half := sysDo(t, env, "testuser2", "POST", "/v3/systems/credential/dyn/user/testuser2?skipCredentialCheck=true", map[string]any{"privateKey": "k"})
	assert.Equal(t, 400, half.Code)
	assert.Contains(t, half.Message(), "SYSAPI_CRED_SECRET_MISSING")
	require.Equal(t, 200, sysDo(t, env, "testuser2", "DELETE", "/v3/systems/credential/dyn/user/testuser2", nil).Code)
	assert.Equal(t, 404, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/credential/dyn/user/testuser2", Headers: filesFor(t, env, "testuser2")}).Code)

	// No secret in history; one audit record per secret operation, none holding it.
	h := sysDo(t, env, "testuser1", "GET", "/v3/systems/st/history", nil)
	assert.NotContains(t, string(h.Raw), secret)
	h = sysDo(t, env, "testuser1", "GET", "/v3/systems/dyn/history", nil)
	assert.NotContains(t, string(h.Raw), "pw2-secret-value")
	recs := audit.Records()
	var actions []string
	for _, rec := range recs {
		actions = append(actions, rec.Action+":"+rec.Result)
		assert.NotContains(t, strings.ToLower(rec.TargetUser+rec.SystemID), "secret")
	}
	assert.Equal(t, []string{"put:ok", "get:ok", "get:ok", "put:ok", "get:ok", "delete:ok", "get:not_found"}, actions)
	assert.Equal(t, "files", recs[1].JWTUser, "who read it")
	assert.Equal(t, "testuser1", recs[1].OboUser, "on behalf of whom")
}

func TestHostKeyForgottenWhenHostChanges(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("pinned")).Code)
	require.NoError(t, env.Store.PinHostKey(ctx, "dev", "pinned", "ssh-ed25519 AAAAold"))
	require.Equal(t, 200, sysDo(t, env, "testuser1", "PATCH", "/v3/systems/pinned", map[string]any{"description": "same host"}).Code)
	k, err := env.Store.HostKey(ctx, "dev", "pinned")
	require.NoError(t, err)
	assert.Equal(t, "ssh-ed25519 AAAAold", k, "kept while host and port stay")
	require.Equal(t, 200, sysDo(t, env, "testuser1", "PATCH", "/v3/systems/pinned", map[string]any{"host": "new.example.org"}).Code)
	k, err = env.Store.HostKey(ctx, "dev", "pinned")
	require.NoError(t, err)
	assert.Empty(t, k, "a new host gets a new pin on its first check")
}

func TestSharedAppContextAndResourceTenant(t *testing.T) {
	env := testenv.New(t)
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("app-sys")).Code)
	as := func(path string, hdr map[string]string) int {
		return env.Do(t, testenv.Request{Method: "GET", Path: path, Headers: hdr}).Code
	}
	assert.Equal(t, 403, as("/v3/systems/app-sys", filesFor(t, env, "testuser2")), "testuser2 has no rights")
	assert.Equal(t, 200, as("/v3/systems/app-sys?sharedAppCtx=testuser1", filesFor(t, env, "testuser2")), "the grantor (owner) may read it")
	assert.Equal(t, 403, as("/v3/systems/app-sys?sharedAppCtx=testuser3", filesFor(t, env, "testuser2")), "a grantor without rights grants nothing")
	assert.Equal(t, 403, as("/v3/systems/app-sys?sharedAppCtx=testuser1", map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser2")}),
		"users cannot claim a shared context")
	apps := map[string]string{"X-Tapis-Token": env.ServiceToken(t, "apps"), "X-Tapis-Tenant": "dev", "X-Tapis-User": "testuser2"}
	assert.Equal(t, 403, as("/v3/systems/app-sys?sharedAppCtx=testuser1", apps), "only files and jobs")

	other := filesFor(t, env, "testuser1")
	assert.Equal(t, 404, as("/v3/systems/app-sys?resourceTenant=other", other), "looked up in the other tenant")
	assert.Equal(t, 200, as("/v3/systems/app-sys?resourceTenant=dev", other))
}

func TestLoginMappingShownOnReadsAndLists(t *testing.T) {
	env := testenv.New(t)
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("dynmap")).Code)
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/share/dynmap", map[string]any{"users": []string{"testuser2"}}).Code)
	assert.Equal(t, "testuser2", sysDo(t, env, "testuser2", "GET", "/v3/systems/dynmap", nil).Result()["effectiveUserId"], "no mapping: the Tapis user")
	require.Equal(t, 200, sysDo(t, env, "testuser2", "POST", "/v3/systems/credential/dynmap/user/testuser2?skipCredentialCheck=true",
		map[string]any{"loginUser": "tu2linux", "password": "p"}).Code)
	assert.Equal(t, "tu2linux", sysDo(t, env, "testuser2", "GET", "/v3/systems/dynmap", nil).Result()["effectiveUserId"])
	l := sysDo(t, env, "testuser2", "GET", "/v3/systems?listType=ALL&select=effectiveUserId", nil)
	assert.Equal(t, "tu2linux", l.Body["result"].([]any)[0].(map[string]any)["effectiveUserId"], "lists too")
	assert.Equal(t, "testuser1", sysDo(t, env, "testuser1", "GET", "/v3/systems/dynmap", nil).Result()["effectiveUserId"], "per user")
	require.Equal(t, 200, sysDo(t, env, "testuser2", "POST", "/v3/systems/credential/dynmap/user/testuser2?skipCredentialCheck=true",
		map[string]any{"password": "p2"}).Code)
	assert.Equal(t, "tu2linux", sysDo(t, env, "testuser2", "GET", "/v3/systems/dynmap", nil).Result()["effectiveUserId"], "a write without loginUser keeps it")
	require.Equal(t, 200, sysDo(t, env, "testuser2", "DELETE", "/v3/systems/credential/dynmap/user/testuser2", nil).Code)
	assert.Equal(t, "testuser2", sysDo(t, env, "testuser2", "GET", "/v3/systems/dynmap", nil).Result()["effectiveUserId"], "deleting the credential drops it")
}
