package httpapi_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

func TestPermissionsThroughHTTP(t *testing.T) {
	env := testenv.New(t)
	// An execution system: a 403 on requireExecPerm can then only come from
	// the permissions (on canExec=false it is SYSLIB_NOTEXEC whatever they are).
	ps := linuxSystem("ps")
	ps["canExec"], ps["jobRuntimes"] = true, []map[string]any{{"runtimeType": "DOCKER"}}
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", ps).Code)
	perms := func(user string) []any {
		r := sysDo(t, env, "testuser1", "GET", "/v3/systems/perms/ps/user/"+user, nil)
		require.Equal(t, 200, r.Code, "body: %s", r.Raw)
		return r.Result()["names"].([]any)
	}
	assert.Empty(t, perms("testuser1"), "the owner's implicit rights are not listed")
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "GET", "/v3/systems/ps", nil).Code)

	g := sysDo(t, env, "testuser1", "POST", "/v3/systems/perms/ps/user/testuser2", map[string]any{"permissions": []string{"modify"}})
	require.Equal(t, 200, g.Code, "body: %s", g.Raw)
	assert.Equal(t, []any{"READ", "MODIFY"}, perms("testuser2"), "MODIFY implies READ; lower case accepted")
	assert.Equal(t, 200, sysDo(t, env, "testuser2", "GET", "/v3/systems/ps", nil).Code, "READ reads")
	assert.Equal(t, 200, sysDo(t, env, "testuser2", "PATCH", "/v3/systems/ps", map[string]any{"description": "by 2"}).Code, "MODIFY modifies")
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "POST", "/v3/systems/ps/delete", nil).Code, "but only the owner deletes")
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "POST", "/v3/systems/perms/ps/user/testuser3", map[string]any{"permissions": []string{"READ"}}).Code,
		"only the owner or an admin grants")
	noExec := sysDo(t, env, "testuser2", "GET", "/v3/systems/ps?requireExecPerm=true", nil)
	assert.Equal(t, 403, noExec.Code, "READ is not EXECUTE")
	assert.Contains(t, noExec.Message(), "SYSLIB_UNAUTH", "refused for the permission")
	assert.NotContains(t, noExec.Message(), "SYSLIB_NOTEXEC", "ps can execute: the refusal is not about canExec")

	bad := sysDo(t, env, "testuser1", "POST", "/v3/systems/perms/ps/user/testuser2", map[string]any{"permissions": []string{"WRITE", "READ"}})
	assert.Equal(t, 400, bad.Code)
	assert.Contains(t, bad.Message(), "WRITE")

	d := sysDo(t, env, "testuser1", "DELETE", "/v3/systems/perms/ps/user/testuser2/READ", nil)
	require.Equal(t, 200, d.Code, "body: %s", d.Raw)
	assert.Empty(t, perms("testuser2"), "revoking READ takes MODIFY along")
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "GET", "/v3/systems/ps", nil).Code)

	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/perms/ps/user/testuser3", map[string]any{"permissions": []string{"*"}}).Code)
	assert.Equal(t, []any{"READ", "MODIFY", "EXECUTE"}, perms("testuser3"))
	assert.Equal(t, 200, sysDo(t, env, "testuser3", "GET", "/v3/systems/ps?requireExecPerm=true", nil).Code, "EXECUTE executes")
	self := sysDo(t, env, "testuser3", "POST", "/v3/systems/perms/ps/user/testuser3/revoke", map[string]any{"permissions": []string{"MODIFY"}})
	assert.Equal(t, 200, self.Code, "a user may drop their own MODIFY: %s", self.Raw)
	assert.Equal(t, 403, sysDo(t, env, "testuser3", "POST", "/v3/systems/perms/ps/user/testuser3/revoke", map[string]any{"permissions": []string{"EXECUTE"}}).Code,
		"but not only EXECUTE")

	h := sysDo(t, env, "testuser1", "GET", "/v3/systems/ps/history", nil)
	var ops []string
	for _, x := range h.Body["result"].([]any) {
		ops = append(ops, x.(map[string]any)["operation"].(string))
	}
	assert.Contains(t, ops, "grantPerms")
	assert.Contains(t, ops, "revokePerms")

	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/ps/delete", nil).Code)
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/ps/undelete", nil).Code)
	assert.Empty(t, perms("testuser3"), "delete removed the fine-grained permissions, undelete does not restore them")
}

func TestSharingThroughHTTP(t *testing.T) {
	env := testenv.New(t)
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("sh")).Code)
	info := func() map[string]any {
		r := sysDo(t, env, "testuser1", "GET", "/v3/systems/share/sh", nil)
		require.Equal(t, 200, r.Code, "body: %s", r.Raw)
		return r.Result()
	}
	assert.Equal(t, map[string]any{"public": false, "userList": []any{}}, info())
	s := sysDo(t, env, "testuser1", "POST", "/v3/systems/share/sh", map[string]any{"users": []string{"testuser2"}})
	require.Equal(t, 200, s.Code, "body: %s", s.Raw)
	assert.Equal(t, "http://dev.tapis.test/v3/systems/share/sh", s.Result()["url"])
	assert.Equal(t, map[string]any{"public": false, "userList": []any{"testuser2"}}, info())
	assert.Equal(t, 200, sysDo(t, env, "testuser2", "GET", "/v3/systems/sh?requireExecPerm=false", nil).Code, "a share gives READ")
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "PATCH", "/v3/systems/sh", map[string]any{"description": "x"}).Code, "but never MODIFY")
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "POST", "/v3/systems/share/sh", map[string]any{"users": []string{"testuser3"}}).Code)
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "POST", "/v3/systems/share/sh", map[string]any{"users": []string{}}).Code)

	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/share_public/sh", nil).Code)
	assert.Equal(t, true, info()["public"])
	assert.Equal(t, 200, sysDo(t, env, "testuser4", "GET", "/v3/systems/sh", nil).Code, "public within the tenant")
	other := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/sh", Host: "other.tapis.test",
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "other", "testuser4")}})
	assert.Equal(t, 404, other.Code, "but not beyond it")

	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/unshare_public/sh", nil).Code)
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/unshare/sh", map[string]any{"users": []string{"testuser2"}}).Code)
	assert.Equal(t, map[string]any{"public": false, "userList": []any{}}, info())
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "GET", "/v3/systems/sh", nil).Code)
}
