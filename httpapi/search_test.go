package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
)

func resultIDs(t *testing.T, r testenv.Response) []string {
	t.Helper()
	require.Equal(t, 200, r.Code, "body: %s", r.Raw)
	var ids []string
	for _, x := range r.Body["result"].([]any) {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}
	return ids
}

func TestSystemSearchThroughHTTP(t *testing.T) {
	env := testenv.New(t)
	for i, id := range []string{"alpha", "beta", "gamma", "delta"} {
		s := linuxSystem(id)
		s["port"] = 20 + i
		s["tags"] = []string{[]string{"gpu", "cpu"}[i%2]}
		require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", s).Code)
	}
	require.Equal(t, 201, sysDo(t, env, "testuser2", "POST", "/v3/systems", linuxSystem("theirs")).Code)

	get := func(path string) testenv.Response { return sysDo(t, env, "testuser1", "GET", path, nil) }
	assert.Equal(t, []string{"beta", "delta"}, resultIDs(t, get("/v3/systems?search="+url.QueryEscape("(tags.contains.cpu)"))))
	assert.Equal(t, []string{"gamma", "delta"}, resultIDs(t, get("/v3/systems/search?port.gte=22&orderBy=port")))
	assert.Equal(t, []string{"gamma", "beta"}, resultIDs(t, sysDo(t, env, "testuser1", "POST", "/v3/systems/search?orderBy=port(desc)",
		map[string]any{"search": []string{"port BETWEEN '21' AND '22'", "AND id LIKE '%a'"}})))
	assert.Equal(t, []string{"alpha", "beta", "delta", "gamma"}, resultIDs(t, get("/v3/systems")), "by id without orderBy; only the caller's")

	page := get("/v3/systems?orderBy=port&startAfter=21&limit=1&computeTotal=true")
	assert.Equal(t, []string{"gamma"}, resultIDs(t, page))
	md := page.Body["metadata"].(map[string]any)
	assert.Equal(t, map[string]any{"recordCount": float64(1), "recordLimit": float64(1), "recordsSkipped": float64(0),
		"orderBy": "port", "startAfter": "21", "totalCount": float64(2)}, md)

	for name, path := range map[string]string{
		"unknown attribute":    "/v3/systems?search=" + url.QueryEscape("(colour.eq.blue)"),
		"not searchable":       "/v3/systems/search?notes.eq=x",
		"bad int":              "/v3/systems/search?port.gt=many",
		"bad orderBy":          "/v3/systems?orderBy=port(up)",
		"startAfter with skip": "/v3/systems?orderBy=port&startAfter=1&skip=0",
		"startAfter alone":     "/v3/systems?startAfter=1",
		"bad listType":         "/v3/systems?listType=MINE",
	} {
		r := get(path)
		assert.Equal(t, 400, r.Code, "%s: %s", name, r.Raw)
	}
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems/search", map[string]any{"search": []string{"port > -5 AND (owner = 'x'"}})
	assert.Equal(t, 400, r.Code, "unbalanced parentheses: %s", r.Raw)
	assert.Equal(t, 501, sysDo(t, env, "testuser1", "POST", "/v3/systems/match/constraints", map[string]any{"match": []string{"a = 'b'"}}).Code)

	// listType: a share shows up in ALL, a public share in SHARED_PUBLIC.
	require.Equal(t, 200, sysDo(t, env, "testuser2", "POST", "/v3/systems/share/theirs", map[string]any{"users": []string{"testuser1"}}).Code)
	assert.Equal(t, []string{"alpha", "beta", "delta", "gamma", "theirs"}, resultIDs(t, get("/v3/systems?listType=ALL")))
	assert.Empty(t, resultIDs(t, get("/v3/systems?listType=SHARED_PUBLIC")))
	require.Equal(t, 200, sysDo(t, env, "testuser2", "POST", "/v3/systems/share_public/theirs", nil).Code)
	assert.Equal(t, []string{"theirs"}, resultIDs(t, sysDo(t, env, "testuser3", "GET", "/v3/systems?listType=SHARED_PUBLIC", nil)))
	assert.Equal(t, []string{"theirs"}, resultIDs(t, sysDo(t, env, "testuser3", "GET", "/v3/systems/search?owner.eq=testuser2&listType=ALL", nil)))
	assert.Empty(t, resultIDs(t, sysDo(t, env, "testuser3", "GET", "/v3/systems/search?owner.eq=testuser1&listType=ALL", nil)),
		"a filter naming another owner never widens what the caller sees")
}

func TestSystemListLimitCap(t *testing.T) {
	env := testenv.New(t, func(c *tapis.Config) { c.MaxListLimit = 2 })
	for _, id := range []string{"a1", "a2", "a3"} {
		require.Equal(t, 201, sysDo(t, env, "testuser1", "POST", "/v3/systems", linuxSystem(id)).Code)
	}
	for _, limit := range []string{"0", "-1", "50", ""} {
		r := sysDo(t, env, "testuser1", "GET", "/v3/systems?limit="+limit, nil)
		assert.Equal(t, []string{"a1", "a2"}, resultIDs(t, r), "limit=%q is capped", limit)
		assert.Equal(t, float64(2), r.Body["metadata"].(map[string]any)["recordLimit"])
	}
	assert.Equal(t, []string{"a3"}, resultIDs(t, sysDo(t, env, "testuser1", "GET", "/v3/systems?limit=0&skip=2", nil)))
}
