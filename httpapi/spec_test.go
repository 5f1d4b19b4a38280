package httpapi_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tapis-go/tapis/internal/testenv"
)

type specOp struct{ spec, method, path, id string }

// specsDir finds ../shared/specs beside the repository (or TAPIS_SPECS_DIR).
func specsDir(t *testing.T) string {
	if d := os.Getenv("TAPIS_SPECS_DIR"); d != "" {
		return d
	}
	d, err := filepath.Abs("../../shared/specs")
	require.NoError(t, err)
	if _, err := os.Stat(d); err != nil {
		t.Skipf("Tapis specs not found at %s: set TAPIS_SPECS_DIR to the folder of openapi_v3-*.yml", d)
	}
	return d
}

func loadSpecOps(t *testing.T) []specOp {
	dir := specsDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "openapi_v3-*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out []specOp
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string `yaml:"operationId"`
			} `yaml:"paths"`
		}
		require.NoError(t, yaml.Unmarshal(raw, &doc), f)
		for path, ops := range doc.Paths {
			for method, op := range ops {
				switch method {
				case "get", "post", "put", "patch", "delete":
					out = append(out, specOp{filepath.Base(f), strings.ToUpper(method), path, op.OperationID})
				}
			}
		}
	}
	return out
}

// specOrder is the order in which the specs' operations are registered.
var specOrder = []string{"openapi_v3-tenants.yml", "openapi_v3-tokens.yml", "openapi_v3-authenticator.yml", "openapi_v3-systems.yml"}

// servedIDs gives each spec operation the operationId the served document
// must show: the spec's own, except where an earlier spec (specOrder) has
// the same id; then the spec's name is its prefix (authenticator_hello).
func servedIDs(t *testing.T, ops []specOp) map[specOp]string {
	rank := map[string]int{}
	for i, s := range specOrder {
		rank[s] = i
	}
	first := map[string]string{} // id -> the earliest spec naming it
	for _, op := range ops {
		r, ok := rank[op.spec]
		require.True(t, ok, "unknown spec %s: add it to specOrder", op.spec)
		if f, seen := first[op.id]; !seen || r < rank[f] {
			first[op.id] = op.spec
		}
	}
	out := map[specOp]string{}
	for _, op := range ops {
		out[op] = op.id
		if first[op.id] != op.spec {
			out[op] = strings.TrimSuffix(strings.TrimPrefix(op.spec, "openapi_v3-"), ".yml") + "_" + op.id
		}
	}
	return out
}

// TestOperationsMatchSpecs fails on any registered operation whose method,
// path or id differs from the Tapis specs (with the one rule for ids two
// specs share, servedIDs), and reports (without failing) the spec
// operations not implemented yet.
func TestOperationsMatchSpecs(t *testing.T) {
	ops := loadSpecOps(t)
	served := servedIDs(t, ops)
	renamed := 0
	for op, id := range served {
		if id != op.id {
			renamed++
			assert.Equal(t, "openapi_v3-authenticator.yml", op.spec, "only the Authenticator shares ids with an earlier spec: %s", id)
		}
	}
	assert.Equal(t, 4, renamed, "hello, ready, create_token and revoke_token are shared by Tokens and Authenticator")
	env := testenv.New(t)
	registered := map[string]string{} // "METHOD path" -> id
	for path, item := range env.API.OpenAPI().Paths {
		if item.Get != nil {
			registered["GET "+path] = item.Get.OperationID
		}
		if item.Post != nil {
			registered["POST "+path] = item.Post.OperationID
		}
		if item.Put != nil {
			registered["PUT "+path] = item.Put.OperationID
		}
		if item.Patch != nil {
			registered["PATCH "+path] = item.Patch.OperationID
		}
		if item.Delete != nil {
			registered["DELETE "+path] = item.Delete.OperationID
		}
	}
	var missing []string
	matched := 0
	specKeys := map[string]bool{}
	for _, op := range ops {
		key := op.method + " " + op.path
		specKeys[key] = true
		id, ok := registered[key]
		if !ok {
			missing = append(missing, op.spec+": "+key+" ("+op.id+")")
			continue
		}
		matched++
		assert.Equal(t, served[op], id, "operationId of %s (%s; the spec says %s)", key, op.spec, op.id)
	}
	var extra []string
	for key, id := range registered {
		if !specKeys[key] {
			extra = append(extra, key+" ("+id+")")
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	t.Logf("%d of %d spec operations registered", matched, len(ops))
	for _, m := range missing {
		t.Logf("not implemented yet: %s", m)
	}
	for _, e := range extra {
		t.Logf("extra (not in the specs): %s", e)
	}
	for _, e := range extra {
		id := e[strings.LastIndex(e, "(")+1 : len(e)-1]
		for _, op := range ops {
			assert.NotEqual(t, op.id, id, "%s reuses the spec operationId %s of %s %s", e, op.id, op.method, op.path)
		}
	}
	require.Positive(t, matched)
	for _, tag := range []string{"openapi_v3-tenants.yml", "openapi_v3-tokens.yml"} {
		for _, op := range ops {
			if op.spec == tag {
				_, ok := registered[op.method+" "+op.path]
				assert.True(t, ok, "%s %s %s (%s) must be registered", tag, op.method, op.path, op.id)
			}
		}
	}
}
