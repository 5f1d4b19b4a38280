package httpapi

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// NewTokenRequestJSON is the body of POST /v3/tokens.
type NewTokenRequestJSON struct {
	AccountType           string         `json:"account_type,omitempty" doc:"user or service: the type of account (user or service) represented by the token."`
	TokenTenantID         string         `json:"token_tenant_id,omitempty" doc:"The tenant associated with the token to be generated."`
	TokenUsername         string         `json:"token_username,omitempty" doc:"The username associated with the token to be generated."`
	TargetSiteID          string         `json:"target_site_id,omitempty" doc:"The site where a service token will be used (required for service tokens)."`
	DelegationToken       bool           `json:"delegation_token,omitempty"`
	DelegationSubTenantID string         `json:"delegation_sub_tenant_id,omitempty"`
	DelegationSubUsername string         `json:"delegation_sub_username,omitempty"`
	AccessTokenTTL        int64          `json:"access_token_ttl,omitempty" doc:"The TTL, in seconds, for the access token; capped by the server's maximum."`
	GenerateRefreshToken  bool           `json:"generate_refresh_token,omitempty"`
	RefreshTokenTTL       int64          `json:"refresh_token_ttl,omitempty" doc:"The TTL, in seconds, for the refresh token; capped by the server's maximum."`
	Claims                map[string]any `json:"claims,omitempty" doc:"Additional claims; standard Tapis claims cannot be set."`
}

// AccessTokenJSON is the access half of a token response.
type AccessTokenJSON struct {
	AccessToken string `json:"access_token"`
	ExpiresAt   string `json:"expires_at"`
	ExpiresIn   int64  `json:"expires_in"`
	JTI         string `json:"jti"`
}

// RefreshTokenJSON is the refresh half of a token response.
type RefreshTokenJSON struct {
	RefreshToken string `json:"refresh_token"`
	ExpiresAt    string `json:"expires_at"`
	ExpiresIn    int64  `json:"expires_in"`
	JTI          string `json:"jti"`
}

// TokenResponseJSON is the result of a token request.
type TokenResponseJSON struct {
	AccessToken  AccessTokenJSON   `json:"access_token"`
	RefreshToken *RefreshTokenJSON `json:"refresh_token,omitempty"`
}

// TokenResponse renders a token pair as the Tokens API does.
func TokenResponse(p oauth2.TokenPair) TokenResponseJSON {
	out := TokenResponseJSON{AccessToken: AccessTokenJSON{AccessToken: p.Access.Raw, JTI: p.Access.JTI,
		ExpiresIn: p.Access.ExpiresIn, ExpiresAt: p.Access.ExpiresAt.UTC().Format(expiresAtTime)}}
	if p.Refresh != nil {
		out.RefreshToken = &RefreshTokenJSON{RefreshToken: p.Refresh.Raw, JTI: p.Refresh.JTI,
			ExpiresIn: p.Refresh.ExpiresIn, ExpiresAt: p.Refresh.ExpiresAt.UTC().Format(expiresAtTime)}
	}
	return out
}

// parseBasic decodes an HTTP Basic Authorization header.
func parseBasic(header string) (user, pass string, ok bool) {
	const prefix = "basic "
	if len(header) < len(prefix) || !strings.EqualFold(header[:len(prefix)], prefix) {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(header[len(prefix):]))
	if err != nil {
		return "", "", false
	}
	user, pass, ok = strings.Cut(string(raw), ":")
	if badText(user, true) != "" || badText(pass, false) != "" {
		return "", "", false // never reaches a store: the same answer as bad credentials
	}
	return user, pass, ok
}

func (h *handlers) registerTokens(api huma.API) {
	tags := []string{"Tokens"}
	health := []string{"Health Check"}
	register(api, h, huma.Operation{OperationID: "hello", Method: http.MethodGet, Path: "/v3/tokens/hello",
		Summary: "Logged connectivity test.", Tags: health}, authIgnored,
		func(context.Context, *struct{}) (*Output[string], error) {
			return ok("", "Hello."), nil
		})
	register(api, h, huma.Operation{OperationID: "ready", Method: http.MethodGet, Path: "/v3/tokens/ready",
		Summary: "Ready when the store answers.", Tags: health}, authIgnored,
		func(ctx context.Context, _ *struct{}) (*Output[string], error) {
			if _, err := h.svc.Tenancy.Reload(ctx); err != nil {
				h.log.ErrorContext(ctx, "readiness check failed", "err", err)
				return nil, NewError(http.StatusServiceUnavailable, "Not ready: the store does not answer.")
			}
			if h.opt.Ready != nil {
				if err := h.opt.Ready(ctx); err != nil {
					return nil, NewError(http.StatusServiceUnavailable, "Not ready: "+err.Error()+".")
				}
			}
			return ok("", "Ready."), nil
		})
	type createIn struct {
		Authorization string `header:"Authorization" doc:"HTTP Basic credentials of a service account (instead of X-Tapis-Token)."`
		Body          NewTokenRequestJSON
	}
	register(api, h, huma.Operation{OperationID: "create_token", Method: http.MethodPost, Path: "/v3/tokens",
		Summary: "Generate a token.", Tags: tags, DefaultStatus: http.StatusCreated,
		Security:    []map[string][]string{{securityScheme: {}}, {"basicAuth": {}}},
		Middlewares: huma.Middlewares{h.remoteAddrMiddleware}}, authOptional,
		func(ctx context.Context, in *createIn) (*Output[TokenResponseJSON], error) {
			p := principalOf(ctx)
			caller := oauth2.Caller{Principal: p}
			if basic := len(in.Authorization) >= 6 && strings.EqualFold(in.Authorization[:6], "basic "); basic || in.Authorization != "" && !p.Authenticated() {
				if p.Authenticated() {
					return nil, tenancy.Errorf(tenancy.ErrInvalid, "Invalid request: both X-Tapis-Token and HTTP Basic Auth headers set; please set only one.")
				}
				user, pass, okBasic := parseBasic(in.Authorization)
				if !okBasic {
					return nil, tenancy.Errorf(oauth2.ErrInvalidCredentials, "Invalid service account/password combination.")
				}
				caller = oauth2.Caller{Basic: true, Username: user, Password: pass, Addr: remoteAddrOf(ctx)}
			}
			b := in.Body
			pair, err := h.svc.Tokens.CreateToken(ctx, caller, oauth2.CreateTokenRequest{
				AccountType: tenancy.AccountType(b.AccountType), TokenTenantID: b.TokenTenantID, TokenUsername: b.TokenUsername,
				TargetSiteID: b.TargetSiteID, DelegationToken: b.DelegationToken, DelegationSubTenantID: b.DelegationSubTenantID,
				DelegationSubUsername: b.DelegationSubUsername, AccessTokenTTL: b.AccessTokenTTL,
				GenerateRefreshToken: b.GenerateRefreshToken, RefreshTokenTTL: b.RefreshTokenTTL, Claims: b.Claims})
			if err != nil {
				return nil, err
			}
			return created(TokenResponse(pair), "Token generation successful."), nil
		})
	type refreshIn struct {
		Body struct {
			RefreshToken string `json:"refresh_token,omitempty" doc:"The refresh token being used to get a new access token."`
		}
	}
	register(api, h, huma.Operation{OperationID: "refresh_token", Method: http.MethodPut, Path: "/v3/tokens",
		Summary: "Generate a new token from a refresh token.", Tags: tags, DefaultStatus: http.StatusCreated}, authIgnored,
		func(ctx context.Context, in *refreshIn) (*Output[TokenResponseJSON], error) {
			if in.Body.RefreshToken == "" {
				return nil, tenancy.Errorf(tenancy.ErrInvalid, "Invalid PUT data: refresh_token is required.")
			}
			pair, err := h.svc.Tokens.Refresh(ctx, in.Body.RefreshToken)
			if err != nil {
				return nil, err
			}
			return created(TokenResponse(pair), "Token generation successful."), nil
		})
	type revokeIn struct {
		Body struct {
			Token string `json:"token,omitempty" doc:"The Tapis JWT to revoke."`
		}
	}
	register(api, h, huma.Operation{OperationID: "revoke_token", Method: http.MethodPost, Path: "/v3/tokens/revoke",
		Summary: "Revoke a token.", Tags: tags}, authIgnored,
		func(ctx context.Context, in *revokeIn) (*Output[string], error) {
			if in.Body.Token == "" {
				return nil, tenancy.Errorf(tenancy.ErrInvalid, "Invalid POST data: token is required.")
			}
			jti, err := h.svc.Tokens.Revoke(ctx, in.Body.Token)
			if err != nil {
				return nil, err
			}
			return ok("", "Token "+jti+" has been revoked."), nil
		})
	type keysIn struct {
		Body struct {
			TenantID string `json:"tenant_id,omitempty" doc:"The tenant to generate the new signing key pair for."`
		}
	}
	type keysOut struct {
		PublicKey string `json:"public_key"`
	}
	register(api, h, huma.Operation{OperationID: "update_keys", Method: http.MethodPut, Path: "/v3/tokens/keys",
		Summary: "Update the signing key pair for a tenant.", Tags: []string{"Tokens", "Keys"}, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *keysIn) (*Output[keysOut], error) {
			if in.Body.TenantID == "" {
				return nil, tenancy.Errorf(tenancy.ErrInvalid, "Invalid PUT data: tenant_id is required.")
			}
			pub, err := h.svc.Tokens.RotateKeys(ctx, principalOf(ctx), in.Body.TenantID)
			if err != nil {
				return nil, err
			}
			return created(keysOut{PublicKey: pub}, "Tenant signing keys update successful."), nil
		})
}
