package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/tenancy"
)

// OwnerJSON is the wire form of a tenant owner.
type OwnerJSON struct {
	Name           string `json:"name,omitempty" doc:"Full name of the owner."`
	Email          string `json:"email,omitempty" doc:"Email address for the owner."`
	Institution    string `json:"institution,omitempty" doc:"The owner's institution."`
	CreateTime     string `json:"create_time,omitempty" readOnly:"true"`
	LastUpdateTime string `json:"last_update_time,omitempty" readOnly:"true"`
}

func ownerJSON(o tenancy.Owner) OwnerJSON {
	return OwnerJSON{Name: o.Name, Email: o.Email, Institution: o.Institution,
		CreateTime: fmtRFC1123(o.CreateTime), LastUpdateTime: fmtRFC1123(o.LastUpdateTime)}
}

func (h *handlers) registerOwners(api huma.API) {
	tags := []string{"Tenants", "Owners"}
	register(api, h, huma.Operation{OperationID: "list_owners", Method: http.MethodGet, Path: "/v3/tenants/owners",
		Summary: "List owners", Tags: tags}, authOptional,
		func(ctx context.Context, in *ListQuery) (*Output[[]OwnerJSON], error) {
			owners, err := h.svc.Tenancy.ListOwners(ctx)
			if err != nil {
				return nil, err
			}
			out := []OwnerJSON{}
			for _, o := range page(owners, *in) {
				out = append(out, ownerJSON(o))
			}
			return ok(out, "Owners retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "create_owner", Method: http.MethodPost, Path: "/v3/tenants/owners",
		Summary: "Create an owner", Tags: tags, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *struct{ Body OwnerJSON }) (*Output[OwnerJSON], error) {
			o, err := h.svc.Tenancy.CreateOwner(ctx, principalOf(ctx), tenancy.Owner{Name: in.Body.Name, Email: in.Body.Email, Institution: in.Body.Institution})
			if err != nil {
				return nil, err
			}
			return created(ownerJSON(o), "Owner created successfully."), nil
		})
	type email struct {
		Email string `path:"email" doc:"Email address of the owner"`
	}
	register(api, h, huma.Operation{OperationID: "get_owner", Method: http.MethodGet, Path: "/v3/tenants/owners/{email}",
		Summary: "Get owner details", Tags: tags}, authOptional,
		func(ctx context.Context, in *email) (*Output[OwnerJSON], error) {
			o, err := h.svc.Tenancy.GetOwner(ctx, in.Email)
			if err != nil {
				return nil, err
			}
			return ok(ownerJSON(o), "Owner retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "delete_owner", Method: http.MethodDelete, Path: "/v3/tenants/owners/{email}",
		Summary: "Delete owner", Tags: tags}, authRequired,
		func(ctx context.Context, in *email) (*Output[Null], error) {
			o, err := h.svc.Tenancy.DeleteOwner(ctx, principalOf(ctx), in.Email)
			if err != nil {
				return nil, err
			}
			return ok(Null{}, "Owner object "+o.Email+", "+o.Institution+" deleted successfully."), nil
		})
}
