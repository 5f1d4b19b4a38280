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

// TestOperationsMatchSpecs fails on any registered operation whose method,
// path or id differs from the Tapis specs, and reports (without failing) the
// spec operations not implemented yet.
func TestOperationsMatchSpecs(t *testing.T) {
	ops := loadSpecOps(t)
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
		assert.Equal(t, op.id, id, "operationId of %s (%s)", key, op.spec)
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
