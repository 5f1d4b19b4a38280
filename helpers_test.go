package tapis_test

import "github.com/tapis-go/tapis/tenancy"

func adminPrincipal() tenancy.Principal {
	return tenancy.Principal{TenantID: "admin", Username: "tenants", TokenTenantID: "admin", TokenUsername: "tenants", AccountType: tenancy.AccountService}
}
