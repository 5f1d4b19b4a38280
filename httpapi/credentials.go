package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/systems"
)

// CredentialOutJSON is a credential read back by the files or jobs service.
type CredentialOutJSON struct {
	AuthnMethod  string  `json:"authnMethod"`
	LoginUser    *string `json:"loginUser"`
	Password     *string `json:"password"`
	PrivateKey   *string `json:"privateKey"`
	PublicKey    *string `json:"publicKey"`
	AccessKey    *string `json:"accessKey"`
	AccessSecret *string `json:"accessSecret"`
	AccessToken  *string `json:"accessToken"`
	RefreshToken *string `json:"refreshToken"`
	Certificate  *string `json:"certificate"`
}

func credentialOut(c *systems.Credential, m systems.AuthnMethod) *CredentialOutJSON {
	if c == nil {
		return nil
	}
	return &CredentialOutJSON{AuthnMethod: string(m), LoginUser: nullable(c.LoginUser), Password: nullable(c.Password),
		PrivateKey: nullable(c.PrivateKey), PublicKey: nullable(c.PublicKey), AccessKey: nullable(c.AccessKey),
		AccessSecret: nullable(c.AccessSecret), AccessToken: nullable(c.AccessToken), RefreshToken: nullable(c.RefreshToken)}
}

func (h *handlers) registerCredentials(api huma.API) {
	svc := h.svc.Systems
	tags := []string{"Credentials"}
	type methodIn struct {
		PermsPathParams
		AuthnMethod string `query:"authnMethod" doc:"Authentication method (default: the system's)."`
	}
	register(api, h, huma.Operation{OperationID: "getUserCredential", Method: http.MethodGet, Path: "/v3/systems/credential/{systemId}/user/{userName}",
		Summary: "Read a user's credential (files and jobs services only).", Tags: tags}, authRequired,
		func(ctx context.Context, in *methodIn) (*SysOutput[*CredentialOutJSON], error) {
			c, m, err := svc.GetUserCredential(ctx, principalOf(ctx), in.SystemID, in.UserName, systems.AuthnMethod(in.AuthnMethod))
			if err != nil {
				return nil, err
			}
			return sysOK(credentialOut(&c, m), "TAPIS_FOUND Credential found for user "+in.UserName+" on system "+in.SystemID), nil
		})
	type setIn struct {
		PermsPathParams
		SkipCredentialCheck bool `query:"skipCredentialCheck" doc:"Store without checking against the host."`
		CreateTmsKeys       bool `query:"createTmsKeys" doc:"Not supported here."`
		Body                CredentialJSON
	}
	register(api, h, huma.Operation{OperationID: "createUserCredential", Method: http.MethodPost, Path: "/v3/systems/credential/{systemId}/user/{userName}",
		Summary: "Store a user's credential for a system (checked against the host).", Tags: tags}, authRequired,
		func(ctx context.Context, in *setIn) (*SysOutput[Null], error) {
			if in.CreateTmsKeys {
				return nil, NewError(http.StatusNotImplemented, "SYSAPI_TMS_NOT_CONFIGURED The Trust Manager System is not configured on this server.")
			}
			if err := svc.SetUserCredential(ctx, principalOf(ctx), in.SystemID, in.UserName, *in.Body.domain(), in.SkipCredentialCheck); err != nil {
				return nil, err
			}
			return sysOK(Null{}, "SYSAPI_CRED_UPDATED Credential stored for user "+in.UserName+" on system "+in.SystemID), nil
		})
	register(api, h, huma.Operation{OperationID: "removeUserCredential", Method: http.MethodDelete, Path: "/v3/systems/credential/{systemId}/user/{userName}",
		Summary: "Delete a user's credential for a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *PermsPathParams) (*SysOutput[Null], error) {
			if err := svc.RemoveUserCredential(ctx, principalOf(ctx), in.SystemID, in.UserName); err != nil {
				return nil, err
			}
			return sysOK(Null{}, "SYSAPI_CRED_DELETED Credential deleted for user "+in.UserName+" on system "+in.SystemID), nil
		})
	register(api, h, huma.Operation{OperationID: "checkUserCredential", Method: http.MethodPost, Path: "/v3/systems/credential/{systemId}/user/{userName}/check",
		Summary: "Check a user's stored credential against the host.", Tags: tags}, authRequired,
		func(ctx context.Context, in *methodIn) (*SysOutput[Null], error) {
			if err := svc.CheckUserCredential(ctx, principalOf(ctx), in.SystemID, in.UserName, systems.AuthnMethod(in.AuthnMethod)); err != nil {
				return nil, err
			}
			return sysOK(Null{}, "SYSAPI_CRED_OK The credential of user "+in.UserName+" opens system "+in.SystemID), nil
		})
	type authURLOut struct {
		URL       string `json:"url"`
		SessionID string `json:"sessionId"`
		SystemID  string `json:"systemId"`
	}
	register(api, h, huma.Operation{OperationID: "getGlobusAuthUrl", Method: http.MethodGet, Path: "/v3/systems/credential/{systemId}/globus/authUrl",
		Summary: "Start a Globus authorization for a GLOBUS system (needs a Globus client).", Tags: tags}, authRequired,
		func(ctx context.Context, in *SystemIDParam) (*SysOutput[authURLOut], error) {
			u, session, err := svc.GlobusAuthURL(ctx, principalOf(ctx), in.SystemID)
			if err != nil {
				return nil, err
			}
			return sysOK(authURLOut{URL: u, SessionID: session, SystemID: in.SystemID}, "TAPIS_FOUND Globus authorization URL for system "+in.SystemID), nil
		})
	type globusIn struct {
		PermsPathParams
		AuthCode  string `path:"authCode" maxLength:"2048"`
		SessionID string `path:"sessionId" maxLength:"256"`
	}
	register(api, h, huma.Operation{OperationID: "generateGlobusTokens", Method: http.MethodPost,
		Path:    "/v3/systems/credential/{systemId}/user/{userName}/globus/tokens/{authCode}/{sessionId}",
		Summary: "Exchange a Globus code for tokens stored as the user's credential (needs a Globus client).", Tags: tags}, authRequired,
		func(ctx context.Context, in *globusIn) (*SysOutput[Null], error) {
			if err := svc.GenerateGlobusTokens(ctx, principalOf(ctx), in.SystemID, in.UserName, in.AuthCode, in.SessionID); err != nil {
				return nil, err
			}
			return sysOK(Null{}, "SYSAPI_CRED_UPDATED Globus tokens stored for user "+in.UserName+" on system "+in.SystemID), nil
		})
}
