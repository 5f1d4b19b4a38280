package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// Edge cases found in review: credentials of static systems, shared
// contexts without admin powers, bad bytes and numbers, parent PUT re-sync.

func TestStaticCredentialBelongsToTheOwner(t *testing.T) {
	env := testenv.New(t)
	st := linuxSystem("stat")
	st["effectiveUserId"], st["defaultAuthnMethod"] = "testuser2", "PASSWORD"
	st["authnCredential"] = map[string]any{"password": "owner-set"}
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems?skipCredentialCheck=true", st).Code)
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/share_public/stat", nil).Code)
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/perms/stat/user/testuser3", map[string]any{"permissions": []string{"MODIFY"}}).Code)

	r := sysDo(t, env, "testuser2", "POST", "/v3/systems/credential/stat/user/testuser2?skipCredentialCheck=true", map[string]any{"password": "evil"})
	assert.Equal(t, 403, r.Code, "a reader cannot replace a static system's login: %s", r.Raw)
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "DELETE", "/v3/systems/credential/stat/user/testuser2", nil).Code)
	put := sysDo(t, env, "testuser3", "PUT", "/v3/systems/stat?skipCredentialCheck=true",
		map[string]any{"host": "h", "defaultAuthnMethod": "PASSWORD", "authnCredential": map[string]any{"password": "evil"}})
	assert.Equal(t, 403, put.Code, "MODIFY does not let PUT replace the credential: %s", put.Raw)
	read := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/credential/stat/user/testuser2", Headers: filesFor(t, env, "testuser1")})
	require.Equal(t, 200, read.Code)
	assert.Equal(t, "owner-set", read.Result()["password"])

	ok := sysDo(t, env, "testuser1", "PUT", "/v3/systems/stat?skipCredentialCheck=true",
		map[string]any{"host": "h", "defaultAuthnMethod": "PASSWORD", "authnCredential": map[string]any{"password": "owner-new"}})
	require.Equal(t, 200, ok.Code, "the owner may: %s", ok.Raw)
	h := sysDo(t, env, "testuser1", "GET", "/v3/systems/stat/history", nil)
	assert.Contains(t, string(h.Raw), `"setCred"`)
	assert.NotContains(t, string(h.Raw), "owner-new")
}

func TestSharedContextLendsNoAdminPowers(t *testing.T) {
	env := testenv.New(t)
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("priv")).Code)
	r := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/priv?sharedAppCtx=testadmin", Headers: filesFor(t, env, "testuser2")})
	assert.Equal(t, 403, r.Code, "the tenant admin as grantor lends only what it holds itself")
}

func TestBadBytesAndNumbersAre400sOnSQL(t *testing.T) {
	env := testenv.SQLite(t)
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("ok")).Code)
	for _, path := range []string{"/v3/systems/a%00b", "/v3/systems/perms/ok/user/a%00b", "/v3/systems/schedulerProfile/a%00b"} {
		r := sysDo(t, env, "testuser1", "GET", path, nil)
		assert.Contains(t, []int{400, 404}, r.Code, "%s: %s", path, r.Raw)
	}
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "DELETE", "/v3/systems/credential/ok/user/a%00b", nil).Code)
	nul := linuxSystem("nul")
	nul["description"] = "a\u0000b"
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "POST", "/v3/systems", nul).Code)
	big := linuxSystem("big")
	big["jobMaxJobs"] = 3000000000
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems", big)
	assert.Equal(t, 400, r.Code)
	assert.Contains(t, r.Message(), "jobMaxJobs")
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "PATCH", "/v3/systems/ok", map[string]any{"proxyPort": -3000000000}).Code)
}

func TestParentPutResyncsChildrenAndMore(t *testing.T) {
	env := testenv.New(t)
	parent := linuxSystem("par")
	parent["allowChildren"] = true
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", parent).Code)
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems/par/createChildSystem", map[string]any{"id": "kid", "effectiveUserId": "u", "rootDir": "/k"}).Code)
	require.Equal(t, 200, sysDo(t, env, "testuser1", "PUT", "/v3/systems/par",
		map[string]any{"host": "put.example.org", "defaultAuthnMethod": "PASSWORD", "allowChildren": true}).Code)
	assert.Equal(t, "put.example.org", sysDo(t, env, "testuser1", "GET", "/v3/systems/kid", nil).Result()["host"], "children follow a parent PUT")
	u := sysDo(t, env, "testuser1", "POST", "/v3/systems/par/unlinkChildren", map[string]any{"childSystemIds": []string{"kid", "kid"}})
	require.Equal(t, 200, u.Code, "repeated ids: %s", u.Raw)
	assert.Equal(t, float64(1), u.Result()["changes"])

	missing := sysDo(t, env, "testuser1", "POST", "/v3/systems", map[string]any{"id": "bad id!", "systemType": "S3", "host": "h", "defaultAuthnMethod": "PASSWORD"})
	assert.Equal(t, 400, missing.Code)
	for _, key := range []string{"canExec", "SYSLIB_INVALID_STR_ATTR", "SYSLIB_S3_NOBUCKET_INPUT"} {
		assert.Contains(t, missing.Message(), key, "a missing canExec does not hide the other rules")
	}

	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/share_public/par", nil).Code)
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/share/par", map[string]any{"users": []string{"testuser5"}}).Code)
	g := sysDo(t, env, "testuser1", "GET", "/v3/systems/par", nil).Result()
	assert.Equal(t, true, g["isPublic"])
	assert.Equal(t, []any{"testuser5"}, g["sharedWithUsers"])
	l := sysDo(t, env, "testuser1", "GET", "/v3/systems?select=isPublic&search=(id.eq.par)", nil)
	require.Equal(t, 200, l.Code)
	assert.Equal(t, map[string]any{"id": "par", "isPublic": true}, l.Body["result"].([]any)[0])
}
