package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"unicode"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/yaml"
)

// SchemaName names the component schemas of the served OpenAPI document
// (Config installs it). It is huma's default naming made safe for every
// generator: generic envelopes get the names of their type arguments
// (Resp[DeviceOut] is RespDeviceOut, Resp[map[string]any] is RespObject,
// SysResp[[]map[string]any] is SysRespListObject), the markers Go gives
// types declared inside functions (DeviceOut·10) are dropped, and the
// result has letters and digits only.
func SchemaName(t reflect.Type, hint string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	name := t.Name()
	if name == "" {
		name = hint
	}
	name = localTypeMarker.ReplaceAllString(name, "")
	name = anyMap.ReplaceAllString(name, "Object")
	name = strings.ReplaceAll(name, "interface {}", "Any")
	name = strings.ReplaceAll(name, "[]", "List[")
	var b strings.Builder
	for _, part := range strings.FieldsFunc(name, func(r rune) bool { return strings.ContainsRune("[]*, ", r) }) {
		part = part[strings.LastIndex(part, ".")+1:] // github.com/x/y.Type -> Type
		for i, r := range part {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) || r > unicode.MaxASCII {
				continue
			}
			if i == 0 {
				r = unicode.ToUpper(r)
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

var (
	localTypeMarker = regexp.MustCompile(`·[0-9]+`)
	anyMap          = regexp.MustCompile(`map\[string\](?:interface \{\}|any)`)
)

// The served documents. Their paths are relative to the server root.
const (
	openAPIJSON   = "/openapi.json"
	openAPIYAML   = "/openapi.yaml"
	openAPI30JSON = "/openapi-3.0.json"
	openAPI30YAML = "/openapi-3.0.yaml"
)

// registerDocuments serves the OpenAPI 3.1 document and its 3.0 version,
// each as JSON and YAML. They are built once, at the first request, when
// every operation is registered.
func registerDocuments(api huma.API, obs RequestObserver) {
	doc31 := sync.OnceValues(func() ([]byte, error) { return json.Marshal(api.OpenAPI()) })
	doc30 := sync.OnceValues(func() ([]byte, error) { return downgrade(api.OpenAPI()) })
	serve := func(path, ctype string, build func() ([]byte, error), toYAML bool) {
		api.Adapter().Handle(&huma.Operation{Method: http.MethodGet, Path: path}, observed(obs, path, func(ctx huma.Context) {
			body, err := build()
			if err == nil && toYAML {
				var buf strings.Builder
				err = yaml.Convert(&buf, strings.NewReader(string(body)))
				body = []byte(buf.String())
			}
			if err != nil {
				ctx.SetHeader("Content-Type", "text/plain; charset=utf-8")
				ctx.SetStatus(http.StatusInternalServerError)
				_, _ = ctx.BodyWriter().Write([]byte("The OpenAPI document could not be built.\n"))
				return
			}
			ctx.SetHeader("Content-Type", ctype)
			_, _ = ctx.BodyWriter().Write(body)
		}))
	}
	serve(openAPIJSON, "application/openapi+json", doc31, false)
	serve(openAPIYAML, "application/openapi+yaml", doc31, true)
	serve(openAPI30JSON, "application/openapi+json", doc30, false)
	serve(openAPI30YAML, "application/openapi+yaml", doc30, true)
}

// downgrade is huma's OpenAPI 3.0.3 version of the document with what its
// conversion leaves of 3.1: a schema of type null (the result of the
// operations that answer "result": null) becomes a nullable schema whose
// only value is null, an examples list becomes one example, and const
// becomes a one-value enum.
func downgrade(doc *huma.OpenAPI) ([]byte, error) {
	raw, err := doc.Downgrade()
	if err != nil {
		return nil, fmt.Errorf("httpapi: OpenAPI 3.0 conversion: %w", err)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("httpapi: OpenAPI 3.0 conversion: %w", err)
	}
	downgradeRest(v, false)
	return json.Marshal(v)
}

// nameMaps are the objects whose keys are names chosen by the document
// (a property called "const" is not the keyword).
var nameMaps = map[string]bool{"properties": true, "schemas": true, "paths": true, "responses": true,
	"content": true, "securitySchemes": true, "headers": true, "parameters": true, "requestBodies": true,
	"examples": true, "links": true, "callbacks": true, "variables": true, "encoding": true, "scopes": true}

// downgradeRest applies the rules of downgrade to v and what it contains;
// names is true when v's keys are names, not keywords.
func downgradeRest(v any, names bool) {
	switch v := v.(type) {
	case map[string]any:
		if !names {
			if v["type"] == "null" {
				delete(v, "type")
				v["nullable"] = true
				v["enum"] = []any{nil}
			}
			if ex, ok := v["examples"].([]any); ok {
				if _, has := v["example"]; !has && len(ex) > 0 {
					v["example"] = ex[0]
				}
				delete(v, "examples")
			}
			if c, ok := v["const"]; ok {
				v["enum"] = []any{c}
				delete(v, "const")
			}
		}
		for k, child := range v {
			if _, isMap := child.(map[string]any); isMap && !names && nameMaps[k] {
				downgradeRest(child, true)
				continue
			}
			downgradeRest(child, false)
		}
	case []any:
		for _, child := range v {
			downgradeRest(child, false)
		}
	}
}
