package httpapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// ClientJSON is an OAuth2 client on the wire. client_key is present only in
// the answer to its creation: keys are stored hashed.
type ClientJSON struct {
	ClientID       string `json:"client_id"`
	ClientKey      string `json:"client_key,omitempty" doc:"Shown once, when the client is created."`
	Owner          string `json:"owner"`
	TenantID       string `json:"tenant_id"`
	CallbackURL    string `json:"callback_url"`
	DisplayName    string `json:"display_name"`
	Description    string `json:"description"`
	Active         bool   `json:"active"`
	CreateTime     string `json:"create_time"`
	LastUpdateTime string `json:"last_update_time"`
}

func clientJSON(c oauth2.Client) ClientJSON {
	return ClientJSON{ClientID: c.ClientID, Owner: c.Owner, TenantID: c.TenantID, CallbackURL: c.CallbackURL,
		DisplayName: c.DisplayName, Description: c.Description, Active: c.Active,
		CreateTime: fmtRFC1123(c.Created), LastUpdateTime: fmtRFC1123(c.Updated)}
}

// NewClientJSON is the body of POST /v3/oauth2/clients.
type NewClientJSON struct {
	ClientID    string `json:"client_id,omitempty" maxLength:"80" doc:"Unique in the tenant; generated when absent."`
	ClientKey   string `json:"client_key,omitempty" doc:"Generated (256 random bits) when absent."`
	Public      bool   `json:"public,omitempty" doc:"Register a client without a key (native or browser apps); it must use PKCE."`
	CallbackURL string `json:"callback_url,omitempty"`
	DisplayName string `json:"display_name,omitempty" maxLength:"50"`
	Description string `json:"description,omitempty" maxLength:"70"`
}

// UpdateClientJSON is the body of PUT /v3/oauth2/clients/{client_id}.
type UpdateClientJSON struct {
	CallbackURL *string `json:"callback_url,omitempty"`
	DisplayName *string `json:"display_name,omitempty"`
	ClientID    *string `json:"client_id,omitempty" doc:"Immutable; refused."`
	ClientKey   *string `json:"client_key,omitempty" doc:"Immutable; refused."`
	Description *string `json:"description,omitempty" doc:"Immutable; refused."`
}

// ProfileJSON is a user profile; only username is guaranteed.
type ProfileJSON struct {
	Username    string `json:"username"`
	Email       string `json:"email,omitempty"`
	Name        string `json:"name,omitempty"`
	GivenName   string `json:"given_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	Phone       string `json:"phone,omitempty"`
	MobilePhone string `json:"mobile_phone,omitempty"`
	UID         string `json:"uid,omitempty"`
	DN          string `json:"dn,omitempty"`
	CreateTime  string `json:"create_time,omitempty"`
}

func profileJSON(p oauth2.Profile) ProfileJSON {
	return ProfileJSON{Username: p.Username, Email: p.Email, Name: p.Name, GivenName: p.GivenName, LastName: p.LastName,
		Phone: p.Phone, MobilePhone: p.MobilePhone, UID: p.UID, DN: p.DN, CreateTime: fmtRFC1123(p.CreateTime)}
}

// ClientIDParam names a client in the path.
type ClientIDParam struct {
	ClientID string `path:"client_id" maxLength:"80"`
}

func (h *handlers) registerAuthenticator(api huma.API) {
	p := h.svc.OAuth2
	health := []string{"Health Check"}
	register(api, h, huma.Operation{OperationID: "hello", Method: http.MethodGet, Path: "/v3/oauth2/hello",
		Summary: "Logged connectivity test.", Tags: health}, authIgnored,
		func(context.Context, *struct{}) (*Output[string], error) { return ok("", "Hello."), nil })
	register(api, h, huma.Operation{OperationID: "ready", Method: http.MethodGet, Path: "/v3/oauth2/ready",
		Summary: "Ready when the store answers.", Tags: health}, authIgnored,
		func(ctx context.Context, _ *struct{}) (*Output[string], error) {
			if _, err := p.TenantConfig(ctx, principalOf(ctx).TenantID); err != nil {
				h.log.ErrorContext(ctx, "readiness check failed", "err", err)
				return nil, NewError(http.StatusServiceUnavailable, "Not ready: the store does not answer.")
			}
			return ok("", "Ready."), nil
		})
	register(api, h, huma.Operation{OperationID: "get_server_metadata", Method: http.MethodGet,
		Path: "/v3/oauth2/.well-known/oauth-authorization-server", Summary: "Get the OAuth2 server metadata.",
		Tags: []string{"Metadata"}}, authIgnored,
		func(ctx context.Context, _ *struct{}) (*Output[map[string]any], error) {
			md, err := h.serverMetadata(ctx, principalOf(ctx).TenantID)
			if err != nil {
				return nil, err
			}
			return ok(md, "OAuth2 metadata retrieved successfully."), nil
		})
	h.registerConfig(api)
	h.registerClients(api)
	h.registerOAuthTokens(api)
	h.registerProfiles(api)
}

func (h *handlers) registerClients(api huma.API) {
	p := h.svc.OAuth2
	tags := []string{"Clients"}
	type listIn struct {
		ShowInactive string `query:"show_inactive" doc:"Include inactive (deleted) clients."`
		ListQuery
	}
	register(api, h, huma.Operation{OperationID: "list_clients", Method: http.MethodGet, Path: "/v3/oauth2/clients",
		Summary: "List the caller's clients.", Tags: tags}, authRequired,
		func(ctx context.Context, in *listIn) (*Output[[]ClientJSON], error) {
			list, err := p.ListClients(ctx, principalOf(ctx), truthy(in.ShowInactive))
			if err != nil {
				return nil, err
			}
			out := make([]ClientJSON, 0, len(list))
			for _, c := range page(list, in.ListQuery) {
				out = append(out, clientJSON(c))
			}
			return ok(out, "Clients retrieved successfully."), nil
		})
	type createIn struct{ Body NewClientJSON }
	register(api, h, huma.Operation{OperationID: "create_client", Method: http.MethodPost, Path: "/v3/oauth2/clients",
		Summary: "Create a client.", Tags: tags, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *createIn) (*Output[ClientJSON], error) {
			b := in.Body
			c, key, err := p.CreateClient(ctx, principalOf(ctx), oauth2.NewClient{ClientID: b.ClientID, ClientKey: b.ClientKey,
				Public: b.Public, CallbackURL: b.CallbackURL, DisplayName: b.DisplayName, Description: b.Description})
			if err != nil {
				return nil, err
			}
			out := clientJSON(c)
			out.ClientKey = key
			return created(out, "Client created successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "get_client", Method: http.MethodGet, Path: "/v3/oauth2/clients/{client_id}",
		Summary: "Get a client.", Tags: tags}, authRequired,
		func(ctx context.Context, in *ClientIDParam) (*Output[ClientJSON], error) {
			c, err := p.GetClient(ctx, principalOf(ctx), in.ClientID)
			if err != nil {
				return nil, err
			}
			return ok(clientJSON(c), "Client object retrieved successfully."), nil
		})
	type updateIn struct {
		ClientIDParam
		Body UpdateClientJSON
	}
	register(api, h, huma.Operation{OperationID: "update_client", Method: http.MethodPut, Path: "/v3/oauth2/clients/{client_id}",
		Summary: "Update a client's callback URL or display name.", Tags: tags}, authRequired,
		func(ctx context.Context, in *updateIn) (*Output[ClientJSON], error) {
			b := in.Body
			u := oauth2.ClientUpdate{CallbackURL: b.CallbackURL, DisplayName: b.DisplayName}
			for i, v := range []*string{b.ClientID, b.ClientKey, b.Description} {
				if v != nil {
					u.Immutable = append(u.Immutable, []string{"client_id", "client_key", "description"}[i])
				}
			}
			c, err := p.UpdateClient(ctx, principalOf(ctx), in.ClientID, u)
			if err != nil {
				return nil, err
			}
			return ok(clientJSON(c), "Client updated successfully"), nil
		})
	register(api, h, huma.Operation{OperationID: "delete_client", Method: http.MethodDelete, Path: "/v3/oauth2/clients/{client_id}",
		Summary: "Deactivate a client: it gets no more tokens.", Tags: tags}, authRequired,
		func(ctx context.Context, in *ClientIDParam) (*Output[ClientJSON], error) {
			c, err := p.DeleteClient(ctx, principalOf(ctx), in.ClientID)
			if err != nil {
				return nil, err
			}
			return ok(clientJSON(c), "Client status updated to inactive successfully"), nil
		})
}

func (h *handlers) registerProfiles(api huma.API) {
	p := h.svc.OAuth2
	tags := []string{"Profiles"}
	profiles := func() (oauth2.ProfileProvider, error) {
		pp, okPP := p.Authenticator().(oauth2.ProfileProvider)
		if !okPP {
			return nil, NewError(http.StatusNotImplemented, "This server's authenticator does not provide user profiles.")
		}
		return pp, nil
	}
	register(api, h, huma.Operation{OperationID: "get_userinfo", Method: http.MethodGet, Path: "/v3/oauth2/userinfo",
		Summary: "Get the profile of the token's user.", Tags: tags}, authRequired,
		func(ctx context.Context, _ *struct{}) (*Output[ProfileJSON], error) {
			pr := principalOf(ctx)
			pp, okPP := p.Authenticator().(oauth2.ProfileProvider)
			if !okPP { // as the original for custom identity providers: the username only
				return ok(ProfileJSON{Username: pr.Username}, "User profile retrieved successfully."), nil
			}
			prof, err := pp.GetProfile(ctx, pr.TenantID, pr.Username)
			switch {
			case errors.Is(err, oauth2.ErrNotFound), errors.Is(err, oauth2.ErrNotConfigured):
				// The token vouches for the user; an authenticator in front
				// of the built-in users may know no profile: the username.
				prof = oauth2.Profile{Username: pr.Username}
			case err != nil:
				return nil, err
			}
			return ok(profileJSON(prof), "User profile retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "list_profiles", Method: http.MethodGet, Path: "/v3/oauth2/profiles",
		Summary: "List the user profiles of the tenant.", Tags: tags}, authRequired,
		func(ctx context.Context, in *ListQuery) (*Output[[]ProfileJSON], error) {
			pp, err := profiles()
			if err != nil {
				return nil, err
			}
			limit := in.Limit
			if limit <= 0 || limit > maxListLimit {
				limit = 100
			}
			list, err := pp.ListProfiles(ctx, principalOf(ctx).TenantID, limit, in.Offset)
			if err != nil {
				return nil, err
			}
			out := make([]ProfileJSON, 0, len(list))
			for _, x := range list {
				out = append(out, profileJSON(x))
			}
			res := ok(out, "Profiles retrieved successfully.")
			res.Body.Metadata["offset"] = in.Offset + len(out)
			return res, nil
		})
	type profileIn struct {
		Username string `path:"username" maxLength:"256"`
	}
	register(api, h, huma.Operation{OperationID: "get_profile", Method: http.MethodGet, Path: "/v3/oauth2/profiles/{username}",
		Summary: "Get a user's profile.", Tags: tags}, authRequired,
		func(ctx context.Context, in *profileIn) (*Output[ProfileJSON], error) {
			pp, err := profiles()
			if err != nil {
				return nil, err
			}
			prof, err := pp.GetProfile(ctx, principalOf(ctx).TenantID, in.Username)
			if err != nil {
				return nil, err
			}
			return ok(profileJSON(prof), "User profile retrieved successfully."), nil
		})
}

// tenantBase is a tenant's base URL without trailing slash.
func (h *handlers) tenantBase(ctx context.Context, tenantID string) (string, error) {
	reg, err := h.svc.Tenancy.Registry(ctx)
	if err != nil {
		return "", err
	}
	t, found := reg.Tenant(tenantID)
	if !found {
		return "", tenancy.Errorf(tenancy.ErrNotFound, "Tenant %s not found.", tenantID)
	}
	return strings.TrimRight(t.BaseURL, "/"), nil
}
