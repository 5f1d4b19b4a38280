package httpapi

import (
	"context"
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/systems"
)

// NamesResult is the result of GET perms.
type NamesResult struct {
	Names []systems.Permission `json:"names"`
}

// PermsBody is ReqPerms.
type PermsBody struct {
	Permissions []string `json:"permissions" minItems:"1" maxItems:"10" doc:"READ, MODIFY, EXECUTE (any case) or *."`
}

// PermsPathParams names a system and a user in the path.
type PermsPathParams struct {
	SystemID string `path:"systemId" maxLength:"80"`
	UserName string `path:"userName" maxLength:"60"`
}

func (h *handlers) registerPerms(api huma.API) {
	svc := h.svc.Systems
	tags := []string{"Permissions"}
	register(api, h, huma.Operation{OperationID: "getUserPerms", Method: http.MethodGet, Path: "/v3/systems/perms/{systemId}/user/{userName}",
		Summary: "A user's permissions on a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *PermsPathParams) (*SysOutput[NamesResult], error) {
			perms, err := svc.UserPerms(ctx, principalOf(ctx), in.SystemID, in.UserName)
			if err != nil {
				return nil, err
			}
			return sysOK(NamesResult{Names: perms}, fmt.Sprintf("TAPIS_FOUND System permissions found: %d items", len(perms))), nil
		})
	type grantIn struct {
		PermsPathParams
		Body PermsBody
	}
	register(api, h, huma.Operation{OperationID: "grantUserPerms", Method: http.MethodPost, Path: "/v3/systems/perms/{systemId}/user/{userName}",
		Summary: "Grant a user permissions on a system (owner or tenant admin).", Tags: tags}, authRequired,
		func(ctx context.Context, in *grantIn) (*SysOutput[Null], error) {
			perms, err := svc.GrantPerms(ctx, principalOf(ctx), in.SystemID, in.UserName, in.Body.Permissions)
			if err != nil {
				return nil, err
			}
			return sysOK(Null{}, fmt.Sprintf("SYSAPI_PERMS_GRANTED Permissions %v granted to user %s on system %s.", perms, in.UserName, in.SystemID)), nil
		})
	register(api, h, huma.Operation{OperationID: "revokeUserPerms", Method: http.MethodPost, Path: "/v3/systems/perms/{systemId}/user/{userName}/revoke",
		Summary: "Revoke permissions of a user on a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *grantIn) (*SysOutput[Null], error) {
			perms, err := svc.RevokePerms(ctx, principalOf(ctx), in.SystemID, in.UserName, in.Body.Permissions)
			if err != nil {
				return nil, err
			}
			return sysOK(Null{}, fmt.Sprintf("SYSAPI_PERMS_REVOKED Permissions %v revoked from user %s on system %s.", perms, in.UserName, in.SystemID)), nil
		})
	type oneIn struct {
		PermsPathParams
		Permission string `path:"permission" maxLength:"16"`
	}
	register(api, h, huma.Operation{OperationID: "revokeUserPerm", Method: http.MethodDelete, Path: "/v3/systems/perms/{systemId}/user/{userName}/{permission}",
		Summary: "Revoke one permission of a user on a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *oneIn) (*SysOutput[Null], error) {
			perms, err := svc.RevokePerms(ctx, principalOf(ctx), in.SystemID, in.UserName, []string{in.Permission})
			if err != nil {
				return nil, err
			}
			return sysOK(Null{}, fmt.Sprintf("SYSAPI_PERMS_REVOKED Permissions %v revoked from user %s on system %s.", perms, in.UserName, in.SystemID)), nil
		})
	h.registerSharing(api)
}

// ShareInfoJSON is the spec's ShareInfo (the original sent publicShare and
// users; clients read public and userList).
type ShareInfoJSON struct {
	Public   bool     `json:"public"`
	UserList []string `json:"userList"`
}

func (h *handlers) registerSharing(api huma.API) {
	svc := h.svc.Systems
	tags := []string{"Sharing"}
	register(api, h, huma.Operation{OperationID: "getShareInfo", Method: http.MethodGet, Path: "/v3/systems/share/{systemId}",
		Summary: "With whom a system is shared.", Tags: tags}, authRequired,
		func(ctx context.Context, in *SystemIDParam) (*SysOutput[ShareInfoJSON], error) {
			public, users, err := svc.ShareInfo(ctx, principalOf(ctx), in.SystemID)
			if err != nil {
				return nil, err
			}
			return sysOK(ShareInfoJSON{Public: public, UserList: users}, "TAPIS_FOUND SystemShare found: "+in.SystemID), nil
		})
	type usersIn struct {
		SystemIDParam
		Body struct {
			Users []string `json:"users" minItems:"1" maxItems:"1000"`
		}
	}
	for _, op := range []struct {
		id, path string
		unshare  bool
	}{{"shareSystem", "share", false}, {"unShareSystem", "unshare", true}} {
		register(api, h, huma.Operation{OperationID: op.id, Method: http.MethodPost, Path: "/v3/systems/" + op.path + "/{systemId}",
			Summary: op.path + " a system with users.", Tags: tags}, authRequired,
			func(ctx context.Context, in *usersIn) (*SysOutput[URLResult], error) {
				p := principalOf(ctx)
				if err := svc.Share(ctx, p, in.SystemID, in.Body.Users, op.unshare); err != nil {
					return nil, err
				}
				return sysOK(URLResult{URL: h.systemURL(ctx, p.TenantID, op.path, in.SystemID)}, "SYSAPI_UPDATED System updated: "+op.id+" "+in.SystemID), nil
			})
	}
	for _, op := range []struct {
		id, path string
		unshare  bool
	}{{"shareSystemPublic", "share_public", false}, {"unShareSystemPublic", "unshare_public", true}} {
		register(api, h, huma.Operation{OperationID: op.id, Method: http.MethodPost, Path: "/v3/systems/" + op.path + "/{systemId}",
			Summary: op.path + ": every user of the tenant.", Tags: tags}, authRequired,
			func(ctx context.Context, in *SystemIDParam) (*SysOutput[URLResult], error) {
				p := principalOf(ctx)
				if err := svc.Share(ctx, p, in.SystemID, []string{systems.PublicGrantee}, op.unshare); err != nil {
					return nil, err
				}
				return sysOK(URLResult{URL: h.systemURL(ctx, p.TenantID, op.path, in.SystemID)}, "SYSAPI_UPDATED System updated: "+op.id+" "+in.SystemID), nil
			})
	}
}
