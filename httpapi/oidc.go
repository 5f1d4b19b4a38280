package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// OpenID Connect and RFC 8414 discovery, and the standard userinfo. The
// issuer of a tenant is its base URL (oauth2.IssuerOf): the documents are at
// <issuer>/.well-known/openid-configuration and
// <issuer>/.well-known/oauth-authorization-server, and, for clients that
// were given the authenticator's URL, under /v3/oauth2 with the same
// content. The tenant is the request's (Host, else the listener's default).

// pathUserinfoOIDC is the standard userinfo (plain JSON, Bearer token);
// /v3/oauth2/userinfo keeps the Tapis envelope.
const pathUserinfoOIDC = "/v3/oauth2/userinfo/oidc"

// urnDeviceCode is RFC 8628's name of the device_code grant.
const urnDeviceCode = "urn:ietf:params:oauth:grant-type:device_code"

// DiscoveryJSON is a tenant's authorization-server metadata: OpenID Connect
// Discovery 1.0 §3 and RFC 8414 §2 (one document serves both). Every field
// says what the server does; registration_endpoint is absent because
// /v3/oauth2/clients is the Tapis client API, not RFC 7591.
type DiscoveryJSON struct {
	Issuer                                    string   `json:"issuer"`
	AuthorizationEndpoint                     string   `json:"authorization_endpoint"`
	TokenEndpoint                             string   `json:"token_endpoint"`
	JWKSURI                                   string   `json:"jwks_uri"`
	UserinfoEndpoint                          string   `json:"userinfo_endpoint"`
	RevocationEndpoint                        string   `json:"revocation_endpoint"`
	IntrospectionEndpoint                     string   `json:"introspection_endpoint"`
	DeviceAuthorizationEndpoint               string   `json:"device_authorization_endpoint,omitempty"`
	ScopesSupported                           []string `json:"scopes_supported"`
	ResponseTypesSupported                    []string `json:"response_types_supported"`
	ResponseModesSupported                    []string `json:"response_modes_supported"`
	GrantTypesSupported                       []string `json:"grant_types_supported"`
	SubjectTypesSupported                     []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported          []string `json:"id_token_signing_alg_values_supported"`
	TokenEndpointAuthMethodsSupported         []string `json:"token_endpoint_auth_methods_supported"`
	RevocationEndpointAuthMethodsSupported    []string `json:"revocation_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthMethodsSupported []string `json:"introspection_endpoint_auth_methods_supported"`
	CodeChallengeMethodsSupported             []string `json:"code_challenge_methods_supported"`
	ClaimsSupported                           []string `json:"claims_supported"`
	ClaimsParameterSupported                  bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                 bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported              bool     `json:"request_uri_parameter_supported"`
}

// discovery builds the metadata of a tenant from its configuration.
func (h *handlers) discovery(ctx context.Context, tenantID string) (DiscoveryJSON, error) {
	reg, err := h.svc.Tenancy.Registry(ctx)
	if err != nil {
		return DiscoveryJSON{}, err
	}
	t, found := reg.Tenant(tenantID)
	if !found {
		return DiscoveryJSON{}, tenancy.Errorf(tenancy.ErrNotFound, "Tenant %s not found.", tenantID)
	}
	cfg, err := h.svc.OAuth2.TenantConfig(ctx, tenantID)
	if err != nil {
		return DiscoveryJSON{}, err
	}
	iss := oauth2.IssuerOf(t)
	o := iss + pathOAuth2
	d := DiscoveryJSON{Issuer: iss, AuthorizationEndpoint: o + "/authorize", TokenEndpoint: o + "/token",
		JWKSURI: o + "/jwks", UserinfoEndpoint: iss + pathUserinfoOIDC, RevocationEndpoint: o + "/revoke",
		IntrospectionEndpoint: o + "/introspect", ScopesSupported: oauth2.SupportedScopes(),
		ResponseTypesSupported: []string{}, ResponseModesSupported: []string{}, GrantTypesSupported: []string{},
		SubjectTypesSupported: []string{"public"}, IDTokenSigningAlgValuesSupported: []string{"RS256"},
		TokenEndpointAuthMethodsSupported:         []string{"client_secret_basic", "client_secret_post", "none"},
		RevocationEndpointAuthMethodsSupported:    []string{"none", "client_secret_basic", "client_secret_post"},
		IntrospectionEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		CodeChallengeMethodsSupported:             []string{"S256"},
		ClaimsSupported: []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "at_hash",
			"preferred_username", "name", "given_name", "family_name", "phone_number", "email"}}
	for _, g := range cfg.AllowableGrantTypes {
		switch g {
		case oauth2.GrantAuthorizationCode:
			d.ResponseTypesSupported = append(d.ResponseTypesSupported, "code")
			d.ResponseModesSupported = append(d.ResponseModesSupported, "query")
		case oauth2.GrantImplicit:
			d.ResponseTypesSupported = append(d.ResponseTypesSupported, "token")
			d.ResponseModesSupported = append(d.ResponseModesSupported, "fragment")
		case oauth2.GrantDeviceCode:
			d.DeviceAuthorizationEndpoint = o + "/device_authorization"
			g = urnDeviceCode
		}
		d.GrantTypesSupported = append(d.GrantTypesSupported, g)
	}
	return d, nil
}

// serverMetadata is the Tapis enveloped metadata document
// (get_server_metadata): the standard one plus the Tapis client API as
// registration_endpoint, as the original had it.
func (h *handlers) serverMetadata(ctx context.Context, tenantID string) (map[string]any, error) {
	d, err := h.discovery(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	out := map[string]any{}
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	out["registration_endpoint"] = d.Issuer + pathOAuth2 + "/clients"
	grants := make([]string, 0, len(d.GrantTypesSupported)) // the tenant config's names, as the original
	for _, g := range d.GrantTypesSupported {
		if g == urnDeviceCode {
			g = oauth2.GrantDeviceCode
		}
		grants = append(grants, g)
	}
	out["grant_types_supported"] = grants
	return out, nil
}

// registerOIDC adds the discovery documents and the standard userinfo.
func (h *handlers) registerOIDC(api huma.API) {
	metadata := func(ctx huma.Context) {
		h.serveDoc(ctx, func(c context.Context, tenantID string) (any, error) {
			return h.discovery(c, tenantID)
		})
	}
	for _, path := range discoveryPaths {
		h.rawHandler(api, http.MethodGet, path, metadata)
	}
	h.rawHandler(api, http.MethodGet, pathUserinfoOIDC, h.userinfoOIDC)
	h.rawHandler(api, http.MethodPost, pathUserinfoOIDC, h.userinfoOIDC)
}

// discoveryPaths serve the same document: OIDC discovery and RFC 8414 at
// the issuer (the tenant base URL), and both under the authenticator's URL.
var discoveryPaths = []string{
	"/.well-known/openid-configuration",
	"/.well-known/oauth-authorization-server",
	"/v3/oauth2/.well-known/openid-configuration",
	"/.well-known/oauth-authorization-server/v3/oauth2",
}

// userinfoOIDC is the OpenID Connect userinfo (Core §5.3): the claims of
// the bearer token's user as plain JSON, sub as in the tokens
// (user@tenant). A token with a scope gets the claims its scope allows;
// a Tapis token (no scope) gets every claim known. Errors follow RFC 6750.
func (h *handlers) userinfoOIDC(ctx huma.Context) {
	raw := ctx.Header(HeaderToken)
	if auth := ctx.Header("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		raw = strings.TrimSpace(auth[7:])
	}
	if raw == "" {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="tapis"`)
		writeJSON(ctx, http.StatusUnauthorized, map[string]string{"error": "invalid_request",
			"error_description": "An access token is required in the Authorization header (Bearer)."})
		return
	}
	c := ctx.Context()
	pr, err := h.auth.principal(c, ctx.Host(), raw, "", "", "authenticator")
	if err == nil && pr.AccountType != tenancy.AccountUser {
		err = tenancy.Errorf(oauth2.ErrInvalidToken, "userinfo answers for user tokens only.")
	}
	if err != nil {
		if StatusOf(err) >= http.StatusInternalServerError {
			h.rfcError(ctx, err, false)
			return
		}
		desc := strings.ReplaceAll(err.Error(), `"`, "'")
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="tapis", error="invalid_token", error_description="`+desc+`"`)
		writeJSON(ctx, http.StatusUnauthorized, map[string]string{"error": "invalid_token", "error_description": err.Error()})
		return
	}
	claims, err := h.svc.Tokens.Validate(c, raw, "access")
	if err != nil { // validated a moment ago; only a store failure lands here
		h.rfcError(ctx, err, false)
		return
	}
	profile, email := true, true
	if scope, ok := claims.Raw["scope"].(string); ok {
		profile, email = oauth2.HasScope(scope, oauth2.ScopeProfile), oauth2.HasScope(scope, oauth2.ScopeEmail)
	}
	prof := oauth2.Profile{Username: pr.Username}
	if pp, ok := h.svc.OAuth2.Authenticator().(oauth2.ProfileProvider); ok && (profile || email) {
		if got, err := pp.GetProfile(c, pr.TenantID, pr.Username); err == nil {
			prof = got
		} else if StatusOf(err) >= http.StatusInternalServerError {
			h.log.WarnContext(c, "profile lookup failed; userinfo limited to the username", "tenant", pr.TenantID, "err", err)
		}
	}
	out := oauth2.StandardProfileClaims(prof, pr.Username, profile, email)
	out["sub"], _ = claims.Raw["sub"].(string) // the tokens' sub: user@tenant
	writeJSON(ctx, http.StatusOK, out)
}
