package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

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

// authenticator turns request headers into a tenancy.Principal.
type authenticator struct {
	tenancy       *tenancy.Service
	tokens        *oauth2.TokenService
	siteID        string
	defaultTenant string
}

// requestTenant is the tenant a request is for, before any token: the tenant
// whose base URL host equals the Host header exactly, else the listener's
// default tenant.
func (a *authenticator) requestTenant(reg *tenancy.Registry, host string) string {
	if t, ok := reg.TenantForHost(host); ok {
		return t.ID
	}
	return a.defaultTenant
}

// principal validates the request's token and on-behalf-of headers.
func (a *authenticator) principal(ctx context.Context, host, raw, oboTenant, oboUser string) (tenancy.Principal, error) {
	var bad textProblems
	bad.check(HeaderTenant+" header", oboTenant, true)
	bad.check(HeaderUser+" header", oboUser, true)
	if err := bad.err(); err != nil {
		return tenancy.Principal{}, err
	}
	reg, err := a.tenancy.Registry(ctx)
	if err != nil {
		return tenancy.Principal{}, err
	}
	reqTenant := a.requestTenant(reg, host)
	if raw == "" {
		return tenancy.Principal{TenantID: reqTenant}, nil
	}
	c, err := a.tokens.Validate(ctx, raw, "access")
	if err != nil {
		return tenancy.Principal{}, err
	}
	p := tenancy.Principal{TenantID: c.TenantID, Username: c.Username, AccountType: c.AccountType,
		TokenTenantID: c.TenantID, TokenUsername: c.Username, TargetSite: c.TargetSite,
		JTI: c.JTI, Expires: c.Expires, Delegation: c.Delegation, DelegationSub: c.DelegationSub, ParentJTI: c.ParentJTI}
	switch c.AccountType {
	case tenancy.AccountUser:
		if oboTenant != "" || oboUser != "" {
			return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid request; cannot set OBO headers with a user token.")
		}
		if c.TenantID != reqTenant {
			return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "The tenant_id claim in the token, %s does not match the URL tenant, %s.", c.TenantID, reqTenant)
		}
	case tenancy.AccountService:
		site := a.siteID
		if primary, ok := reg.Primary(); ok && site == "" {
			site = primary.ID
		}
		if c.TargetSite != site {
			return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service token; target_site claim does not match this service's site_id.")
		}
		switch {
		case oboTenant != "" && oboUser == "":
			return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service request; X-Tapis-User header missing.")
		case oboTenant == "" && oboUser != "":
			return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid service request; X-Tapis-Tenant header missing.")
		case oboTenant != "":
			if !reg.MayActFor(c.TenantID, oboTenant) {
				return tenancy.Principal{}, tenancy.Errorf(tenancy.ErrForbidden, "Tokens of tenant %s may not act for tenant %s.", c.TenantID, oboTenant)
			}
			p.TenantID, p.Username, p.OnBehalfOf = oboTenant, oboUser, true
		case reg.MayActFor(c.TenantID, reqTenant):
			p.TenantID = reqTenant
		}
	default:
		return tenancy.Principal{}, tenancy.Errorf(oauth2.ErrInvalidToken, "Invalid Tapis token: tapis/account_type must be user or service.")
	}
	return p, nil
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
		p, err := a.principal(ctx.Context(), ctx.Host(), raw, ctx.Header(HeaderTenant), ctx.Header(HeaderUser))
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
