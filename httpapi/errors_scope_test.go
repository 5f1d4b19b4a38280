package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"
	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/internal/testenv"
)

// TestHumaErrorsScopedToTapisOperations: huma's own validation errors of
// the Tapis operations use the Tapis envelope (400), while another huma API
// of the same process, and an operation of the caller's registered beside
// ours on the same API, keep huma's RFC 9457 errors (422).
func TestHumaErrorsScopedToTapisOperations(t *testing.T) {
	type in struct {
		N int `query:"n" minimum:"1"`
	}
	type out struct{ Body struct{ N int } }
	handler := func(_ context.Context, i *in) (*out, error) {
		o := &out{}
		o.Body.N = i.N
		return o, nil
	}
	get := func(h http.Handler, path string) (int, string, map[string]any) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		var body map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, rec.Header().Get("Content-Type"), body
	}
	isHuma := func(t *testing.T, code int, ct string, body map[string]any) {
		t.Helper()
		assert.Equal(t, http.StatusUnprocessableEntity, code)
		assert.Equal(t, "application/problem+json", ct)
		assert.Equal(t, float64(http.StatusUnprocessableEntity), body["status"], "huma's ErrorModel: %v", body)
		assert.Contains(t, body, "title")
		assert.NotContains(t, body, "version")
	}

	env := testenv.New(t) // registers the Tapis operations of this process

	// Another huma API in the same process.
	other := chi.NewRouter()
	huma.Register(humachi.New(other, huma.DefaultConfig("other", "1")),
		huma.Operation{OperationID: "thing", Method: http.MethodGet, Path: "/thing"}, handler)
	code, ct, body := get(other, "/thing?n=0")
	isHuma(t, code, ct, body)

	// The caller's own operation on the API we register into.
	r := chi.NewRouter()
	api := httpapi.NewAPI(r, "gateway", "1")
	require.NoError(t, env.Server.Register(api))
	huma.Register(api, huma.Operation{OperationID: "gatewayThing", Method: http.MethodGet, Path: "/gateway/thing"}, handler)
	code, ct, body = get(r, "/gateway/thing?n=0")
	isHuma(t, code, ct, body)

	// Ours, on both APIs.
	for name, h := range map[string]http.Handler{"stand-alone": env.Handler, "embedded": r} {
		code, ct, body = get(h, "/v3/tenants?limit=abc")
		assert.Equal(t, http.StatusBadRequest, code, name)
		assert.Equal(t, "application/json", ct, name)
		assert.Equal(t, "error", body["status"], name)
		assert.Contains(t, body["message"], "limit", name)
		assert.Contains(t, body, "version", name)
	}

	_, isModel := huma.NewError(400, "x").(*huma.ErrorModel)
	assert.True(t, isModel, "huma.NewError is left alone")

	// The documents: our operations' errors are the Tapis envelope, the
	// caller's huma's.
	oapi := api.OpenAPI()
	assert.Equal(t, "#/components/schemas/Error", oapi.Paths["/v3/tenants"].Get.Responses["default"].Content["application/json"].Schema.Ref)
	assert.Equal(t, "#/components/schemas/ErrorModel",
		oapi.Paths["/gateway/thing"].Get.Responses["default"].Content["application/problem+json"].Schema.Ref)
	assert.Contains(t, oapi.Components.Schemas.Map(), "ErrorModel", "the caller's document keeps huma's error schema")
	assert.NotContains(t, env.API.OpenAPI().Components.Schemas.Map(), "ErrorModel", "the stand-alone document has no unused one")
}
