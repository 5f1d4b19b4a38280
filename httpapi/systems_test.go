package httpapi_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// Systems through the HTTP layer: envelope, create rules, reads with select,
// updates with version checks, lifecycle and history, children, profiles.

func linuxSystem(id string) map[string]any {
	return map[string]any{"id": id, "systemType": "LINUX", "host": "login.example.org", "defaultAuthnMethod": "PKI_KEYS",
		"canExec": false, "rootDir": "/home/${apiUserId}/../data/", "jobWorkingDir": "work/${owner}/${tenant}"}
}

func sysDo(t *testing.T, env *testenv.Env, user, method, path string, body any) testenv.Response {
	t.Helper()
	return env.Do(t, testenv.Request{Method: method, Path: path, Body: body,
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", user)}})
}

func TestSystemCreateGetAndEnvelope(t *testing.T) {
	env := testenv.New(t)
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("sys1"))
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Equal(t, "http://dev.tapis.test/v3/systems/sys1", r.Result()["url"])
	for _, f := range []string{"status", "message", "version", "commit", "build", "result", "metadata"} {
		assert.Contains(t, r.Body, f)
	}
	assert.Nil(t, r.Body["metadata"])

	g := sysDo(t, env, "testuser1", "GET", "/v3/systems/sys1", nil)
	require.Equal(t, 200, g.Code, "body: %s", g.Raw)
	s := g.Result()
	assert.Equal(t, "testuser1", s["owner"], "${apiUserId} owner")
	assert.Equal(t, "/home/data", s["rootDir"], "variables resolved, then normalized")
	assert.Equal(t, "work/testuser1/dev", s["jobWorkingDir"])
	assert.Equal(t, "testuser1", s["effectiveUserId"], "dynamic, resolved for the caller")
	assert.Equal(t, true, s["isDynamicEffectiveUser"])
	assert.Equal(t, true, s["enabled"])
	assert.Equal(t, float64(-1), s["port"])
	assert.Equal(t, float64(2147483647), s["jobMaxJobs"])
	assert.Nil(t, s["authnCredential"])
	assert.Nil(t, s["description"])
	assert.Regexp(t, `Z$`, s["created"])
	assert.NotEmpty(t, s["uuid"])

	sel := sysDo(t, env, "testuser1", "GET", "/v3/systems/sys1?select=host,canExec", nil)
	require.Equal(t, 200, sel.Code)
	assert.Equal(t, map[string]any{"id": "sys1", "host": "login.example.org", "canExec": false}, sel.Result(), "booleans stay booleans under select")

	assert.Equal(t, 409, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("sys1")).Code, "ids are unique")
	assert.Equal(t, 404, sysDo(t, env, "testuser2", "GET", "/v3/systems/nope", nil).Code)
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "GET", "/v3/systems/sys1", nil).Code, "only the owner, until sharing")
	other := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/sys1", Host: "other.tapis.test",
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "other", "testuser1")}})
	assert.Equal(t, 404, other.Code, "another tenant's system does not exist for you")
}

func TestSystemCreateNamesEveryBrokenRule(t *testing.T) {
	env := testenv.New(t)
	bad := map[string]any{"id": "bad id!", "systemType": "S3", "host": "s3.example.org", "defaultAuthnMethod": "ACCESS_KEY",
		"canExec": true, "canRunBatch": true, "jobEnvVariables": []map[string]any{{"key": "_tapisX", "value": "1"}}}
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems", bad)
	require.Equal(t, 400, r.Code, "body: %s", r.Raw)
	msg := r.Message()
	for _, key := range []string{"SYSLIB_INVALID_STR_ATTR", "SYSLIB_S3_NOBUCKET_INPUT", "SYSLIB_S3_CANEXEC_INPUT",
		"SYSLIB_CANEXEC_INVALID_SYSTYPE", "SYSLIB_CANEXEC_NO_JOBWORKINGDIR_INPUT", "SYSLIB_CANEXEC_NO_JOBRUNTIME_INPUT",
		"SYSLIB_ISBATCH_NOSCHED", "SYSLIB_ISBATCH_NOQUEUES", "SYSLIB_ENV_VAR_INVALID_PREFIX"} {
		assert.Contains(t, msg, key)
	}
	assert.Equal(t, 404, sysDo(t, env, "testuser1", "GET", "/v3/systems/bad%20id!", nil).Code, "nothing written")
	missing := sysDo(t, env, "testuser1", "POST", "/v3/systems", map[string]any{"id": "x"})
	assert.Equal(t, 400, missing.Code)
	assert.Contains(t, missing.Message(), "canExec")
	unknown := linuxSystem("sys2")
	unknown["colour"] = "blue"
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "POST", "/v3/systems", unknown).Code, "unknown attributes are refused")
	reserved := linuxSystem("Search")
	assert.Equal(t, 409, sysDo(t, env, "testuser1", "POST", "/v3/systems", reserved).Code)
}

func TestSystemHostEvalWithoutHostAccessIsNotConfigured(t *testing.T) {
	env := testenv.New(t)
	s := linuxSystem("he1")
	s["rootDir"] = "HOST_EVAL($HOME)/data"
	s["effectiveUserId"] = "alice"
	s["authnCredential"] = map[string]any{"password": "pw-not-echoed"}
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems", s)
	assert.Equal(t, 501, r.Code, "body: %s", r.Raw)
	assert.Contains(t, r.Message(), "HOST_EVAL")
	assert.NotContains(t, string(r.Raw), "pw-not-echoed")
	assert.Equal(t, 404, sysDo(t, env, "testuser1", "GET", "/v3/systems/he1", nil).Code, "never a wrong rootDir")
	s["rootDir"] = "HOST_EVAL($0BAD)/data"
	r = sysDo(t, env, "testuser1", "POST", "/v3/systems", s)
	assert.Equal(t, 400, r.Code)
	assert.Contains(t, r.Message(), "SYSLIB_HOST_EVAL_INVALID_ENV_VAR")
}

func TestSystemConcurrentPatchesOneWins(t *testing.T) {
	env := testenv.New(t)
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("race")).Code)
	tok := env.UserToken(t, "dev", "testuser1")
	const n = 50
	codes := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := env.Do(t, testenv.Request{Method: "PATCH", Path: "/v3/systems/race", Headers: map[string]string{"X-Tapis-Token": tok},
				Body: map[string]any{"description": strings.Repeat("x", i+1)}})
			codes[i] = r.Code
		}()
	}
	close(start)
	wg.Wait()
	ok, conflict := 0, 0
	for _, c := range codes {
		switch c {
		case 200:
			ok++
		case 409:
			conflict++
		}
	}
	assert.GreaterOrEqual(t, ok, 1, "at least one patch lands")
	assert.Equal(t, n, ok+conflict, "every other patch is a 409, never a lost update or a 500: %v", codes)
	h := sysDo(t, env, "testuser1", "GET", "/v3/systems/race/history", nil)
	assert.Len(t, h.Body["result"], 1+ok, "one history record per successful patch")
}

func TestSystemUpdatesAndLifecycleWriteHistory(t *testing.T) {
	env := testenv.New(t)
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem("life")).Code)
	steps := []struct {
		method, path string
		body         any
		code         int
	}{
		{"POST", "/v3/systems/life/disable", nil, 200},
		{"POST", "/v3/systems/life/enable", nil, 200},
		{"PATCH", "/v3/systems/life", map[string]any{"description": "patched", "tags": []string{" a ", "b"}}, 200},
		{"PUT", "/v3/systems/life", map[string]any{"host": "new.example.org", "defaultAuthnMethod": "PASSWORD"}, 200},
		{"POST", "/v3/systems/life/delete", nil, 200},
	}
	for _, s := range steps {
		r := sysDo(t, env, "testuser1", s.method, s.path, s.body)
		require.Equal(t, s.code, r.Code, "%s %s: %s", s.method, s.path, r.Raw)
	}
	h := sysDo(t, env, "testuser1", "GET", "/v3/systems/life/history", nil)
	require.Equal(t, 200, h.Code)
	var ops []string
	for _, x := range h.Body["result"].([]any) {
		ops = append(ops, x.(map[string]any)["operation"].(string))
	}
	assert.Equal(t, []string{"create", "disable", "enable", "modify", "modify", "delete"}, ops)
	assert.Equal(t, 404, sysDo(t, env, "testuser1", "GET", "/v3/systems/life", nil).Code, "deleted")
	require.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/life/undelete", nil).Code)
	g := sysDo(t, env, "testuser1", "GET", "/v3/systems/life", nil).Result()
	assert.Equal(t, "new.example.org", g["host"])
	assert.Nil(t, g["description"], "PUT reset the omitted description")
	assert.Equal(t, "/home/data", g["rootDir"], "PUT ignores non-updatable attributes")

	imm := sysDo(t, env, "testuser1", "PATCH", "/v3/systems/life", map[string]any{"owner": "x", "rootDir": "/y"})
	assert.Equal(t, 400, imm.Code)
	assert.Contains(t, imm.Message(), "owner")
	assert.Contains(t, imm.Message(), "rootDir")
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "PATCH", "/v3/systems/life", map[string]any{"description": "x"}).Code)

	en := sysDo(t, env, "testuser1", "GET", "/v3/systems/life/isEnabled", nil)
	assert.Equal(t, true, en.Result()["aBool"])
	co := sysDo(t, env, "testuser1", "POST", "/v3/systems/life/changeOwner/testuser2", nil)
	assert.Equal(t, float64(1), co.Result()["changes"])
	assert.Equal(t, 200, sysDo(t, env, "testuser2", "GET", "/v3/systems/life", nil).Code, "the new owner reads it")
	assert.Equal(t, 403, sysDo(t, env, "testuser1", "GET", "/v3/systems/life", nil).Code, "the old owner lost it")
}

func TestChildSystems(t *testing.T) {
	env := testenv.New(t)
	parent := linuxSystem("parent")
	parent["allowChildren"] = true
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", parent).Code)
	c := sysDo(t, env, "testuser1", "POST", "/v3/systems/parent/createChildSystem", map[string]any{"effectiveUserId": "u1", "rootDir": "/kid"})
	require.Equal(t, 201, c.Code, "body: %s", c.Raw)
	assert.Equal(t, "http://dev.tapis.test/v3/systems/parent-testuser1", c.Result()["url"])
	kid := sysDo(t, env, "testuser1", "GET", "/v3/systems/parent-testuser1", nil).Result()
	assert.Equal(t, "parent", kid["parentId"])
	assert.Equal(t, false, kid["allowChildren"])

	assert.Equal(t, 200, sysDo(t, env, "testuser1", "PATCH", "/v3/systems/parent", map[string]any{"host": "moved.example.org"}).Code)
	kid2 := sysDo(t, env, "testuser1", "GET", "/v3/systems/parent-testuser1", nil).Result()
	assert.Equal(t, "moved.example.org", kid2["host"], "children follow a parent PATCH")
	assert.Equal(t, kid["uuid"], kid2["uuid"], "but keep their own uuid")

	assert.Equal(t, 400, sysDo(t, env, "testuser1", "PATCH", "/v3/systems/parent-testuser1", map[string]any{"host": "x"}).Code, "a child patches effectiveUserId only")
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "PUT", "/v3/systems/parent-testuser1", map[string]any{"host": "x", "defaultAuthnMethod": "PASSWORD"}).Code)
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "POST", "/v3/systems/parent/delete", nil).Code, "a parent with children stays")
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "PATCH", "/v3/systems/parent", map[string]any{"allowChildren": false}).Code)

	u := sysDo(t, env, "testuser1", "POST", "/v3/systems/parent/unlinkChildren?all=true", nil)
	require.Equal(t, 200, u.Code, "body: %s", u.Raw)
	assert.Equal(t, float64(1), u.Result()["changes"])
	assert.Nil(t, sysDo(t, env, "testuser1", "GET", "/v3/systems/parent-testuser1", nil).Result()["parentId"])
	assert.Equal(t, 200, sysDo(t, env, "testuser1", "POST", "/v3/systems/parent/delete", nil).Code)

	noKids := linuxSystem("leaf")
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", noKids).Code)
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems/leaf/createChildSystem", map[string]any{"effectiveUserId": "u1", "rootDir": "/kid"})
	assert.Equal(t, 400, r.Code)
	assert.Contains(t, r.Message(), "SYSLIB_CHILD_NOT_PERMITTED")
	assert.Equal(t, 404, sysDo(t, env, "testuser1", "POST", "/v3/systems/ghost/createChildSystem", map[string]any{"effectiveUserId": "u1", "rootDir": "/k"}).Code)
}

func TestSchedulerProfiles(t *testing.T) {
	env := testenv.New(t)
	body := map[string]any{"name": "prof1", "description": "a profile", "hiddenOptions": []string{"MEM"},
		"moduleLoads": []map[string]any{{"moduleLoadCommand": "module load", "modulesToLoad": []string{"gcc"}}}}
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems/schedulerProfile", body)
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Equal(t, 409, sysDo(t, env, "testuser2", "POST", "/v3/systems/schedulerProfile", body).Code)
	g := sysDo(t, env, "testuser2", "GET", "/v3/systems/schedulerProfile/prof1", nil)
	require.Equal(t, 200, g.Code)
	assert.Equal(t, "testuser1", g.Result()["owner"])
	assert.Len(t, sysDo(t, env, "testuser2", "GET", "/v3/systems/schedulerProfile", nil).Body["result"], 1)
	assert.Equal(t, 403, sysDo(t, env, "testuser2", "DELETE", "/v3/systems/schedulerProfile/prof1", nil).Code)

	withProfile := linuxSystem("batch")
	withProfile["batchSchedulerProfile"] = "nope"
	bad := sysDo(t, env, "testuser1", "POST", "/v3/systems", withProfile)
	assert.Contains(t, bad.Message(), "SYSLIB_PRF_NO_PROFILE")
	withProfile["batchSchedulerProfile"] = "prof1"
	assert.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", withProfile).Code)

	d := sysDo(t, env, "testadmin", "DELETE", "/v3/systems/schedulerProfile/prof1", nil)
	require.Equal(t, 200, d.Code, "a tenant admin may delete: %s", d.Raw)
	assert.Equal(t, float64(1), d.Result()["changes"])
	again := sysDo(t, env, "testuser1", "DELETE", "/v3/systems/schedulerProfile/prof1", nil)
	assert.Equal(t, 404, again.Code, "deleting a missing profile: %s", again.Raw)
	assert.Contains(t, again.Message(), "SYSAPI_PRF_NOT_FOUND")
	assert.Equal(t, 404, sysDo(t, env, "testuser1", "GET", "/v3/systems/schedulerProfile/prof1", nil).Code)
}

func TestSystemListAndHealth(t *testing.T) {
	env := testenv.New(t)
	for _, id := range []string{"b", "a", "c"} {
		require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem(id)).Code)
	}
	require.Equal(t, 201, sysDo(t, env, "testuser2", "POST", "/v3/systems", linuxSystem("theirs")).Code)
	l := sysDo(t, env, "testuser1", "GET", "/v3/systems?limit=2&computeTotal=true", nil)
	require.Equal(t, 200, l.Code, "body: %s", l.Raw)
	res := l.Body["result"].([]any)
	require.Len(t, res, 2)
	assert.Equal(t, "a", res[0].(map[string]any)["id"], "ordered by id")
	assert.Equal(t, "string", typeName(res[0].(map[string]any)["systemType"]))
	md := l.Body["metadata"].(map[string]any)
	assert.Equal(t, float64(2), md["recordCount"])
	assert.Equal(t, float64(2), md["recordLimit"])
	assert.Equal(t, float64(3), md["totalCount"], "only the caller's systems")
	assert.Equal(t, 400, sysDo(t, env, "testuser1", "GET", "/v3/systems?listType=MINE", nil).Code)
	assert.Equal(t, 200, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/healthcheck"}).Code)
	assert.Equal(t, 200, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/systems/readycheck"}).Code)
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "bool"
	case float64:
		return "number"
	}
	return "other"
}

func TestSystemDTNRules(t *testing.T) {
	env := testenv.New(t)
	dtn := linuxSystem("dtn1")
	dtn["rootDir"] = "/data"
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", dtn).Code)
	exec := func(id, root, dtnID string) map[string]any {
		s := linuxSystem(id)
		s["rootDir"], s["canExec"], s["jobWorkingDir"], s["dtnSystemId"] = root, true, "/work", dtnID
		s["jobRuntimes"] = []map[string]any{{"runtimeType": "SINGULARITY"}}
		return s
	}
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems", exec("e1", "/other", "dtn1"))
	assert.Equal(t, 400, r.Code)
	assert.Contains(t, r.Message(), "SYSLIB_DTN_ROOTDIR_MISMATCH")
	r = sysDo(t, env, "testuser1", "POST", "/v3/systems", exec("e2", "/data", "ghost"))
	assert.Contains(t, r.Message(), "SYSLIB_DTN_NO_SYSTEM")
	r = sysDo(t, env, "testuser2", "POST", "/v3/systems", exec("e3", "/data", "dtn1"))
	assert.Contains(t, r.Message(), "SYSLIB_DTN_403", "the DTN is read with the caller's rights")
	r = sysDo(t, env, "testuser1", "POST", "/v3/systems", exec("e4", "/data", "dtn1"))
	assert.Equal(t, 201, r.Code, "body: %s", r.Raw)
}
