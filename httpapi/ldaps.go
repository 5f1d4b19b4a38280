package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/tapis-go/tapis/tenancy"
)

// LDAPJSON is the wire form of an LDAP connection object.
type LDAPJSON struct {
	LDAPID         string `json:"ldap_id,omitempty" doc:"Unique id for the LDAP object."`
	URL            string `json:"url,omitempty" doc:"url to the LDAP"`
	Port           int    `json:"port,omitempty" doc:"port for the LDAP"`
	UseSSL         bool   `json:"use_ssl" required:"false" doc:"Whether to use SSL with the LDAP"`
	UserDN         string `json:"user_dn,omitempty" doc:"base DN for users"`
	BindDN         string `json:"bind_dn,omitempty" doc:"DN used for binding to the LDAP."`
	BindCredential string `json:"bind_credential,omitempty" doc:"Names the Tapis secret holding the bind password (not the password)."`
	AccountType    string `json:"account_type,omitempty" doc:"service or user: whether this LDAP is used for service accounts or user accounts."`
	CreateTime     string `json:"create_time,omitempty" readOnly:"true"`
	LastUpdateTime string `json:"last_update_time,omitempty" readOnly:"true"`
}

func ldapJSON(l tenancy.LDAPConnection) LDAPJSON {
	return LDAPJSON{LDAPID: l.ID, URL: l.URL, Port: l.Port, UseSSL: l.UseSSL, UserDN: l.UserDN, BindDN: l.BindDN,
		BindCredential: l.BindCredential, AccountType: l.AccountType,
		CreateTime: fmtRFC1123(l.CreateTime), LastUpdateTime: fmtRFC1123(l.LastUpdateTime)}
}

func (h *handlers) registerLDAPs(api huma.API) {
	tags := []string{"Tenants", "Ldaps"}
	register(api, h, huma.Operation{OperationID: "list_ldaps", Method: http.MethodGet, Path: "/v3/tenants/ldaps",
		Summary: "List ldaps", Tags: tags}, authOptional,
		func(ctx context.Context, in *ListQuery) (*Output[[]LDAPJSON], error) {
			ldaps, err := h.svc.Tenancy.ListLDAPs(ctx)
			if err != nil {
				return nil, err
			}
			out := []LDAPJSON{}
			for _, l := range page(ldaps, *in) {
				out = append(out, ldapJSON(l))
			}
			return ok(out, "LDAPs retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "create_ldap", Method: http.MethodPost, Path: "/v3/tenants/ldaps",
		Summary: "Create an ldap", Tags: tags, DefaultStatus: http.StatusCreated}, authRequired,
		func(ctx context.Context, in *struct{ Body LDAPJSON }) (*Output[LDAPJSON], error) {
			b := in.Body
			l, err := h.svc.Tenancy.CreateLDAP(ctx, principalOf(ctx), tenancy.LDAPConnection{ID: b.LDAPID, URL: b.URL, Port: b.Port,
				UseSSL: b.UseSSL, UserDN: b.UserDN, BindDN: b.BindDN, BindCredential: b.BindCredential, AccountType: b.AccountType})
			if err != nil {
				return nil, err
			}
			return created(ldapJSON(l), "LDAP object created successfully."), nil
		})
	type ldapID struct {
		LDAPID string `path:"ldap_id" doc:"Unique ID of the ldap"`
	}
	register(api, h, huma.Operation{OperationID: "get_ldap", Method: http.MethodGet, Path: "/v3/tenants/ldaps/{ldap_id}",
		Summary: "Get ldap details", Tags: tags}, authOptional,
		func(ctx context.Context, in *ldapID) (*Output[LDAPJSON], error) {
			l, err := h.svc.Tenancy.GetLDAP(ctx, in.LDAPID)
			if err != nil {
				return nil, err
			}
			return ok(ldapJSON(l), "LDAP object retrieved successfully."), nil
		})
	register(api, h, huma.Operation{OperationID: "delete_ldap", Method: http.MethodDelete, Path: "/v3/tenants/ldaps/{ldap_id}",
		Summary: "Delete ldap", Tags: tags}, authRequired,
		func(ctx context.Context, in *ldapID) (*Output[Null], error) {
			if err := h.svc.Tenancy.DeleteLDAP(ctx, principalOf(ctx), in.LDAPID); err != nil {
				return nil, err
			}
			return ok(Null{}, "LDAP object "+in.LDAPID+" deleted successfully."), nil
		})
}
