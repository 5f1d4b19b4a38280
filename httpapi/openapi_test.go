package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/internal/testenv"
)

// servedDocument fetches one of the served OpenAPI documents.
func servedDocument(t *testing.T, env *testenv.Env, path string) ([]byte, map[string]any) {
	t.Helper()
	r := env.Do(t, testenv.Request{Method: http.MethodGet, Path: path})
	require.Equal(t, http.StatusOK, r.Code, path)
	require.NotEmpty(t, r.Body, "%s is JSON", path)
	return r.Raw, r.Body
}

// TestOpenAPIDocumentsValidate validates /openapi.json (3.1) and
// /openapi-3.0.json with libopenapi-validator (the document against the
// OpenAPI JSON Schema of its version) and kin-openapi (references, unique
// operationIds, schema rules), and checks what the validators do not:
// clean component names, unique operationIds, the YAML forms equal to the
// JSON ones, and no 3.1-only construct in the 3.0 document.
func TestOpenAPIDocumentsValidate(t *testing.T) {
	env := testenv.New(t)
	for _, tc := range []struct{ path, version string }{{"/openapi.json", "3.1"}, {"/openapi-3.0.json", "3.0"}} {
		t.Run(tc.path, func(t *testing.T) {
			raw, doc := servedDocument(t, env, tc.path)
			require.True(t, strings.HasPrefix(fmt.Sprint(doc["openapi"]), tc.version+"."), "openapi: %v", doc["openapi"])

			ldoc, err := libopenapi.NewDocument(raw)
			require.NoError(t, err)
			valid, errs := schema_validation.ValidateOpenAPIDocument(ldoc)
			for _, e := range errs {
				t.Errorf("libopenapi-validator: %s", e.Error())
				for _, f := range e.SchemaValidationErrors {
					t.Errorf("  at %s: %s", f.InstancePath, f.Reason)
				}
			}
			assert.True(t, valid, "libopenapi-validator accepts %s", tc.path)

			names := map[string]any{}
			if c, ok := doc["components"].(map[string]any); ok {
				names, _ = c["schemas"].(map[string]any)
			}
			require.NotEmpty(t, names)
			for name := range names {
				assert.Regexp(t, cleanComponentName, name, "component name")
			}
			ids := operationIDs(doc)
			for id, where := range ids {
				assert.Len(t, where, 1, "operationId %q is used by %v", id, where)
			}

			// The YAML form is the same document.
			y := env.Do(t, testenv.Request{Method: http.MethodGet, Path: strings.TrimSuffix(tc.path, ".json") + ".yaml"})
			require.Equal(t, http.StatusOK, y.Code)
			assert.Equal(t, "application/openapi+yaml", y.Header.Get("Content-Type"))
			var fromYAML any
			require.NoError(t, yaml.Unmarshal(y.Raw, &fromYAML))
			asJSON, err := json.Marshal(fromYAML)
			require.NoError(t, err)
			assert.JSONEq(t, string(raw), string(asJSON), "the YAML document equals the JSON one")

			loader := openapi3.NewLoader()
			kdoc, err := loader.LoadFromData(raw)
			require.NoError(t, err, "kin-openapi loads %s", tc.path)
			assert.NoError(t, kdoc.Validate(context.Background()), "kin-openapi validates %s", tc.path)

			if tc.version != "3.0" {
				return
			}
			var only31 []string
			walkSchemas(doc, "#", func(at string, s map[string]any) {
				for _, k := range []string{"const", "examples", "prefixItems", "$schema", "$defs", "if", "then", "else",
					"dependentRequired", "dependentSchemas", "unevaluatedProperties", "unevaluatedItems", "contentMediaType",
					"contentEncoding", "patternProperties", "propertyNames", "contains"} {
					if _, ok := s[k]; ok {
						only31 = append(only31, at+": "+k)
					}
				}
				switch ty := s["type"].(type) {
				case []any:
					only31 = append(only31, fmt.Sprintf("%s: type %v", at, ty))
				case string:
					if ty == "null" {
						only31 = append(only31, at+": type null")
					}
				}
				for _, k := range []string{"exclusiveMinimum", "exclusiveMaximum"} {
					if v, ok := s[k]; ok {
						if _, isBool := v.(bool); !isBool {
							only31 = append(only31, at+": numeric "+k)
						}
					}
				}
			})
			sort.Strings(only31)
			assert.Empty(t, only31, "3.1-only constructs in the 3.0 document")
		})
	}
}

// cleanComponentName is what generators turn into type names without
// surprises (OpenAPI itself allows [A-Za-z0-9._-]).
var cleanComponentName = regexp.MustCompile(`^[A-Z][A-Za-z0-9]*$`)

// operationIDs maps each operationId of a document to the operations using it.
func operationIDs(doc map[string]any) map[string][]string {
	out := map[string][]string{}
	paths, _ := doc["paths"].(map[string]any)
	for path, item := range paths {
		ops, _ := item.(map[string]any)
		for method, op := range ops {
			o, ok := op.(map[string]any)
			if !ok {
				continue
			}
			if id, ok := o["operationId"].(string); ok {
				out[id] = append(out[id], strings.ToUpper(method)+" "+path)
			}
		}
	}
	return out
}

// walkSchemas calls fn for every schema object of a document: components'
// schemas, parameters', request bodies' and responses' schemas, and the
// schemas nested in them.
func walkSchemas(doc any, at string, fn func(at string, s map[string]any)) {
	var schema func(v any, at string)
	schema = func(v any, at string) {
		s, ok := v.(map[string]any)
		if !ok {
			return
		}
		fn(at, s)
		for _, k := range []string{"items", "additionalProperties", "not"} {
			schema(s[k], at+"/"+k)
		}
		for _, k := range []string{"properties"} {
			if props, ok := s[k].(map[string]any); ok {
				for name, p := range props {
					schema(p, at+"/"+k+"/"+name)
				}
			}
		}
		for _, k := range []string{"allOf", "anyOf", "oneOf"} {
			if list, ok := s[k].([]any); ok {
				for i, p := range list {
					schema(p, fmt.Sprintf("%s/%s/%d", at, k, i))
				}
			}
		}
	}
	var walk func(v any, at string)
	walk = func(v any, at string) {
		switch v := v.(type) {
		case map[string]any:
			for k, child := range v {
				if k == "schema" {
					schema(child, at+"/schema")
					continue
				}
				if k == "schemas" && strings.HasSuffix(at, "/components") {
					for name, s := range child.(map[string]any) {
						schema(s, at+"/schemas/"+name)
					}
					continue
				}
				walk(child, at+"/"+k)
			}
		case []any:
			for i, child := range v {
				walk(child, fmt.Sprintf("%s/%d", at, i))
			}
		}
	}
	walk(doc, at)
}

// TestSchemaName checks the names of generic envelopes and of types
// declared inside functions, which huma's default namer turns into names
// like "RespDeviceOut·10" and "RespMapStringInterface {}".
func TestSchemaName(t *testing.T) {
	type DeviceOut struct{ Code string }
	for _, tc := range []struct {
		t    reflect.Type
		want string
	}{
		{reflect.TypeFor[httpapi.Resp[DeviceOut]](), "RespDeviceOut"},
		{reflect.TypeFor[*httpapi.Resp[DeviceOut]](), "RespDeviceOut"},
		{reflect.TypeFor[httpapi.Resp[map[string]any]](), "RespObject"},
		{reflect.TypeFor[httpapi.Resp[[]map[string]any]](), "RespListObject"},
		{reflect.TypeFor[httpapi.Resp[[]string]](), "RespListString"},
		{reflect.TypeFor[httpapi.Resp[any]](), "RespAny"},
		{reflect.TypeFor[httpapi.Resp[httpapi.Null]](), "RespNull"},
		{reflect.TypeFor[DeviceOut](), "DeviceOut"},
	} {
		got := httpapi.SchemaName(tc.t, "")
		assert.Equal(t, tc.want, got, "%s", tc.t)
		assert.Regexp(t, cleanComponentName, got)
	}
	assert.Equal(t, "SomeHint", httpapi.SchemaName(reflect.TypeFor[struct{ A int }](), "someHint"), "unnamed types use the hint")
}
