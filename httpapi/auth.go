package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/identity"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Header names of the Tapis wire protocol.
const (
	HeaderToken  = "X-Tapis-Token"
	HeaderTenant = "X-Tapis-Tenant"
	HeaderUser   = "X-Tapis-User"
)

// authMode says what an operation needs from X-Tapis-Token.
type authMode string

const (
	authRequired authMode = "required" // a valid access token, else 401
	authOptional authMode = "optional" // validated when present
	authIgnored  authMode = "ignored"  // never read (the token travels in the body)
)

const authMetaKey = "tapis-auth"

// securityScheme is the OpenAPI name of the X-Tapis-Token scheme.
const securityScheme = "TapisJWT"

// withAuth marks an operation with its auth mode (and documents it).
func withAuth(op huma.Operation, mode authMode) huma.Operation {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[authMetaKey] = mode
	if mode == authRequired {
		op.Security = []map[string][]string{{securityScheme: {}}}
	}
	return op
}

// authenticator reads who a request is from its headers; the rules that
// decide who it acts as are identity.Resolver's.
type authenticator struct {
	resolver *identity.Resolver
}

// principal resolves a request's principal: service is the Tapis service the
// operation belongs to ("" when not known).
func (a *authenticator) principal(ctx context.Context, host, raw, oboTenant, oboUser, service string) (tenancy.Principal, error) {
	return a.resolver.Resolve(ctx, identity.Request{Host: host, Token: raw, OBOTenant: oboTenant, OBOUser: oboUser, Service: service})
}

// middleware resolves the principal of every operation according to its
// auth mode and puts it in the request context.
func (a *authenticator) middleware(h *handlers) func(huma.Context, func(huma.Context)) {
	return func(ctx huma.Context, next func(huma.Context)) {
		mode, _ := ctx.Operation().Metadata[authMetaKey].(authMode)
		raw := ctx.Header(HeaderToken)
		if auth := ctx.Header("Authorization"); raw == "" && len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
			raw = strings.TrimSpace(auth[7:]) // RFC 6750, for standard clients (userinfo)
		}
		if mode == authIgnored {
			raw = ""
		}
		p, err := a.principal(ctx.Context(), ctx.Host(), raw, ctx.Header(HeaderTenant), ctx.Header(HeaderUser), tenancy.ServiceOfPath(ctx.Operation().Path))
		if err == nil && mode == authRequired && !p.Authenticated() {
			err = tenancy.Errorf(oauth2.ErrInvalidToken, "No Tapis access token found in the request; send it in the %s header.", HeaderToken)
		}
		if err != nil {
			writeErr(ctx, failure(ctx.Context(), h.log, err))
			return
		}
		next(huma.WithContext(ctx, tenancy.WithPrincipal(ctx.Context(), p)))
	}
}

// writeErr writes an envelope error from middleware.
func writeErr(ctx huma.Context, err error) {
	e, ok := err.(*Error)
	if !ok {
		e = NewError(http.StatusInternalServerError, "An internal error occurred.")
	}
	for name, values := range e.headers {
		for _, v := range values {
			ctx.AppendHeader(name, v)
		}
	}
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetStatus(e.status)
	_ = jsonEncode(ctx.BodyWriter(), e)
}

// principalOf returns the request's principal (anonymous when absent).
func principalOf(ctx context.Context) tenancy.Principal {
	p, _ := tenancy.PrincipalFrom(ctx)
	return p
}
