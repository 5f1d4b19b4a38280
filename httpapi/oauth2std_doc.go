package httpapi

import (
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
)

// The standard OAuth2/OIDC endpoints are plain handlers (their shapes are
// the RFCs', not the Tapis envelope), so huma does not document them by
// itself: documentStandardOAuth adds them to the served OpenAPI document,
// with operation ids of their own (none of the Tapis specs' ids).

const tagStandard = "Standard OAuth2 and OpenID Connect"

// TokenFormRFC is the form body of POST /v3/oauth2/token (RFC 6749 §4).
type TokenFormRFC struct {
	GrantType    string `json:"grant_type" enum:"password,authorization_code,refresh_token,urn:ietf:params:oauth:grant-type:device_code,device_code"`
	Username     string `json:"username,omitempty" doc:"password grant"`
	Password     string `json:"password,omitempty" doc:"password grant"`
	Code         string `json:"code,omitempty" doc:"authorization_code grant"`
	RedirectURI  string `json:"redirect_uri,omitempty" doc:"authorization_code grant"`
	CodeVerifier string `json:"code_verifier,omitempty" doc:"PKCE (RFC 7636)"`
	RefreshToken string `json:"refresh_token,omitempty" doc:"refresh_token grant"`
	DeviceCode   string `json:"device_code,omitempty" doc:"device_code grant (RFC 8628)"`
	Scope        string `json:"scope,omitempty" doc:"openid, profile, email, offline_access; others are ignored"`
	ClientID     string `json:"client_id,omitempty" doc:"client_secret_post, or a public client"`
	ClientSecret string `json:"client_secret,omitempty" doc:"client_secret_post (client_key is accepted too)"`
}

// TokenFormToken is the form body of revocation and introspection.
type TokenFormToken struct {
	Token         string `json:"token"`
	TokenTypeHint string `json:"token_type_hint,omitempty"`
	ClientID      string `json:"client_id,omitempty"`
	ClientSecret  string `json:"client_secret,omitempty"`
}

// DeviceFormRFC is the form body of POST /v3/oauth2/device_authorization.
type DeviceFormRFC struct {
	ClientID string `json:"client_id"`
	Scope    string `json:"scope,omitempty" doc:"Ignored: device tokens carry no scope."`
}

// DeviceAuthorizationRFC is the RFC 8628 §3.2 answer.
type DeviceAuthorizationRFC struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in" doc:"Seconds."`
	Interval                int64  `json:"interval" doc:"Seconds between polls."`
}

// ErrorRFC is an RFC 6749 §5.2 error.
type ErrorRFC struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description,omitempty"`
}

// IntrospectionRFC is the RFC 7662 §2.2 answer: active, and for an active
// token its claims (the Tapis ones included).
type IntrospectionRFC struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Username  string `json:"username,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Sub       string `json:"sub,omitempty"`
	Aud       string `json:"aud,omitempty" doc:"A string, or an array of strings."`
	Iss       string `json:"iss,omitempty"`
	JTI       string `json:"jti,omitempty"`
}

// UserinfoOIDC is the OpenID Connect userinfo answer.
type UserinfoOIDC struct {
	Sub               string `json:"sub" doc:"user@tenant, as in the tokens"`
	PreferredUsername string `json:"preferred_username,omitempty"`
	Name              string `json:"name,omitempty"`
	GivenName         string `json:"given_name,omitempty"`
	FamilyName        string `json:"family_name,omitempty"`
	PhoneNumber       string `json:"phone_number,omitempty"`
	Email             string `json:"email,omitempty"`
}

func documentStandardOAuth(api huma.API) {
	oapi := api.OpenAPI()
	if oapi.Components.SecuritySchemes == nil {
		oapi.Components.SecuritySchemes = map[string]*huma.SecurityScheme{}
	}
	oapi.Components.SecuritySchemes["clientBasic"] = &huma.SecurityScheme{Type: "http", Scheme: "basic",
		Description: "An OAuth2 client's id and key (RFC 6749 §2.3.1, form-encoded)."}
	oapi.Components.SecuritySchemes["bearerAuth"] = &huma.SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT",
		Description: "An access token (RFC 6750)."}
	schema := func(v any) *huma.Schema {
		return oapi.Components.Schemas.Schema(reflect.TypeOf(v), true, "")
	}
	form := func(v any) *huma.RequestBody {
		return &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/x-www-form-urlencoded": {Schema: schema(v)}}}
	}
	jsonResp := func(desc string, v any) *huma.Response {
		return &huma.Response{Description: desc, Content: map[string]*huma.MediaType{"application/json": {Schema: schema(v)}}}
	}
	rfcErr := jsonResp("An RFC 6749 error.", ErrorRFC{})
	ops := []*huma.Operation{
		{OperationID: "oauth2_token", Method: http.MethodPost, Path: "/v3/oauth2/token",
			Summary:     "Token endpoint (RFC 6749): every grant of /v3/oauth2/tokens in the standard shape.",
			Description: "scope=openid on the authorization_code grant (and its refresh) adds an id_token.",
			RequestBody: form(TokenFormRFC{}), Security: []map[string][]string{{}, {"clientBasic": {}}},
			Responses: map[string]*huma.Response{"200": jsonResp("Tokens.", rfcTokenResponse{}), "400": rfcErr, "401": rfcErr, "429": rfcErr}},
		{OperationID: "oauth2_revoke", Method: http.MethodPost, Path: "/v3/oauth2/revoke",
			Summary:     "Revoke a token (RFC 7009); 200 whatever the token was.",
			RequestBody: form(TokenFormToken{}),
			Responses:   map[string]*huma.Response{"200": {Description: "Revoked, or not a live token."}, "400": rfcErr}},
		{OperationID: "oauth2_introspect", Method: http.MethodPost, Path: "/v3/oauth2/introspect",
			Summary:     "Introspect an access token (RFC 7662), for a confidential client of the tenant.",
			RequestBody: form(TokenFormToken{}), Security: []map[string][]string{{"clientBasic": {}}, {}},
			Responses: map[string]*huma.Response{"200": jsonResp("active, and the claims of an active token.", IntrospectionRFC{}),
				"400": rfcErr, "401": rfcErr}},
		{OperationID: "oauth2_device_authorization", Method: http.MethodPost, Path: "/v3/oauth2/device_authorization",
			Summary:     "Device authorization request (RFC 8628 §3.1).",
			RequestBody: form(DeviceFormRFC{}),
			Responses:   map[string]*huma.Response{"200": jsonResp("A device code.", DeviceAuthorizationRFC{}), "400": rfcErr, "429": rfcErr}},
		{OperationID: "oauth2_jwks", Method: http.MethodGet, Path: "/v3/oauth2/jwks",
			Summary:   "The tenant's token verification keys (RFC 7517).",
			Responses: map[string]*huma.Response{"200": jsonResp("A JWK set.", oauth2.JWKS{})}},
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		id := "oidc_userinfo"
		if method == http.MethodPost {
			id = "oidc_userinfo_post"
		}
		ops = append(ops, &huma.Operation{OperationID: id, Method: method, Path: pathUserinfoOIDC,
			Summary:  "OpenID Connect userinfo: the token user's claims, plain JSON.",
			Security: []map[string][]string{{"bearerAuth": {}}},
			Responses: map[string]*huma.Response{"200": jsonResp("Claims.", UserinfoOIDC{}),
				"401": jsonResp("No or an invalid token (RFC 6750).", ErrorRFC{})}})
	}
	ids := map[string]string{
		"/.well-known/openid-configuration":                 "oidc_discovery",
		"/.well-known/oauth-authorization-server":           "oauth2_server_metadata",
		"/v3/oauth2/.well-known/openid-configuration":       "oidc_discovery_authenticator",
		"/.well-known/oauth-authorization-server/v3/oauth2": "oauth2_server_metadata_authenticator",
	}
	for _, path := range discoveryPaths {
		ops = append(ops, &huma.Operation{OperationID: ids[path], Method: http.MethodGet, Path: path,
			Summary:   "Discovery (OpenID Connect Discovery 1.0, RFC 8414) of the request's tenant.",
			Responses: map[string]*huma.Response{"200": jsonResp("The metadata.", DiscoveryJSON{})}})
	}
	for _, op := range ops {
		op.Tags = []string{tagStandard}
		oapi.AddOperation(op)
	}
}
