package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/tenancy"
)

// SiteJSON is the wire form of a site.
type SiteJSON struct {
	SiteID                string   `json:"site_id"`
	BaseURL               string   `json:"base_url,omitempty"`
	Primary               bool     `json:"primary"`
	Services              []string `json:"services"`
	TenantBaseURLTemplate string   `json:"tenant_base_url_template,omitempty"`
	SiteAdminTenantID     string   `json:"site_admin_tenant_id"`
	CreateTime            string   `json:"create_time,omitempty"`
	LastUpdateTime        string   `json:"last_update_time,omitempty"`
	CreatedBy             string   `json:"created_by,omitempty"`
	LastUpdatedBy         string   `json:"last_updated_by,omitempty"`
}

// NewSiteJSON is the body of POST /v3/sites.
type NewSiteJSON struct {
	SiteID                string   `json:"site_id,omitempty" doc:"The unique identifier for the site."`
	BaseURL               string   `json:"base_url,omitempty" doc:"The base URL for the site."`
	Primary               bool     `json:"primary,omitempty" doc:"Whether the site is the primary site."`
	Services              []string `json:"services,omitempty" doc:"The list of services for this site."`
	TenantBaseURLTemplate string   `json:"tenant_base_url_template,omitempty" doc:"For primary site only; the template of a tenant's base URL, with ${tenant_id}."`
	SiteAdminTenantID     string   `json:"site_admin_tenant_id,omitempty" doc:"Tenant ID of this site's admin tenant."`
}

func siteJSON(s tenancy.Site) SiteJSON {
	return SiteJSON{SiteID: s.ID, BaseURL: s.BaseURL, Primary: s.Primary, Services: s.Services,
		TenantBaseURLTemplate: s.TenantBaseURLTemplate, SiteAdminTenantID: s.SiteAdminTenantID,
		CreateTime: fmtRegistry(s.CreateTime), LastUpdateTime: fmtRegistry(s.LastUpdateTime),
		CreatedBy: s.CreatedBy, LastUpdatedBy: s.LastUpdatedBy}
}

func (h *handlers) registerSites(api huma.API) {
	tags := []string{"Sites"}
	register(api, h, huma.Operation{OperationID: "list_sites", Method: http.MethodGet, Path: "/v3/sites",
		Summary: "List sites.", Tags: tags}, authOptional,
		func(ctx context.Context, in *ListQuery) (*Output[[]SiteJSON], error) {
			sites, err := h.svc.Tenancy.ListSites(ctx)
			if err != nil {
				return nil, err
			}
			out := []SiteJSON{}
			for _, s := range page(sites, *in) {
				out = append(out, siteJSON(s))
			}
			return ok(out, "Sites retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "create_site", Method: http.MethodPost, Path: "/v3/sites",
		Summary: "Create a site.", Tags: tags, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *struct{ Body NewSiteJSON }) (*Output[SiteJSON], error) {
			b := in.Body
			s, err := h.svc.Tenancy.CreateSite(ctx, principalOf(ctx), tenancy.Site{ID: b.SiteID, BaseURL: b.BaseURL,
				Primary: b.Primary, Services: b.Services, TenantBaseURLTemplate: b.TenantBaseURLTemplate,
				SiteAdminTenantID: b.SiteAdminTenantID})
			if err != nil {
				return nil, err
			}
			return created(siteJSON(s), "Site object created successfully."), nil
		})
	type siteID struct {
		SiteID string `path:"site_id" doc:"Unique ID of the site"`
	}
	register(api, h, huma.Operation{OperationID: "get_site", Method: http.MethodGet, Path: "/v3/sites/{site_id}",
		Summary: "Get site details", Tags: tags}, authOptional,
		func(ctx context.Context, in *siteID) (*Output[SiteJSON], error) {
			s, err := h.svc.Tenancy.GetSite(ctx, in.SiteID)
			if err != nil {
				return nil, err
			}
			return ok(siteJSON(s), "Site retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "delete_site", Method: http.MethodDelete, Path: "/v3/sites/{site_id}",
		Summary: "Delete a site", Tags: tags}, authRequired,
		func(ctx context.Context, in *siteID) (*Output[Null], error) {
			if err := h.svc.Tenancy.DeleteSite(ctx, principalOf(ctx), in.SiteID); err != nil {
				return nil, err
			}
			return ok(Null{}, "Site "+in.SiteID+" deleted successfully."), nil
		})
}
