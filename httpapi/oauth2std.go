package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// The standard OAuth2 surface next to the Tapis one: an RFC 6749 token
// endpoint (flat JSON, standard error codes) sharing the grant
// implementation of /v3/oauth2/tokens, RFC 7009 revocation, RFC 7662
// introspection, RFC 8628 device authorization, the tenant's JWKS, and (in
// oidc.go) the RFC 8414 and OpenID Connect discovery documents and the
// standard userinfo. They are plain handlers, not Tapis operations: their
// shapes are the RFCs', not the envelope. oauth2std_doc.go documents them
// in the served OpenAPI document.

// rawHandler registers a non-envelope handler on the API's router. Its
// query is checked like every operation's parameters (checkValues); the
// Observer, if any, counts its requests under its path.
func (h *handlers) rawHandler(api huma.API, method, path string, fn func(huma.Context)) {
	api.Adapter().Handle(&huma.Operation{Method: method, Path: path}, observed(h.opt.Observer, path, func(ctx huma.Context) {
		ctx.SetHeader("Cache-Control", "no-store")
		u := ctx.URL()
		if err := checkValues("query", u.Query()); err != nil {
			writeJSON(ctx, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
			return
		}
		fn(ctx)
	}))
}

// requestTenantOf resolves the tenant of an unauthenticated request.
func (h *handlers) requestTenantOf(ctx huma.Context) (string, error) {
	return h.auth.resolver.RequestTenant(ctx.Context(), ctx.Host())
}

func writeJSON(ctx huma.Context, status int, v any) {
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetHeader("Cache-Control", "no-store")
	ctx.SetHeader("Pragma", "no-cache")
	ctx.SetStatus(status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(v)
}

// rfcTokenResponse is the RFC 6749 §5.1 answer.
type rfcTokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty" doc:"OpenID Connect: the id_token of a code grant (or its refresh) with scope openid."`
	Scope        string `json:"scope,omitempty" doc:"The granted scope, when one was asked."`
}

// rfcError writes an RFC 6749 §5.2 error: the GrantError's code, else
// invalid_request for other client mistakes and server_error (logged, not
// echoed) for the rest.
func (h *handlers) rfcError(ctx huma.Context, err error, basic bool) {
	var ge *oauth2.GrantError
	body := map[string]any{}
	status := http.StatusBadRequest
	wait, limited := retryAfter(err)
	switch {
	case limited:
		ctx.SetHeader("Retry-After", wait)
		status = http.StatusTooManyRequests
		body["error"], body["error_description"] = "temporarily_unavailable", err.Error()
	case errors.As(err, &ge):
		body["error"], body["error_description"] = ge.Code, ge.Description
		switch ge.Code {
		case "invalid_client":
			status = http.StatusUnauthorized
			if basic {
				ctx.SetHeader("WWW-Authenticate", `Basic realm="tapis"`)
			}
		case "slow_down":
			body["interval"] = int64(ge.Interval.Seconds())
		}
	case StatusOf(err) < http.StatusInternalServerError:
		body["error"], body["error_description"] = "invalid_request", err.Error()
	default:
		h.log.ErrorContext(ctx.Context(), "token endpoint failed", "err", err)
		status = http.StatusInternalServerError
		body["error"], body["error_description"] = "server_error", "An internal error occurred."
	}
	writeJSON(ctx, status, body)
}

func (h *handlers) registerStandardOAuth(api huma.API) {
	p := h.svc.OAuth2
	h.rawHandler(api, http.MethodPost, "/v3/oauth2/token", func(ctx huma.Context) {
		body, err := io.ReadAll(io.LimitReader(ctx.BodyReader(), maxTokenBody+1))
		if err == nil && len(body) > maxTokenBody {
			err = tenancy.Errorf(tenancy.ErrInvalid, "Request body too large.")
		}
		auth := ctx.Header("Authorization")
		var req oauth2.TokenRequest
		if err == nil {
			req, err = parseTokenRequest(ctx.Header("Content-Type"), auth, body, true)
		}
		if err == nil {
			req.TenantID, err = h.requestTenantOf(ctx)
		}
		var pair oauth2.TokenPair
		if err == nil {
			req.RemoteAddr = h.clientAddr(ctx)
			pair, err = p.Token(ctx.Context(), req)
		}
		if err != nil {
			h.rfcError(ctx, err, auth != "")
			return
		}
		out := rfcTokenResponse{AccessToken: pair.Access.Raw, TokenType: "Bearer", ExpiresIn: pair.Access.ExpiresIn,
			IDToken: pair.IDToken, Scope: pair.Scope}
		if pair.Refresh != nil {
			out.RefreshToken = pair.Refresh.Raw
		}
		writeJSON(ctx, http.StatusOK, out)
	})
	// RFC 7009: revoke a token; the answer is 200 whatever the token was.
	// Client credentials, when sent (Basic or client_id+client_secret), are
	// checked like the token endpoint's; without them possession of the
	// token is enough, as on the Tapis endpoint.
	h.rawHandler(api, http.MethodPost, "/v3/oauth2/revoke", func(ctx huma.Context) {
		form, err := readForm(ctx, maxTokenBody)
		if err != nil || form.Get("token") == "" {
			writeJSON(ctx, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "The token parameter is required."})
			return
		}
		auth := ctx.Header("Authorization")
		id, key := form.Get("client_id"), form.Get("client_secret")
		if auth != "" {
			var okBasic bool
			if id, key, okBasic = parseBasic(auth); !okBasic {
				h.rfcError(ctx, &oauth2.GrantError{Code: "invalid_client", Description: "Invalid client credentials."}, true)
				return
			}
			id, _ = url.QueryUnescape(id)
			key, _ = url.QueryUnescape(key)
		}
		if key != "" {
			tenantID, err := h.requestTenantOf(ctx)
			if err == nil {
				_, err = p.AuthenticateClient(ctx.Context(), tenantID, id, key, h.clientAddr(ctx))
			}
			if err != nil {
				h.rfcError(ctx, err, auth != "")
				return
			}
		}
		if _, err := p.Tokens().Revoke(ctx.Context(), form.Get("token")); err != nil && StatusOf(err) >= http.StatusInternalServerError {
			h.rfcError(ctx, err, false)
			return
		}
		ctx.SetHeader("Cache-Control", "no-store")
		ctx.SetStatus(http.StatusOK)
	})
	// RFC 7662: introspection for resource servers that cannot verify JWTs,
	// by a confidential client of the tenant.
	h.rawHandler(api, http.MethodPost, "/v3/oauth2/introspect", func(ctx huma.Context) {
		form, err := readForm(ctx, maxTokenBody)
		auth := ctx.Header("Authorization")
		clientID, clientKey := form.Get("client_id"), firstOf(form.Get("client_secret"), form.Get("client_key"))
		if err == nil && auth != "" {
			id, key, ok := parseBasic(auth)
			if !ok {
				err = &oauth2.GrantError{Code: "invalid_client", Description: "Invalid Authorization header: HTTP Basic client credentials expected."}
			}
			id, _ = url.QueryUnescape(id) // RFC 6749 §2.3.1
			key, _ = url.QueryUnescape(key)
			clientID, clientKey = id, key
		}
		var tenantID string
		if err == nil {
			tenantID, err = h.requestTenantOf(ctx)
		}
		var in oauth2.Introspection
		if err == nil {
			in, err = p.Introspect(ctx.Context(), tenantID, clientID, clientKey, h.clientAddr(ctx), form.Get("token"))
		}
		if err != nil {
			h.rfcError(ctx, err, auth != "")
			return
		}
		if !in.Active {
			writeJSON(ctx, http.StatusOK, map[string]bool{"active": false})
			return
		}
		writeJSON(ctx, http.StatusOK, in.Claims)
	})
	// RFC 8628 §3.1: the device authorization request, in the standard shape.
	h.rawHandler(api, http.MethodPost, "/v3/oauth2/device_authorization", func(ctx huma.Context) {
		form, err := readForm(ctx, maxTokenBody)
		tenantID, terr := h.requestTenantOf(ctx)
		var base string
		if err == nil && terr == nil {
			base, terr = h.tenantBase(ctx.Context(), tenantID)
		}
		if err != nil || terr != nil {
			h.rfcError(ctx, errors.Join(err, terr), false)
			return
		}
		d, err := p.StartDeviceFrom(ctx.Context(), tenantID, form.Get("client_id"), form.Get("client_secret"), base, h.clientAddr(ctx))
		if err != nil {
			h.rfcError(ctx, err, false)
			return
		}
		writeJSON(ctx, http.StatusOK, map[string]any{"device_code": d.DeviceCode, "user_code": d.UserCode,
			"verification_uri":          d.VerificationURI,
			"verification_uri_complete": d.VerificationURI + "?" + url.Values{"user_code": {d.UserCode}}.Encode(),
			"expires_in":                int64(d.ExpiresIn.Seconds()), "interval": int64(d.Interval.Seconds())})
	})
	h.rawHandler(api, http.MethodGet, "/v3/oauth2/jwks", func(ctx huma.Context) {
		h.serveDoc(ctx, func(c context.Context, tenantID string) (any, error) {
			return p.Tokens().JWKS(c, tenantID)
		})
	})
	h.registerOIDC(api)
	documentStandardOAuth(api)
}

// readForm reads a form body of at most limit bytes; a malformed one is a
// client mistake.
func readForm(ctx huma.Context, limit int64) (url.Values, error) {
	body, err := io.ReadAll(io.LimitReader(ctx.BodyReader(), limit))
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, tenancy.Errorf(tenancy.ErrInvalid, "Invalid form body: %v", err)
	}
	if err := checkValues("form", form); err != nil {
		return nil, err
	}
	return form, nil
}

// serveDoc answers a public JSON document of the request's tenant.
func (h *handlers) serveDoc(ctx huma.Context, doc func(context.Context, string) (any, error)) {
	tenantID, err := h.requestTenantOf(ctx)
	var v any
	if err == nil {
		v, err = doc(ctx.Context(), tenantID)
	}
	if err != nil {
		e := failure(ctx.Context(), h.log, err)
		writeErr(ctx, e)
		return
	}
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetHeader("Cache-Control", "public, max-age=300")
	ctx.SetStatus(http.StatusOK)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(v)
}
