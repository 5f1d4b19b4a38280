package httpapi

import (
	"context"
	"net/http"
	"sort"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// TenantJSON is the wire form of a tenant. Like the original, empty optional
// fields are left out; status is upper case.
type TenantJSON struct {
	TenantID                string   `json:"tenant_id,omitempty"`
	BaseURL                 string   `json:"base_url,omitempty"`
	SiteID                  string   `json:"site_id,omitempty"`
	TokenService            string   `json:"token_service,omitempty"`
	SecurityKernel          string   `json:"security_kernel,omitempty"`
	Authenticator           string   `json:"authenticator,omitempty"`
	Owner                   string   `json:"owner,omitempty"`
	AdminUser               string   `json:"admin_user,omitempty"`
	TokenGenServices        []string `json:"token_gen_services,omitempty"`
	ServiceLDAPConnectionID string   `json:"service_ldap_connection_id,omitempty"`
	UserLDAPConnectionID    string   `json:"user_ldap_connection_id,omitempty"`
	PublicKey               string   `json:"public_key,omitempty"`
	Status                  string   `json:"status,omitempty" enum:"DRAFT,ACTIVE,INACTIVE"`
	Description             string   `json:"description,omitempty"`
	CreatedBy               string   `json:"created_by,omitempty"`
	LastUpdatedBy           string   `json:"last_updated_by,omitempty"`
	CreateTime              string   `json:"create_time,omitempty"`
	LastUpdateTime          string   `json:"last_update_time,omitempty"`
}

// NewTenantJSON is the body of POST /v3/tenants.
type NewTenantJSON struct {
	TenantID                string   `json:"tenant_id,omitempty" pattern:"^[a-zA-Z0-9-]*$" doc:"The unique identifier for the tenant."`
	BaseURL                 string   `json:"base_url,omitempty" doc:"The base URL for the tenant."`
	SiteID                  string   `json:"site_id,omitempty" doc:"The site for which the tenant belongs."`
	TokenService            string   `json:"token_service,omitempty"`
	SecurityKernel          string   `json:"security_kernel,omitempty"`
	Authenticator           string   `json:"authenticator,omitempty"`
	Owner                   string   `json:"owner,omitempty" doc:"The email address of the primary owner and contact for the tenant."`
	AdminUser               string   `json:"admin_user,omitempty" doc:"The username of the tenant's admin user."`
	TokenGenServices        []string `json:"token_gen_services,omitempty" doc:"Services that may mint user tokens for this tenant."`
	ServiceLDAPConnectionID string   `json:"service_ldap_connection_id,omitempty"`
	UserLDAPConnectionID    string   `json:"user_ldap_connection_id,omitempty"`
	Status                  string   `json:"status,omitempty" doc:"draft, active or inactive; defaults to active."`
	PublicKey               string   `json:"public_key,omitempty" doc:"Only for tenants whose tokens are signed elsewhere: their verification key. Omit it and the server generates the tenant's signing keys."`
	Description             string   `json:"description,omitempty"`
}

// UpdateTenantJSON is the body of PUT /v3/tenants/{tenant_id}: only the fields
// given change; an empty string clears an optional field.
type UpdateTenantJSON struct {
	TokenService            *string   `json:"token_service,omitempty"`
	SecurityKernel          *string   `json:"security_kernel,omitempty"`
	Authenticator           *string   `json:"authenticator,omitempty"`
	Owner                   *string   `json:"owner,omitempty"`
	AdminUser               *string   `json:"admin_user,omitempty"`
	TokenGenServices        *[]string `json:"token_gen_services,omitempty"`
	ServiceLDAPConnectionID *string   `json:"service_ldap_connection_id,omitempty"`
	UserLDAPConnectionID    *string   `json:"user_ldap_connection_id,omitempty"`
	PublicKey               *string   `json:"public_key,omitempty" doc:"Refused: keys are rotated with PUT /v3/tokens/keys."`
	Status                  *string   `json:"status,omitempty" doc:"draft, active or inactive."`
	Description             *string   `json:"description,omitempty"`
	TenantID                *string   `json:"tenant_id,omitempty" doc:"Immutable; refused."`
	BaseURL                 *string   `json:"base_url,omitempty" doc:"Immutable; refused."`
	SiteID                  *string   `json:"site_id,omitempty" doc:"Immutable; refused."`
}

// TenantHistoryJSON is one record of a tenant's history.
type TenantHistoryJSON struct {
	TenantID   string                    `json:"tenant_id"`
	UpdateTime string                    `json:"update_time"`
	UpdatedBy  string                    `json:"updated_by"`
	Updates    map[string]tenancy.Change `json:"updates"`
}

func tenantJSON(t tenancy.Tenant) TenantJSON {
	return TenantJSON{TenantID: t.ID, BaseURL: t.BaseURL, SiteID: t.SiteID, TokenService: t.TokenService,
		SecurityKernel: t.SecurityKernel, Authenticator: t.Authenticator, Owner: t.Owner, AdminUser: t.AdminUser,
		TokenGenServices: t.TokenGenServices, ServiceLDAPConnectionID: t.ServiceLDAPConnectionID,
		UserLDAPConnectionID: t.UserLDAPConnectionID, PublicKey: t.PublicKey, Status: strings.ToUpper(string(t.Status)),
		Description: t.Description, CreatedBy: t.CreatedBy, LastUpdatedBy: t.LastUpdatedBy,
		CreateTime: fmtRegistry(t.CreateTime), LastUpdateTime: fmtRegistry(t.LastUpdateTime)}
}

// tenantFields maps selectable names to the field they keep.
var tenantFields = map[string]func(dst, src *TenantJSON){
	"tenant_id":                  func(d, s *TenantJSON) { d.TenantID = s.TenantID },
	"base_url":                   func(d, s *TenantJSON) { d.BaseURL = s.BaseURL },
	"site_id":                    func(d, s *TenantJSON) { d.SiteID = s.SiteID },
	"token_service":              func(d, s *TenantJSON) { d.TokenService = s.TokenService },
	"security_kernel":            func(d, s *TenantJSON) { d.SecurityKernel = s.SecurityKernel },
	"authenticator":              func(d, s *TenantJSON) { d.Authenticator = s.Authenticator },
	"owner":                      func(d, s *TenantJSON) { d.Owner = s.Owner },
	"admin_user":                 func(d, s *TenantJSON) { d.AdminUser = s.AdminUser },
	"token_gen_services":         func(d, s *TenantJSON) { d.TokenGenServices = s.TokenGenServices },
	"service_ldap_connection_id": func(d, s *TenantJSON) { d.ServiceLDAPConnectionID = s.ServiceLDAPConnectionID },
	"user_ldap_connection_id":    func(d, s *TenantJSON) { d.UserLDAPConnectionID = s.UserLDAPConnectionID },
	"public_key":                 func(d, s *TenantJSON) { d.PublicKey = s.PublicKey },
	"status":                     func(d, s *TenantJSON) { d.Status = s.Status },
	"description":                func(d, s *TenantJSON) { d.Description = s.Description },
	"created_by":                 func(d, s *TenantJSON) { d.CreatedBy = s.CreatedBy },
	"last_updated_by":            func(d, s *TenantJSON) { d.LastUpdatedBy = s.LastUpdatedBy },
	"create_time":                func(d, s *TenantJSON) { d.CreateTime = s.CreateTime },
	"last_update_time":           func(d, s *TenantJSON) { d.LastUpdateTime = s.LastUpdateTime },
}

// selectTenantFields parses select=a,b,c; unknown names are a client error.
func selectTenantFields(sel string) ([]func(dst, src *TenantJSON), error) {
	if strings.TrimSpace(sel) == "" {
		return nil, nil
	}
	var out []func(dst, src *TenantJSON)
	var bad []string
	for _, name := range strings.Split(sel, ",") {
		name = strings.TrimSpace(name)
		f, ok := tenantFields[name]
		if !ok {
			bad = append(bad, name)
			continue
		}
		out = append(out, f)
	}
	if len(bad) > 0 {
		names := make([]string, 0, len(tenantFields))
		for k := range tenantFields {
			names = append(names, k)
		}
		sort.Strings(names)
		return nil, tenancy.Errorf(tenancy.ErrInvalid, "Invalid select: %s not selectable; selectable fields: %s.", strings.Join(bad, ", "), strings.Join(names, ", "))
	}
	return out, nil
}

func (h *handlers) registerTenants(api huma.API) {
	tags := []string{"Tenants"}
	type listIn struct {
		ListQuery
		ShowDraft    string `query:"show_draft" doc:"Include DRAFT tenants."`
		ShowInactive string `query:"show_inactive" doc:"Include INACTIVE tenants."`
		Select       string `query:"select" doc:"Comma-separated list of fields to return."`
	}
	register(api, h, huma.Operation{OperationID: "list_tenants", Method: http.MethodGet, Path: "/v3/tenants",
		Summary: "List tenants.", Tags: tags}, authOptional,
		func(ctx context.Context, in *listIn) (*Output[[]TenantJSON], error) {
			sel, err := selectTenantFields(in.Select)
			if err != nil {
				return nil, err
			}
			list, err := h.svc.Tenancy.ListTenants(ctx, tenancy.TenantFilter{ShowDraft: truthy(in.ShowDraft), ShowInactive: truthy(in.ShowInactive)})
			if err != nil {
				return nil, err
			}
			out := []TenantJSON{}
			for _, t := range page(list, in.ListQuery) {
				full := tenantJSON(t)
				if sel == nil {
					out = append(out, full)
					continue
				}
				var picked TenantJSON
				for _, f := range sel {
					f(&picked, &full)
				}
				out = append(out, picked)
			}
			return ok(out, "Tenants retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "create_tenant", Method: http.MethodPost, Path: "/v3/tenants",
		Summary: "Create a tenant.", Tags: tags, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *struct{ Body NewTenantJSON }) (*Output[TenantJSON], error) {
			b := in.Body
			t, err := h.svc.Tenancy.CreateTenant(ctx, principalOf(ctx), tenancy.Tenant{ID: b.TenantID, BaseURL: b.BaseURL,
				SiteID: b.SiteID, TokenService: b.TokenService, SecurityKernel: b.SecurityKernel, Authenticator: b.Authenticator,
				Owner: b.Owner, AdminUser: b.AdminUser, TokenGenServices: b.TokenGenServices,
				ServiceLDAPConnectionID: b.ServiceLDAPConnectionID, UserLDAPConnectionID: b.UserLDAPConnectionID,
				Status: tenancy.TenantStatus(b.Status), PublicKey: b.PublicKey, Description: b.Description})
			if err != nil {
				return nil, err
			}
			return created(tenantJSON(t), "Tenant created successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "get_tenant", Method: http.MethodGet, Path: "/v3/tenants/{tenant_id}",
		Summary: "Get tenant details", Tags: tags}, authOptional,
		func(ctx context.Context, in *TenantIDParam) (*Output[TenantJSON], error) {
			t, err := h.svc.Tenancy.GetTenant(ctx, in.TenantID)
			if err != nil {
				return nil, err
			}
			return ok(tenantJSON(t), "Tenant retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "update_tenant", Method: http.MethodPut, Path: "/v3/tenants/{tenant_id}",
		Summary: "Update a tenant", Tags: tags}, authRequired,
		func(ctx context.Context, in *struct {
			TenantIDParam
			Body UpdateTenantJSON
		}) (*Output[TenantJSON], error) {
			b := in.Body
			u := tenancy.TenantUpdate{TokenService: b.TokenService, SecurityKernel: b.SecurityKernel,
				Authenticator: b.Authenticator, Owner: b.Owner, AdminUser: b.AdminUser, TokenGenServices: b.TokenGenServices,
				ServiceLDAPConnectionID: b.ServiceLDAPConnectionID, UserLDAPConnectionID: b.UserLDAPConnectionID,
				PublicKey: b.PublicKey, Description: b.Description}
			if b.Status != nil {
				st := tenancy.TenantStatus(*b.Status)
				u.Status = &st
			}
			for name, v := range map[string]*string{"tenant_id": b.TenantID, "base_url": b.BaseURL, "site_id": b.SiteID} {
				if v != nil {
					u.Immutable = append(u.Immutable, name)
				}
			}
			sort.Strings(u.Immutable)
			t, err := h.svc.Tenancy.UpdateTenant(ctx, principalOf(ctx), in.TenantID, u)
			if err != nil {
				return nil, err
			}
			h.svc.Tokens.ForgetCachedTokens() // a status change must reach validation at once
			return ok(tenantJSON(t), "Tenant updated successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "delete_tenant", Method: http.MethodDelete, Path: "/v3/tenants/{tenant_id}",
		Summary: "Delete a tenant (not supported)", Description: "Tenants are deactivated (status inactive), never deleted; this always answers 400.",
		Tags: tags}, authOptional,
		func(ctx context.Context, in *TenantIDParam) (*Output[Null], error) {
			return nil, h.svc.Tenancy.DeleteTenant(ctx, principalOf(ctx), in.TenantID)
		})
	register(api, h, huma.Operation{OperationID: "get_tenant_history", Method: http.MethodGet, Path: "/v3/tenants/{tenant_id}/history",
		Summary: "Get tenant history", Tags: tags}, authOptional,
		func(ctx context.Context, in *TenantIDParam) (*Output[[]TenantHistoryJSON], error) {
			hist, err := h.svc.Tenancy.TenantHistory(ctx, in.TenantID)
			if err != nil {
				return nil, err
			}
			out := []TenantHistoryJSON{}
			for _, r := range hist {
				out = append(out, TenantHistoryJSON{TenantID: r.TenantID, UpdateTime: fmtRegistry(r.UpdateTime), UpdatedBy: r.UpdatedBy, Updates: r.Updates})
			}
			return ok(out, "Tenant history retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "get_tenant_jwks", Method: http.MethodGet, Path: "/v3/tenants/{tenant_id}/jwks",
		Summary:     "Get a tenant's token verification keys (JWKS)",
		Description: "A JSON Web Key Set (RFC 7517) of the keys that currently verify the tenant's tokens. Not part of the Tapis spec; plain JWKS, not the envelope.",
		Tags:        tags}, authOptional,
		func(ctx context.Context, in *TenantIDParam) (*struct{ Body oauth2.JWKS }, error) {
			jwks, err := h.svc.Tokens.JWKS(ctx, in.TenantID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body oauth2.JWKS }{jwks}, nil
		})
}

// TenantIDParam is the tenant_id path parameter.
type TenantIDParam struct {
	TenantID string `path:"tenant_id" doc:"Unique ID of the tenant"`
}
