package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// The requests below are what @tapis/tapis-typescript 0.0.62 (OpenAPI
// Generator typescript-fetch, generated from the official Systems spec)
// sends, as logged by a pre-middleware of the client:
//
//	searchSystemsQueryParameters({freeFormParameterName: {'id.like': 'abc*', 'port.gt': '20'}, listType: 'ALL', limit: 5})
//	  GET /v3/systems/search?freeFormParameterName%5Bid.like%5D=abc*&freeFormParameterName%5Bport.gt%5D=20&listType=ALL&limit=5
//	matchConstraints({reqMatchConstraints: {match: ["a = 'b'"]}})
//	  POST /v3/systems/match/constraints  {"match":["a = 'b'"]}
//	unlinkChildren({parentSystemId: 'p', all: true, reqUnlinkChildren: {}})
//	  POST /v3/systems/p/unlinkChildren?all=true  {}

// TestGeneratedClientFreeFormSearch: the generated client's
// freeFormParameterName[attr.op]=value finds what the plain attr.op=value
// finds, mixes with it and with the list options, and its mistakes are
// 400s that name the parameter.
func TestGeneratedClientFreeFormSearch(t *testing.T) {
	env := testenv.New(t)
	for i, id := range []string{"abc1", "abc2", "abd3", "xyz4"} {
		s := linuxSystem(id)
		s["port"] = 19 + i
		require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", s).Code)
	}
	get := func(path string) testenv.Response { return sysDo(t, env, "testuser1", "GET", path, nil) }

	wrapped := get("/v3/systems/search?freeFormParameterName%5Bid.like%5D=abc*&freeFormParameterName%5Bport.gt%5D=19&listType=ALL&limit=5")
	assert.Equal(t, []string{"abc2"}, resultIDs(t, wrapped), "the generated client's encoding: %s", wrapped.Raw)
	assert.Equal(t, float64(5), wrapped.Body["metadata"].(map[string]any)["recordLimit"], "list options beside it still apply")
	assert.Equal(t, resultIDs(t, get("/v3/systems/search?id.like=abc*&port.gt=19&listType=ALL&limit=5")), resultIDs(t, wrapped),
		"the same conditions in the spec's plain form give the same answer")
	assert.Equal(t, []string{"abc1", "abc2"}, resultIDs(t, get("/v3/systems/search?freeFormParameterName[id.like]=abc*")), "unescaped brackets")
	assert.Equal(t, []string{"abd3"}, resultIDs(t, get("/v3/systems/search?freeFormParameterName%5Bid.like%5D=ab*&port.gte=21&id.neq=xyz4")),
		"both forms in one query are ANDed")
	assert.Empty(t, resultIDs(t, get("/v3/systems/search?freeFormParameterName%5Bid.eq%5D=abc1&freeFormParameterName%5Bid.eq%5D=abc2")),
		"a repeated condition is ANDed like a repeated plain one")

	for name, tc := range map[string]struct{ query, names string }{
		"empty brackets":    {"freeFormParameterName%5B%5D=x", `"freeFormParameterName[]"`},
		"nested brackets":   {"freeFormParameterName%5Bid%5D%5Blike%5D=x", `"freeFormParameterName[id][like]"`},
		"no closing":        {"freeFormParameterName%5Bid.like=x", `"freeFormParameterName[id.like"`},
		"list option":       {"freeFormParameterName%5Blimit%5D=1", `"limit" is a list option`},
		"unknown attribute": {"freeFormParameterName%5Bcolour.eq%5D=blue", "colour"},
		"not searchable":    {"freeFormParameterName%5Bnotes.eq%5D=x", "notes"},
		"bad value":         {"freeFormParameterName%5Bport.gt%5D=many", "many"},
	} {
		r := get("/v3/systems/search?" + tc.query)
		assert.Equal(t, 400, r.Code, "%s: %s", name, r.Raw)
		assert.Contains(t, r.Message(), tc.names, name)
		assert.Equal(t, "error", r.Body["status"], name)
	}
	two := get("/v3/systems/search?freeFormParameterName%5B%5D=x&freeFormParameterName%5Bskip%5D=1")
	assert.Equal(t, 400, two.Code)
	assert.Contains(t, two.Message(), `"freeFormParameterName[]"`, "every broken parameter is named")
	assert.Contains(t, two.Message(), `"skip" is a list option`, "every broken parameter is named")
}

// TestGeneratedClientMatchConstraints: the spec's body {"match": [...]}
// parses (the answer stays 501: the original never implemented matching);
// bodies that break the spec's schema are 400s naming the field.
func TestGeneratedClientMatchConstraints(t *testing.T) {
	env := testenv.New(t)
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems/match/constraints", map[string]any{"match": []string{"a = 'b'"}})
	assert.Equal(t, 501, r.Code, "the spec's body is accepted, matching is not supported: %s", r.Raw)
	assert.Contains(t, r.Message(), "SYSAPI_MATCH_NOT_SUPPORTED")

	for name, body := range map[string]any{
		"no match":         map[string]any{},
		"empty match":      map[string]any{"match": []string{}},
		"match not a list": map[string]any{"match": "a = 'b'"},
		"unknown field":    map[string]any{"constraints": []string{"a = 'b'"}},
		"not JSON":         "{",
	} {
		r := sysDo(t, env, "testuser1", "POST", "/v3/systems/match/constraints", body)
		assert.Equal(t, 400, r.Code, "%s: %s", name, r.Raw)
		assert.Equal(t, "error", r.Body["status"], name)
	}
	missing := sysDo(t, env, "testuser1", "POST", "/v3/systems/match/constraints", map[string]any{})
	assert.Contains(t, missing.Message(), "match", "the message names the missing field")
	noToken := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/systems/match/constraints", Body: map[string]any{"match": []string{"x"}}})
	assert.Equal(t, 401, noToken.Code, "still needs a token")
}

// TestGeneratedClientUnlinkChildrenEmptyBody: unlinkChildren?all=true with
// the body {} (what the generated client sends) unlinks every child, as
// without a body; {} without all=true names what is missing.
func TestGeneratedClientUnlinkChildrenEmptyBody(t *testing.T) {
	env := testenv.New(t)
	parent := linuxSystem("parent")
	parent["allowChildren"] = true
	require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", parent).Code)
	for _, u := range []string{"u1", "u2"} {
		c := sysDo(t, env, "testuser1", "POST", "/v3/systems/parent/createChildSystem",
			map[string]any{"id": "kid-" + u, "effectiveUserId": u, "rootDir": "/" + u})
		require.Equal(t, 201, c.Code, "body: %s", c.Raw)
	}

	none := sysDo(t, env, "testuser1", "POST", "/v3/systems/parent/unlinkChildren", map[string]any{})
	assert.Equal(t, 400, none.Code, "{} without all=true: %s", none.Raw)
	assert.Contains(t, none.Message(), "childSystemIds")

	u := sysDo(t, env, "testuser1", "POST", "/v3/systems/parent/unlinkChildren?all=true", map[string]any{})
	require.Equal(t, 200, u.Code, "body: %s", u.Raw)
	assert.Equal(t, float64(2), u.Result()["changes"])
	for _, id := range []string{"kid-u1", "kid-u2"} {
		assert.Nil(t, sysDo(t, env, "testuser1", "GET", "/v3/systems/"+id, nil).Result()["parentId"], id)
	}
	bad := sysDo(t, env, "testuser1", "POST", "/v3/systems/parent/unlinkChildren?all=true", map[string]any{"childSystemIds": "kid-u1"})
	assert.Equal(t, 400, bad.Code, "a body that breaks the schema is still refused: %s", bad.Raw)
}

// TestDeviceCodeExpiresInIsSeconds: expires_in of the device flow is a JSON
// number of seconds, as RFC 8628 §3.2 requires, on the Tapis endpoint and
// the RFC one (the original sent a date string; README, compatibility
// notes).
func TestDeviceCodeExpiresInIsSeconds(t *testing.T) {
	env := testenv.New(t)
	testClient(t, env)
	tapisReply := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/device/code", Body: map[string]any{"client_id": testClientID}})
	require.Equal(t, 200, tapisReply.Code, "body: %s", tapisReply.Raw)
	assert.Equal(t, float64(600), tapisReply.Result()["expires_in"], "a number (10 minutes), not a date string")

	rfc := env.Do(t, formRequest("/v3/oauth2/device_authorization", url.Values{"client_id": {testClientID}}, nil))
	require.Equal(t, 200, rfc.Code, "body: %s", rfc.Raw)
	assert.Equal(t, float64(600), rfc.Body["expires_in"], "a number of seconds: %s", rfc.Raw)
	assert.IsType(t, float64(0), rfc.Body["interval"])
}
