package httpapi

import (
	"context"
	"encoding/json"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// TenantConfigJSON is the authenticator configuration of a tenant. The two
// impersonation secrets are accepted on PUT and never returned.
type TenantConfigJSON struct {
	TenantID               string         `json:"tenant_id"`
	AllowableGrantTypes    []string       `json:"allowable_grant_types"`
	UseLDAP                bool           `json:"use_ldap"`
	UseTokenWebapp         bool           `json:"use_token_webapp"`
	MFAConfig              map[string]any `json:"mfa_config"`
	DefaultAccessTokenTTL  int64          `json:"default_access_token_ttl"`
	DefaultRefreshTokenTTL int64          `json:"default_refresh_token_ttl"`
	MaxAccessTokenTTL      int64          `json:"max_access_token_ttl"`
	MaxRefreshTokenTTL     int64          `json:"max_refresh_token_ttl"`
	CustomIdPConfiguration map[string]any `json:"custom_idp_configuration"`
	TokenURL               string         `json:"token_url"`
	ImpersOAuthClientID    string         `json:"impers_oauth_client_id"`
	ImpersadminUsername    string         `json:"impersadmin_username"`
}

func tenantConfigJSON(c oauth2.TenantConfig) TenantConfigJSON {
	orEmpty := func(m map[string]any) map[string]any {
		if m == nil {
			return map[string]any{}
		}
		return m
	}
	return TenantConfigJSON{TenantID: c.TenantID, AllowableGrantTypes: c.AllowableGrantTypes, UseLDAP: c.UseLDAP,
		UseTokenWebapp: c.UseTokenWebapp, MFAConfig: orEmpty(c.MFAConfig),
		DefaultAccessTokenTTL: int64(c.DefaultAccessTTL / time.Second), DefaultRefreshTokenTTL: int64(c.DefaultRefreshTTL / time.Second),
		MaxAccessTokenTTL: int64(c.MaxAccessTTL / time.Second), MaxRefreshTokenTTL: int64(c.MaxRefreshTTL / time.Second),
		CustomIdPConfiguration: orEmpty(c.CustomIdPConfiguration), TokenURL: c.TokenURL,
		ImpersOAuthClientID: c.ImpersOAuthClientID, ImpersadminUsername: c.ImpersadminUsername}
}

// NewTenantConfigJSON is the body of PUT /v3/oauth2/admin/config; absent
// fields keep their value.
type NewTenantConfigJSON struct {
	AllowableGrantTypes     *[]string       `json:"allowable_grant_types,omitempty"`
	UseLDAP                 *bool           `json:"use_ldap,omitempty"`
	UseTokenWebapp          *bool           `json:"use_token_webapp,omitempty"`
	MFAConfig               *map[string]any `json:"mfa_config,omitempty"`
	DefaultAccessTokenTTL   *int64          `json:"default_access_token_ttl,omitempty"`
	DefaultRefreshTokenTTL  *int64          `json:"default_refresh_token_ttl,omitempty"`
	MaxAccessTokenTTL       *int64          `json:"max_access_token_ttl,omitempty"`
	MaxRefreshTokenTTL      *int64          `json:"max_refresh_token_ttl,omitempty"`
	CustomIdPConfiguration  *map[string]any `json:"custom_idp_configuration,omitempty"`
	TokenURL                *string         `json:"token_url,omitempty"`
	ImpersOAuthClientID     *string         `json:"impers_oauth_client_id,omitempty"`
	ImpersOAuthClientSecret *string         `json:"impers_oauth_client_secret,omitempty" doc:"Write-only: sealed at rest, never returned."`
	ImpersadminUsername     *string         `json:"impersadmin_username,omitempty"`
	ImpersadminPassword     *string         `json:"impersadmin_password,omitempty" doc:"Write-only: sealed at rest, never returned."`
}

func (h *handlers) registerConfig(api huma.API) {
	p := h.svc.OAuth2
	tags := []string{"Admin"}
	register(api, h, huma.Operation{OperationID: "get_config", Method: http.MethodGet, Path: "/v3/oauth2/admin/config",
		Summary: "Get the tenant's authenticator configuration (tenant admins).", Tags: tags}, authRequired,
		func(ctx context.Context, _ *struct{}) (*Output[TenantConfigJSON], error) {
			c, err := p.GetConfig(ctx, principalOf(ctx))
			if err != nil {
				return nil, err
			}
			return ok(tenantConfigJSON(c), "Tenant config object retrieved successfully."), nil
		})
	type putIn struct{ Body NewTenantConfigJSON }
	register(api, h, huma.Operation{OperationID: "update_config", Method: http.MethodPut, Path: "/v3/oauth2/admin/config",
		Summary: "Update the tenant's authenticator configuration (tenant admins).", Tags: tags}, authRequired,
		func(ctx context.Context, in *putIn) (*Output[TenantConfigJSON], error) {
			b := in.Body
			c, err := p.UpdateConfig(ctx, principalOf(ctx), oauth2.ConfigUpdate{AllowableGrantTypes: b.AllowableGrantTypes,
				UseLDAP: b.UseLDAP, UseTokenWebapp: b.UseTokenWebapp, MFAConfig: b.MFAConfig,
				DefaultAccessTTL: b.DefaultAccessTokenTTL, DefaultRefreshTTL: b.DefaultRefreshTokenTTL,
				MaxAccessTTL: b.MaxAccessTokenTTL, MaxRefreshTTL: b.MaxRefreshTokenTTL,
				CustomIdPConfiguration: b.CustomIdPConfiguration, TokenURL: b.TokenURL,
				ImpersOAuthClientID: b.ImpersOAuthClientID, ImpersOAuthClientSecret: b.ImpersOAuthClientSecret,
				ImpersadminUsername: b.ImpersadminUsername, ImpersadminPassword: b.ImpersadminPassword})
			if err != nil {
				return nil, err
			}
			return ok(tenantConfigJSON(c), "Tenant config object updated successfully."), nil
		})
}

// NewTokenJSON documents the body of POST /v3/oauth2/tokens (JSON or form).
type NewTokenJSON struct {
	GrantType    string `json:"grant_type" form:"grant_type" doc:"password, authorization_code, refresh_token or device_code."`
	Username     string `json:"username,omitempty" form:"username"`
	Password     string `json:"password,omitempty" form:"password"`
	ClientID     string `json:"client_id,omitempty" form:"client_id" doc:"The client (when not sent by HTTP Basic)."`
	ClientKey    string `json:"client_key,omitempty" form:"client_key" doc:"The client's key (when not sent by HTTP Basic)."`
	RedirectURI  string `json:"redirect_uri,omitempty" form:"redirect_uri"`
	Code         string `json:"code,omitempty" form:"code"`
	CodeVerifier string `json:"code_verifier,omitempty" form:"code_verifier" doc:"PKCE verifier (RFC 7636)."`
	DeviceCode   string `json:"device_code,omitempty" form:"device_code"`
	RefreshToken string `json:"refresh_token,omitempty" form:"refresh_token"`
}

// maxTokenBody bounds a token request body.
const maxTokenBody = 64 << 10

// parseTokenRequest reads a token request in JSON or form encoding, with the
// client from HTTP Basic (RFC 6749 §2.3.1: form-encoded id and key) or the
// body. formEncodedBasic is true on the RFC endpoint.
func parseTokenRequest(contentType, authorization string, body []byte, formEncodedBasic bool) (oauth2.TokenRequest, error) {
	var b NewTokenJSON
	var scope string     // form only: the Tapis JSON body has no scope
	var other url.Values // parameters for an embedder's grants
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return oauth2.TokenRequest{}, tenancy.Errorf(tenancy.ErrInvalid, "Invalid form body: %v", err)
		}
		b = NewTokenJSON{GrantType: v.Get("grant_type"), Username: v.Get("username"), Password: v.Get("password"),
			ClientID: v.Get("client_id"), ClientKey: firstOf(v.Get("client_key"), v.Get("client_secret")),
			RedirectURI: v.Get("redirect_uri"), Code: v.Get("code"), CodeVerifier: v.Get("code_verifier"),
			DeviceCode: v.Get("device_code"), RefreshToken: v.Get("refresh_token")}
		scope = v.Get("scope")
		for k, vals := range v {
			if !namedTokenParam(k) {
				other = addParam(other, k, vals...)
			}
		}
	case "application/json", "":
		if len(body) > 0 {
			var fields map[string]json.RawMessage
			if err := json.Unmarshal(body, &b); err != nil || json.Unmarshal(body, &fields) != nil {
				return oauth2.TokenRequest{}, tenancy.Errorf(tenancy.ErrInvalid, "Invalid JSON body: an object of string fields is expected.")
			}
			for k, raw := range fields {
				var str string
				if !namedTokenParam(k) && json.Unmarshal(raw, &str) == nil { // other kinds are ignored, as before
					other = addParam(other, k, str)
				}
			}
		}
	default:
		return oauth2.TokenRequest{}, tenancy.Errorf(tenancy.ErrInvalid, "Unsupported Content-Type %q: send application/json or application/x-www-form-urlencoded.", mt)
	}
	var bad textProblems
	walkText(&bad, "body", reflect.ValueOf(b), false, 0)
	walkText(&bad, "body", reflect.ValueOf(other), false, 0)
	if err := bad.err(); err != nil {
		return oauth2.TokenRequest{}, &oauth2.GrantError{Code: "invalid_request", Description: err.Error()}
	}
	if b.GrantType == urnDeviceCode {
		b.GrantType = oauth2.GrantDeviceCode
	}
	req := oauth2.TokenRequest{GrantType: b.GrantType, ClientID: b.ClientID, ClientKey: b.ClientKey, Username: b.Username,
		Password: b.Password, RedirectURI: b.RedirectURI, Code: b.Code, CodeVerifier: b.CodeVerifier,
		DeviceCode: b.DeviceCode, RefreshToken: b.RefreshToken, Scope: scope, Params: other}
	if authorization != "" {
		id, key, okBasic := parseBasic(authorization)
		if !okBasic {
			return oauth2.TokenRequest{}, &oauth2.GrantError{Code: "invalid_client", Description: "Invalid Authorization header: HTTP Basic client credentials expected."}
		}
		if formEncodedBasic {
			id, _ = url.QueryUnescape(id)
			key, _ = url.QueryUnescape(key)
		}
		if req.ClientID != "" && req.ClientID != id {
			return oauth2.TokenRequest{}, &oauth2.GrantError{Code: "invalid_request", Description: "The client_id in the body differs from the HTTP Basic client."}
		}
		req.ClientID, req.ClientKey = id, key
	}
	return req, nil
}

// namedTokenParam reports whether a token request parameter has a field
// of its own in oauth2.TokenRequest; the others are passed on in Params.
func namedTokenParam(name string) bool {
	switch name {
	case "grant_type", "username", "password", "client_id", "client_key", "client_secret", "redirect_uri",
		"code", "code_verifier", "device_code", "refresh_token", "scope":
		return true
	}
	return false
}

func addParam(v url.Values, name string, vals ...string) url.Values {
	if v == nil {
		v = url.Values{}
	}
	v[name] = append(v[name], vals...)
	return v
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// clientAddr is the address rate limits count failures by: the peer's IP,
// or, when the peer is one of the trusted proxies (Options.TrustedProxies),
// the nearest untrusted address of X-Forwarded-For.
func (h *handlers) clientAddr(ctx huma.Context) string {
	peer := hostOnly(ctx.RemoteAddr())
	if len(h.opt.TrustedProxies) == 0 || !h.trusted(peer) {
		return peer
	}
	hops := strings.Split(ctx.Header("X-Forwarded-For"), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop != "" && !h.trusted(hop) {
			return hop
		}
	}
	return peer
}

func (h *handlers) trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	for _, p := range h.opt.TrustedProxies {
		if p.Contains(ip.Unmap()) {
			return true
		}
	}
	return false
}

func hostOnly(remote string) string {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		return remote
	}
	return host
}

type remoteAddrKey struct{}

// remoteAddrMiddleware puts the client's address in the request context for
// the rate limits of the token endpoints.
func (h *handlers) remoteAddrMiddleware(ctx huma.Context, next func(huma.Context)) {
	next(huma.WithValue(ctx, remoteAddrKey{}, h.clientAddr(ctx)))
}

func remoteAddrOf(ctx context.Context) string {
	s, _ := ctx.Value(remoteAddrKey{}).(string)
	return s
}

func (h *handlers) registerOAuthTokens(api huma.API) {
	p := h.svc.OAuth2
	tags := []string{"Tokens"}
	type tokenIn struct {
		Authorization string `header:"Authorization" doc:"HTTP Basic client credentials (client_id:client_key)."`
		ContentType   string `header:"Content-Type"`
		RawBody       []byte
	}
	op := huma.Operation{OperationID: "create_token", Method: http.MethodPost, Path: "/v3/oauth2/tokens",
		Summary: "Generate a token (password, authorization_code, refresh_token or device_code grant).", Tags: tags,
		DefaultStatus: http.StatusCreated, MaxBodyBytes: maxTokenBody, Middlewares: huma.Middlewares{h.remoteAddrMiddleware}}
	register(api, h, op, authIgnored,
		func(ctx context.Context, in *tokenIn) (*Output[TokenResponseJSON], error) {
			req, err := parseTokenRequest(in.ContentType, in.Authorization, in.RawBody, false)
			if err != nil {
				return nil, err
			}
			req.TenantID, req.RemoteAddr = principalOf(ctx).TenantID, remoteAddrOf(ctx)
			pair, err := p.Token(ctx, req)
			if err != nil {
				return nil, err
			}
			return created(TokenResponse(pair), "Token created successfully."), nil
		})
	// Documented after registration: a schema on the operation itself would
	// make huma parse the body as JSON only.
	if item := api.OpenAPI().Paths[op.Path]; item != nil && item.Post != nil {
		item.Post.RequestBody = tokenRequestBody(api)
	}
	type revokeIn struct {
		Body struct {
			Token string `json:"token,omitempty" doc:"The Tapis JWT to revoke."`
		}
	}
	register(api, h, huma.Operation{OperationID: "revoke_token", Method: http.MethodPost, Path: "/v3/oauth2/tokens/revoke",
		Summary: "Revoke a token (access or refresh).", Tags: tags}, authIgnored,
		func(ctx context.Context, in *revokeIn) (*Output[string], error) {
			if in.Body.Token == "" {
				return nil, tenancy.Errorf(tenancy.ErrInvalid, "Invalid POST data: token is required.")
			}
			jti, err := p.Tokens().Revoke(ctx, in.Body.Token)
			if err != nil {
				return nil, err
			}
			return ok("", "Token "+jti+" has been revoked."), nil
		})
	type v2In struct {
		Body struct {
			AccessToken string `json:"access_token" doc:"The Tapis v3 access token representing the user."`
		}
	}
	register(api, h, huma.Operation{OperationID: "create_v2_token", Method: http.MethodPost, Path: "/v3/oauth2/v2/token",
		Summary: "Exchange a v3 token for a Tapis v2 token (TACC only; not available here).", Tags: tags}, authRequired,
		func(context.Context, *v2In) (*Output[string], error) {
			return nil, NewError(http.StatusNotImplemented, "Tapis v2 token exchange is not available on this server.")
		})
	type deviceIn struct {
		Body struct {
			ClientID string `json:"client_id" doc:"The client_id requesting the device code."`
		}
	}
	type deviceOut struct {
		ClientID                string `json:"client_id"`
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int64  `json:"expires_in" doc:"Seconds until the codes expire (the original sent a date string)."`
		Interval                int64  `json:"interval" doc:"Seconds to wait between polls of the token endpoint."`
	}
	register(api, h, huma.Operation{OperationID: "generate_device_code", Method: http.MethodPost, Path: "/v3/oauth2/device/code",
		Summary: "Generate a device code (first step of the device_code grant).", Tags: tags,
		Middlewares: huma.Middlewares{h.remoteAddrMiddleware}}, authIgnored,
		func(ctx context.Context, in *deviceIn) (*Output[deviceOut], error) {
			tenantID := principalOf(ctx).TenantID
			base, err := h.tenantBase(ctx, tenantID)
			if err != nil {
				return nil, err
			}
			d, err := p.StartDeviceFrom(ctx, tenantID, in.Body.ClientID, "", base, remoteAddrOf(ctx))
			if err != nil {
				return nil, err
			}
			return ok(deviceOut{ClientID: d.ClientID, DeviceCode: d.DeviceCode, UserCode: d.UserCode,
				VerificationURI:         d.VerificationURI,
				VerificationURIComplete: d.VerificationURI + "?" + url.Values{"user_code": {d.UserCode}}.Encode(),
				ExpiresIn:               int64(d.ExpiresIn / time.Second),
				Interval:                int64(d.Interval / time.Second)}, "Token created successfully."), nil
		})
}

// tokenRequestBody documents the two encodings of the token request.
func tokenRequestBody(api huma.API) *huma.RequestBody {
	schema := api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[NewTokenJSON](), true, "NewToken")
	return &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
		"application/json":                  {Schema: schema},
		"application/x-www-form-urlencoded": {Schema: schema},
	}}
}
