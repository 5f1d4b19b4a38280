package httpapi

import (
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// RequestObserver learns of every answered request (Options.Observer; the
// module's metrics package implements it over Prometheus).
//
// operation is the operationId of a Tapis operation, the route of a
// handler that is no operation (the OAuth2 pages and RFC endpoints, the
// discovery documents, /docs, /openapi.json, /livez, /readyz), or
// UnmatchedRoute when no route matched; so it is one of a fixed set.
// method is the client's, unchecked: an implementation keeping it as a
// label must bound it. elapsed runs from the first middleware to the last
// byte of the answer handed to the server.
type RequestObserver interface {
	ObserveRequest(operation, method string, status int, elapsed time.Duration)
}

// UnmatchedRoute is the operation of a request no route matched (404, 405).
const UnmatchedRoute = "unmatched"

// observeOperation is the first middleware of every operation when an
// Observer is set.
func (h *handlers) observeOperation(ctx huma.Context, next func(huma.Context)) {
	start := time.Now()
	next(ctx)
	h.opt.Observer.ObserveRequest(ctx.Operation().OperationID, ctx.Method(), statusOf(ctx), time.Since(start))
}

// observed wraps a handler that is no operation so that obs, when set,
// learns of its requests under route.
func observed(obs RequestObserver, route string, fn func(huma.Context)) func(huma.Context) {
	if obs == nil {
		return fn
	}
	return func(ctx huma.Context) {
		start := time.Now()
		fn(ctx)
		obs.ObserveRequest(route, ctx.Method(), statusOf(ctx), time.Since(start))
	}
}

// statusOf is the status a handler answered with: net/http's 200 when it
// wrote a body without setting one.
func statusOf(ctx huma.Context) int {
	if s := ctx.Status(); s != 0 {
		return s
	}
	return http.StatusOK
}
