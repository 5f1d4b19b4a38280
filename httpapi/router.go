package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"

	"github.com/tapis-go/tapis/tenancy"
)

// routerMethods are the methods a 405 may list in Allow.
var routerMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
	http.MethodPatch, http.MethodDelete}

// newRouter returns the chi router of a stand-alone handler: HEAD is served
// wherever GET is, and an unknown path (404) or method (405, with Allow)
// answers in the Tapis envelope like every other error, counted by obs
// (when set) as UnmatchedRoute.
func newRouter(obs RequestObserver) *chi.Mux {
	mux := chi.NewRouter()
	mux.Use(middleware.GetHead)
	unmatched := func(status int, fn http.HandlerFunc) http.HandlerFunc {
		if obs == nil {
			return fn
		}
		return func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			fn(w, r)
			obs.ObserveRequest(UnmatchedRoute, r.Method, status, time.Since(start))
		}
	}
	mux.NotFound(unmatched(http.StatusNotFound, func(w http.ResponseWriter, r *http.Request) {
		writeEnvelopeError(w, NewError(http.StatusNotFound,
			tenancy.Errorf(tenancy.ErrNotFound, "No such endpoint: %s %s.", r.Method, r.URL.Path).Error()))
	}))
	mux.MethodNotAllowed(unmatched(http.StatusMethodNotAllowed, func(w http.ResponseWriter, r *http.Request) {
		rctx := chi.RouteContext(r.Context())
		path := r.URL.RawPath
		if path == "" {
			path = r.URL.Path
		}
		var allow []string
		for _, m := range routerMethods {
			if rctx != nil && rctx.Routes != nil && rctx.Routes.Match(chi.NewRouteContext(), m, path) {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 && allow[0] == http.MethodGet && (len(allow) == 1 || allow[1] != http.MethodHead) {
			allow = append([]string{http.MethodGet, http.MethodHead}, allow[1:]...)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeEnvelopeError(w, NewError(http.StatusMethodNotAllowed,
			tenancy.Errorf(tenancy.ErrInvalid, "Method %s is not allowed on %s; allowed: %s.", r.Method, r.URL.Path, strings.Join(allow, ", ")).Error()))
	}))
	return mux
}

// writeEnvelopeError writes e to a plain http.ResponseWriter.
func writeEnvelopeError(w http.ResponseWriter, e *Error) {
	for name, values := range e.headers {
		for _, v := range values {
			w.Header().Add(name, v)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	_ = jsonEncode(w, e)
}
