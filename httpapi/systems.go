package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/search"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// SystemIDParam names a system in the path.
type SystemIDParam struct {
	SystemID string `path:"systemId" maxLength:"80"`
}

// systemURL is the URL of a system under the request tenant's base URL.
func (h *handlers) systemURL(ctx context.Context, tenantID string, parts ...string) string {
	base, err := h.tenantBase(ctx, tenantID)
	if err != nil {
		base = ""
	}
	return base + "/v3/systems/" + strings.Join(parts, "/")
}

func (h *handlers) registerSystems(api huma.API) {
	svc := h.svc.Systems
	tags := []string{"Systems"}
	general := []string{"General"}
	register(api, h, huma.Operation{OperationID: "healthCheck", Method: http.MethodGet, Path: "/v3/systems/healthcheck",
		Summary: "Health check.", Tags: general}, authIgnored,
		func(context.Context, *struct{}) (*SysOutput[string], error) {
			return sysOK("Health check received.", "TAPIS_HEALTHY Health check received."), nil
		})
	register(api, h, huma.Operation{OperationID: "readyCheck", Method: http.MethodGet, Path: "/v3/systems/readycheck",
		Summary: "Ready check: the store answers.", Tags: general}, authIgnored,
		func(ctx context.Context, _ *struct{}) (*SysOutput[string], error) {
			if _, err := svc.Store().ListProfiles(ctx, principalOf(ctx).TenantID); err != nil {
				h.log.ErrorContext(ctx, "systems readiness check failed", "err", err)
				return nil, NewError(http.StatusServiceUnavailable, "TAPIS_NOT_READY The store does not answer.")
			}
			return sysOK("Ready check passed.", "TAPIS_READY Ready check passed."), nil
		})
	type createIn struct {
		SkipCredentialCheck bool `query:"skipCredentialCheck" doc:"Do not verify the credential against the host."`
		Body                SystemInJSON
	}
	register(api, h, huma.Operation{OperationID: "createSystem", Method: http.MethodPost, Path: "/v3/systems",
		Summary: "Create a system.", Tags: tags, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *createIn) (*SysOutput[URLResult], error) {
			p := principalOf(ctx)
			s, err := svc.Create(ctx, p, systems.CreateInput{System: in.Body.domain(), Credential: in.Body.AuthnCredential.domain(),
				SkipCredentialCheck: in.SkipCredentialCheck, Missing: in.Body.requiredMissing()})
			if err != nil {
				return nil, err
			}
			return sysCreated(URLResult{URL: h.systemURL(ctx, p.TenantID, s.ID)}, "SYSAPI_CREATED System created: "+s.ID), nil
		})
	type getIn struct {
		SystemIDParam
		AuthnMethod          string `query:"authnMethod" doc:"Authentication method of the returned credential (services only)."`
		RequireExecPerm      bool   `query:"requireExecPerm" doc:"Check for EXECUTE permission as well as READ."`
		Select               string `query:"select" doc:"Attributes to return: allAttributes (default), summaryAttributes or a comma list."`
		ReturnCredentials    bool   `query:"returnCredentials" doc:"Return the credential (files and jobs services only)."`
		ImpersonationID      string `query:"impersonationId" doc:"Act as this user (tenant admins and some services)."`
		SharedAppCtx         string `query:"sharedAppCtx" doc:"Grantor of a shared application context (files and jobs services)."`
		ResourceTenant       string `query:"resourceTenant" doc:"Tenant of the system (files and jobs services)."`
		ResolveEffectiveUser string `query:"resolveEffectiveUser" doc:"Resolve a dynamic effectiveUserId (default true)."`
	}
	register(api, h, huma.Operation{OperationID: "getSystem", Method: http.MethodGet, Path: "/v3/systems/{systemId}",
		Summary: "Get a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *getIn) (*SysOutput[SystemJSON], error) {
			p := principalOf(ctx)
			sel := in.Select
			if sel == "" {
				sel = "allAttributes"
			}
			shape := search.ParseSelect(sel, systems.SummaryAttributes())
			s, err := svc.Get(ctx, p, in.SystemID, systems.GetOptions{ImpersonationID: in.ImpersonationID,
				RequireExec: in.RequireExecPerm, KeepDynamic: strings.EqualFold(in.ResolveEffectiveUser, "false"),
				ReturnCredentials: in.ReturnCredentials, AuthnMethod: systems.AuthnMethod(in.AuthnMethod),
				SharedAppCtx: in.SharedAppCtx, ResourceTenant: in.ResourceTenant, Fields: shape.Fields})
			if err != nil {
				return nil, err
			}
			return sysOK(selectFields(s, shape), "TAPIS_FOUND System found: "+s.ID), nil
		})
	type listIn struct {
		ListOptions
		Search string `query:"search" doc:"Conditions (attr.op.value), joined by ~, e.g. (owner.eq.jdoe)~(port.gt.1024)."`
	}
	register(api, h, huma.Operation{OperationID: "getSystems", Method: http.MethodGet, Path: "/v3/systems",
		Summary: "List systems.", Tags: tags}, authRequired,
		func(ctx context.Context, in *listIn) (*SysOutput[[]SystemJSON], error) {
			var node search.Node
			if in.Search != "" {
				n, err := search.ParseQuery(in.Search, systems.SearchSchema, search.DefaultLimits())
				if err != nil {
					return nil, err
				}
				node = n
			}
			return h.listSystems(ctx, in.ListOptions, node)
		})
	type putIn struct {
		SystemIDParam
		SkipCredentialCheck bool `query:"skipCredentialCheck"`
		Body                SystemInJSON
	}
	register(api, h, huma.Operation{OperationID: "putSystem", Method: http.MethodPut, Path: "/v3/systems/{systemId}",
		Summary: "Replace the updatable attributes of a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *putIn) (*SysOutput[URLResult], error) {
			p := principalOf(ctx)
			if _, err := svc.Put(ctx, p, in.SystemID, in.Body.domain(), in.Body.AuthnCredential.domain(), in.SkipCredentialCheck); err != nil {
				return nil, err
			}
			return sysOK(URLResult{URL: h.systemURL(ctx, p.TenantID, in.SystemID)}, "SYSAPI_UPDATED System updated: putSystem "+in.SystemID), nil
		})
	type patchIn struct {
		SystemIDParam
		Body SystemPatchJSON
	}
	register(api, h, huma.Operation{OperationID: "patchSystem", Method: http.MethodPatch, Path: "/v3/systems/{systemId}",
		Summary: "Change some attributes of a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *patchIn) (*SysOutput[URLResult], error) {
			p := principalOf(ctx)
			if _, err := svc.Patch(ctx, p, in.SystemID, in.Body.domain()); err != nil {
				return nil, err
			}
			return sysOK(URLResult{URL: h.systemURL(ctx, p.TenantID, in.SystemID)}, "SYSAPI_UPDATED System updated: patchSystem "+in.SystemID), nil
		})
	h.registerSystemLifecycle(api)
	h.registerPerms(api)
	h.registerCredentials(api)
	h.registerSearch(api)
}

func (h *handlers) registerSystemLifecycle(api huma.API) {
	svc := h.svc.Systems
	tags := []string{"Systems"}
	register(api, h, huma.Operation{OperationID: "isEnabled", Method: http.MethodGet, Path: "/v3/systems/{systemId}/isEnabled",
		Summary: "Whether a system is enabled.", Tags: tags}, authRequired,
		func(ctx context.Context, in *SystemIDParam) (*SysOutput[BoolResult], error) {
			on, err := svc.IsEnabled(ctx, principalOf(ctx), in.SystemID)
			if err != nil {
				return nil, err
			}
			return sysOK(BoolResult{ABool: on}, "TAPIS_FOUND System found: "+in.SystemID), nil
		})
	for _, op := range []struct {
		id, verb string
		fn       func(context.Context, tenancy.Principal, string) (int, error)
	}{
		{"enableSystem", "enable", svc.Enable}, {"disableSystem", "disable", svc.Disable},
		{"deleteSystem", "delete", svc.Delete}, {"undeleteSystem", "undelete", svc.Undelete},
	} {
		register(api, h, huma.Operation{OperationID: op.id, Method: http.MethodPost, Path: "/v3/systems/{systemId}/" + op.verb,
			Summary: strings.ToUpper(op.verb[:1]) + op.verb[1:] + " a system.", Tags: tags}, authRequired,
			func(ctx context.Context, in *SystemIDParam) (*SysOutput[ChangeCount], error) {
				n, err := op.fn(ctx, principalOf(ctx), in.SystemID)
				if err != nil {
					return nil, err
				}
				return sysOK(ChangeCount{Changes: n}, "SYSAPI_UPDATED System updated: "+op.id+" "+in.SystemID), nil
			})
	}
	type ownerIn struct {
		SystemIDParam
		UserName string `path:"userName" maxLength:"60"`
	}
	register(api, h, huma.Operation{OperationID: "changeSystemOwner", Method: http.MethodPost, Path: "/v3/systems/{systemId}/changeOwner/{userName}",
		Summary: "Give a system to another user.", Tags: tags}, authRequired,
		func(ctx context.Context, in *ownerIn) (*SysOutput[ChangeCount], error) {
			n, err := svc.ChangeOwner(ctx, principalOf(ctx), in.SystemID, in.UserName)
			if err != nil {
				return nil, err
			}
			return sysOK(ChangeCount{Changes: n}, "SYSAPI_UPDATED System updated: changeSystemOwner "+in.SystemID), nil
		})
	register(api, h, huma.Operation{OperationID: "getHistory", Method: http.MethodGet, Path: "/v3/systems/{systemId}/history",
		Summary: "The recorded changes of a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *SystemIDParam) (*SysOutput[[]HistoryJSON], error) {
			list, err := svc.History(ctx, principalOf(ctx), in.SystemID)
			if err != nil {
				return nil, err
			}
			out := make([]HistoryJSON, 0, len(list))
			for _, r := range list {
				out = append(out, HistoryJSON{JWTTenant: r.JWTTenant, JWTUser: r.JWTUser, OboTenant: r.OboTenant, OboUser: r.OboUser,
					Operation: r.Operation, Description: r.Description, Created: sysTime(r.Created)})
			}
			return sysOK(out, "TAPIS_FOUND SystemHistory found: "+in.SystemID), nil
		})
	h.registerChildren(api)
	h.registerSchedulerProfiles(api)
}

func (h *handlers) registerChildren(api huma.API) {
	svc := h.svc.Systems
	tags := []string{"Child Systems"}
	type childIn struct {
		ParentID string `path:"parentId" maxLength:"80"`
		Body     struct {
			ID              string  `json:"id,omitempty" maxLength:"80"`
			EffectiveUserID string  `json:"effectiveUserId" maxLength:"60"`
			RootDir         *string `json:"rootDir" maxLength:"4096"`
			Owner           string  `json:"owner,omitempty" maxLength:"60"`
			Enabled         *bool   `json:"enabled,omitempty"`
		}
	}
	register(api, h, huma.Operation{OperationID: "createChildSystem", Method: http.MethodPost, Path: "/v3/systems/{parentId}/createChildSystem",
		Summary: "Create a child of a system.", Tags: tags, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *childIn) (*SysOutput[URLResult], error) {
			p := principalOf(ctx)
			b := in.Body
			root := ""
			if b.RootDir != nil {
				root = *b.RootDir
			}
			c, err := svc.CreateChild(ctx, p, in.ParentID, systems.ChildInput{ID: b.ID, EffectiveUserID: b.EffectiveUserID,
				RootDir: root, Owner: b.Owner, Enabled: b.Enabled})
			if err != nil {
				return nil, err
			}
			return sysCreated(URLResult{URL: h.systemURL(ctx, p.TenantID, c.ID)}, "SYSAPI_CREATED Child system created for parent "+in.ParentID+": "+c.ID), nil
		})
	type unlinkIn struct {
		ChildSystemID string `path:"childSystemId" maxLength:"80"`
	}
	register(api, h, huma.Operation{OperationID: "unlinkFromParent", Method: http.MethodPost, Path: "/v3/systems/{childSystemId}/unlinkFromParent",
		Summary: "Make a child system stand alone.", Tags: tags}, authRequired,
		func(ctx context.Context, in *unlinkIn) (*SysOutput[ChangeCount], error) {
			n, err := svc.UnlinkFromParent(ctx, principalOf(ctx), in.ChildSystemID)
			if err != nil {
				return nil, err
			}
			return sysOK(ChangeCount{Changes: n}, "SYSAPI_UPDATED System updated: unlinkFromParent "+in.ChildSystemID), nil
		})
	type unlinkChildrenIn struct {
		ParentSystemID string `path:"parentSystemId" maxLength:"80"`
		All            bool   `query:"all" doc:"Unlink every child."`
		// Optional as in the spec, and childSystemIds optional inside it:
		// with all=true generated clients send {}.
		Body *struct {
			ChildSystemIDs []string `json:"childSystemIds,omitempty" maxItems:"1000"`
		} `required:"false"`
	}
	register(api, h, huma.Operation{OperationID: "unlinkChildren", Method: http.MethodPost, Path: "/v3/systems/{parentSystemId}/unlinkChildren",
		Summary: "Unlink some or all children of a system.", Tags: tags}, authRequired,
		func(ctx context.Context, in *unlinkChildrenIn) (*SysOutput[ChangeCount], error) {
			var ids []string
			if in.Body != nil {
				ids = in.Body.ChildSystemIDs
			}
			n, err := svc.UnlinkChildren(ctx, principalOf(ctx), in.ParentSystemID, ids, in.All)
			if err != nil {
				return nil, err
			}
			return sysOK(ChangeCount{Changes: n}, "SYSAPI_UPDATED System updated: unlinkChildren "+in.ParentSystemID), nil
		})
}

func (h *handlers) registerSchedulerProfiles(api huma.API) {
	svc := h.svc.Systems
	tags := []string{"Scheduler Profiles"}
	register(api, h, huma.Operation{OperationID: "getSchedulerProfiles", Method: http.MethodGet, Path: "/v3/systems/schedulerProfile",
		Summary: "List scheduler profiles.", Tags: tags}, authRequired,
		func(ctx context.Context, _ *struct{}) (*SysOutput[[]ProfileJSONOut], error) {
			list, err := svc.ListProfiles(ctx, principalOf(ctx))
			if err != nil {
				return nil, err
			}
			out := make([]ProfileJSONOut, 0, len(list))
			for _, p := range list {
				out = append(out, profileOut(p))
			}
			return sysOK(out, fmt.Sprintf("TAPIS_FOUND SchedulerProfiles found: %d items", len(out))), nil
		})
	type createIn struct{ Body ProfileInJSON }
	register(api, h, huma.Operation{OperationID: "createSchedulerProfile", Method: http.MethodPost, Path: "/v3/systems/schedulerProfile",
		Summary: "Create a scheduler profile.", Tags: tags, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *createIn) (*SysOutput[URLResult], error) {
			p := principalOf(ctx)
			b := in.Body
			sp, err := svc.CreateProfile(ctx, p, systems.SchedulerProfile{Name: b.Name, Description: b.Description, Owner: b.Owner,
				ModuleLoads: b.ModuleLoads, HiddenOptions: b.HiddenOptions})
			if err != nil {
				return nil, err
			}
			return sysCreated(URLResult{URL: h.systemURL(ctx, p.TenantID, "schedulerProfile", sp.Name)}, "SYSAPI_PRF_CREATED Scheduler profile created: "+sp.Name), nil
		})
	type nameIn struct {
		Name string `path:"name" maxLength:"80"`
	}
	register(api, h, huma.Operation{OperationID: "getSchedulerProfile", Method: http.MethodGet, Path: "/v3/systems/schedulerProfile/{name}",
		Summary: "Get a scheduler profile.", Tags: tags}, authRequired,
		func(ctx context.Context, in *nameIn) (*SysOutput[ProfileJSONOut], error) {
			sp, err := svc.GetProfile(ctx, principalOf(ctx), in.Name)
			if err != nil {
				return nil, err
			}
			return sysOK(profileOut(sp), "TAPIS_FOUND SchedulerProfile found: "+sp.Name), nil
		})
	register(api, h, huma.Operation{OperationID: "deleteSchedulerProfile", Method: http.MethodDelete, Path: "/v3/systems/schedulerProfile/{name}",
		Summary: "Delete a scheduler profile (owner or tenant admin).", Tags: tags}, authRequired,
		func(ctx context.Context, in *nameIn) (*SysOutput[ChangeCount], error) {
			n, err := svc.DeleteProfile(ctx, principalOf(ctx), in.Name)
			if err != nil {
				return nil, err
			}
			return sysOK(ChangeCount{Changes: n}, "SYSAPI_PRF_DELETED Scheduler profile deleted: "+in.Name), nil
		})
}
