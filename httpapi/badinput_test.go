package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// TestEveryOperationSurvivesBadInput walks every operation of the server's
// own /openapi.json (so routes added later are covered without edits) with a
// battery of bad inputs in its path, query and body, under several kinds of
// caller, on SQLite and PostgreSQL. No answer may be a 5xx (501 marks a
// feature this server does not offer and is allowed) or an error outside the
// Tapis envelope (or the RFC 6749 error shape on the standard endpoints).
func TestEveryOperationSurvivesBadInput(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			env := b.New(t)
			walkBadInputs(t, env)
		})
	}
}

type apiOperation struct {
	method, path string
	params       []apiParam
	body         bool
}

type apiParam struct {
	name, in, typ string
}

// operationsOf reads the operations of the served OpenAPI document.
func operationsOf(t *testing.T, env *testenv.Env) []apiOperation {
	t.Helper()
	r := env.Do(t, testenv.Request{Method: "GET", Path: "/openapi.json"})
	require.Equal(t, 200, r.Code)
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name   string `json:"name"`
				In     string `json:"in"`
				Schema struct {
					Type any `json:"type"`
				} `json:"schema"`
			} `json:"parameters"`
			RequestBody any `json:"requestBody"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(r.Raw, &doc))
	var ops []apiOperation
	for path, item := range doc.Paths {
		for method, op := range item {
			method = strings.ToUpper(method)
			if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, method) {
				continue
			}
			o := apiOperation{method: method, path: path, body: op.RequestBody != nil}
			for _, p := range op.Parameters {
				typ, _ := p.Schema.Type.(string)
				o.params = append(o.params, apiParam{name: p.Name, in: p.In, typ: typ})
			}
			ops = append(ops, o)
		}
	}
	slices.SortFunc(ops, func(a, b apiOperation) int { return strings.Compare(a.method+a.path, b.method+b.path) })
	return ops
}

// badValues are raw (already percent-encoded) values for path and query
// parameters.
var badValues = map[string]string{
	"NUL":           "a%00b",
	"invalid UTF-8": "%FF%FEa",
	"control":       "a%01%1Bb",
	"long":          strings.Repeat("x", 70000),
	"dots":          "..%2F..%2Fetc",
	"negative":      "-1",
	"huge number":   "99999999999999999999999999",
	"float":         "1e400",
	"quote":         "%27%22%3B--",
	"empty":         "",
}

// badBodies are request bodies with their content types.
var badBodies = func() map[string][2]string {
	deepArray := strings.Repeat("[", 10000) + strings.Repeat("]", 10000)
	deepObject := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	mb := strings.Repeat("y", 1<<20)
	return map[string][2]string{
		"empty":             {"", "application/json"},
		"null":              {"null", "application/json"},
		"array":             {"[]", "application/json"},
		"empty object":      {"{}", "application/json"},
		"not json":          {"{not json", "application/json"},
		"deep array":        {deepArray, "application/json"},
		"deep object":       {deepObject, "application/json"},
		"unknown fields":    {`{"zzz_unknown": 1, "another": {"x": []}}`, "application/json"},
		"NUL strings":       {`{"id":"a\u0000b","name":"a\u0000","description":"\u0000","client_id":"\u0000","tenant_id":"a\u0000","site_id":"\u0000x","grant_type":"password","username":"a\u0000","password":"p\u0000"}`, "application/json"},
		"invalid UTF-8":     {"{\"id\":\"a\xff\xfeb\",\"description\":\"\xc3\x28\"}", "application/json"},
		"wrong types":       {`{"id":7,"host":[],"port":"eighty","enabled":"yes","tags":{},"permissions":"READ","users":"x","isPublic":1,"limit":"x"}`, "application/json"},
		"numbers":           {`{"port":-1,"id":"x","access_token_ttl":1e308,"refresh_token_ttl":-99999999999999999999,"skip":99999999999}`, "application/json"},
		"1 MB string":       {`{"id":"` + mb + `","description":"` + mb + `"}`, "application/json"},
		"text/plain":        {"hello", "text/plain"},
		"xml":               {"<a/>", "application/xml"},
		"form":              {"a=%00&b=%FF", "application/x-www-form-urlencoded"},
		"multipart garbage": {"--x\r\n", "multipart/form-data; boundary=x"},
	}
}()

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// callers are the kinds of principal each request is sent as, in turn.
func callers(t *testing.T, env *testenv.Env) []map[string]string {
	svc := env.ServiceToken(t, "files")
	return []map[string]string{
		{},
		{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")},
		{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")},
		{"X-Tapis-Token": svc, "X-Tapis-Tenant": "dev", "X-Tapis-User": "testuser1"},
		{"X-Tapis-Token": env.ServiceToken(t, "tenants")},
		{"X-Tapis-Token": "not.a.token", "X-Tapis-Tenant": "a\x00b"},
	}
}

func walkBadInputs(t *testing.T, env *testenv.Env) {
	ops := operationsOf(t, env)
	require.Greater(t, len(ops), 80, "the document lists the API's operations")
	who := callers(t, env)
	requests, n5xx := 0, 0
	send := func(op apiOperation, what, path string, body [2]string, hasBody bool) {
		hdr := who[requests%len(who)]
		requests++
		var rd *bytes.Reader
		if hasBody {
			rd = bytes.NewReader([]byte(body[0]))
		} else {
			rd = bytes.NewReader(nil)
		}
		req := httptest.NewRequest(op.method, path, rd)
		if hasBody && body[1] != "" {
			req.Header.Set("Content-Type", body[1])
		}
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		env.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 && rec.Code != http.StatusNotImplemented {
			n5xx++
			t.Errorf("%s %s (%s): %d %.300s", op.method, op.path, what, rec.Code, rec.Body.String())
			return
		}
		if rec.Code < 400 {
			return
		}
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Errorf("%s %s (%s): %d is not JSON: %.200q", op.method, op.path, what, rec.Code, rec.Body.String())
			return
		}
		_, rfc := out["error"].(string)
		msg, _ := out["message"].(string)
		if !rfc && (out["status"] != "error" || msg == "") {
			t.Errorf("%s %s (%s): %d outside the envelope: %.200s", op.method, op.path, what, rec.Code, rec.Body.String())
		}
	}
	for _, op := range ops {
		valid := pathParam.ReplaceAllString(op.path, "okid")
		for name, v := range badValues {
			for _, p := range op.params {
				switch p.in {
				case "path":
					path := strings.Replace(op.path, "{"+p.name+"}", v, 1)
					send(op, "path "+p.name+" "+name, pathParam.ReplaceAllString(path, "okid"), [2]string{"{}", "application/json"}, op.body)
				case "query":
					send(op, "query "+p.name+" "+name, valid+"?"+url.QueryEscape(p.name)+"="+v, [2]string{"{}", "application/json"}, op.body)
				}
			}
		}
		if op.body {
			for name, b := range badBodies {
				send(op, "body "+name, valid, b, true)
			}
		} else if op.method != "GET" {
			send(op, "unexpected body", valid, [2]string{"{\"a\":\"\\u0000\"}", "application/json"}, true)
		}
		send(op, "unknown query", valid+"?zzz=%00&limit=-5&skip=-1", [2]string{"{}", "application/json"}, op.body)
	}
	t.Logf("%d requests over %d operations, %d answered 5xx", requests, len(ops), n5xx)
	assert.Zero(t, n5xx)
	assert.Greater(t, requests, 20*len(ops), fmt.Sprintf("a battery per operation (%d)", requests))
}

// TestRoutesOutsideTheDocumentSurviveBadInput covers what the OpenAPI
// document does not list (the HTML pages of the authenticator, discovery
// documents): every route of the router gets NUL, invalid UTF-8 and control
// bytes in its query and form body, signed out and with a token.
func TestRoutesOutsideTheDocumentSurviveBadInput(t *testing.T) {
	for _, b := range testenv.Backends() {
		t.Run(b.Name, func(t *testing.T) { walkUndocumented(t, b.New(t)) })
	}
}

func walkUndocumented(t *testing.T, env *testenv.Env) {
	documented := map[string]bool{}
	for _, op := range operationsOf(t, env) {
		documented[op.method+" "+op.path] = true
	}
	routes, ok := env.Handler.(chi.Routes)
	require.True(t, ok, "the stand-alone handler is a chi router")
	var extra []apiOperation
	require.NoError(t, chi.Walk(routes, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if !documented[method+" "+route] && method != http.MethodHead {
			extra = append(extra, apiOperation{method: method, path: route})
		}
		return nil
	}))
	require.NotEmpty(t, extra)
	token := env.UserToken(t, "dev", "testuser1")
	bad := "client_id=a%00b&redirect_uri=%FF%FE&response_type=code&user_code=a%00&state=%01&username=%00&password=x%00&grant_type=password&token=%00&csrf=%00&code=%FF"
	n := 0
	for _, op := range extra {
		path := pathParam.ReplaceAllString(op.path, "a%00b")
		for _, hdr := range []map[string]string{{}, {"X-Tapis-Token": token, "Authorization": "Basic " + "YQBiOnA="}} {
			req := httptest.NewRequest(op.method, path+"?"+bad, strings.NewReader(bad))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range hdr {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			env.Handler.ServeHTTP(rec, req)
			n++
			assert.Less(t, rec.Code, 500, "%s %s: %d %.300s", op.method, op.path, rec.Code, rec.Body.String())
		}
	}
	t.Logf("%d requests over %d routes outside the document", n, len(extra))
}
