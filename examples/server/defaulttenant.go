package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/tenancy"
)

// devTenant is the tenant -dev seeds and the preferred default tenant.
const devTenant = "dev"

// chooseDefaultTenant fills o.defaultTenant when -default-tenant was not
// given, from what the registry will hold once seeded: "dev" when -dev
// seeds it or the registry or the seed file has it, else the admin tenant
// of the primary site (the registry's, the seed file's, or "admin", which
// an empty registry is bootstrapped with). The choice is checked against
// the seeded registry by checkDefaultTenant.
func chooseDefaultTenant(ctx context.Context, st tenancy.Store, o *options, fileSeed *devseed.Seed) error {
	if o.defaultTenant != "" {
		return nil
	}
	if o.dev {
		o.defaultTenant = devTenant
		return nil
	}
	tenants, err := st.ListTenants(ctx, tenancy.TenantFilter{ShowDraft: true, ShowInactive: true})
	if err != nil {
		return fmt.Errorf("default tenant: %w", err)
	}
	sites, err := st.ListSites(ctx)
	if err != nil {
		return fmt.Errorf("default tenant: %w", err)
	}
	var ids []string
	adminTenant := ""
	for _, t := range tenants {
		ids = append(ids, t.ID)
	}
	for _, s := range sites {
		if s.Primary {
			adminTenant = s.SiteAdminTenantID
		}
	}
	if fileSeed != nil {
		for _, t := range fileSeed.Tenants {
			ids = append(ids, t.TenantID)
		}
		for _, s := range fileSeed.Sites {
			if s.Primary && adminTenant == "" {
				adminTenant = s.SiteAdminTenantID
			}
		}
	}
	switch {
	case slices.Contains(ids, devTenant):
		o.defaultTenant = devTenant
	case adminTenant != "":
		o.defaultTenant = adminTenant
	default:
		o.defaultTenant = bootstrapAdmin
	}
	return nil
}

// checkDefaultTenant refuses a default tenant missing from the seeded
// registry: every request whose Host names no tenant would fail with
// "Tenant ... not found".
func checkDefaultTenant(reg *tenancy.Registry, tenant string) error {
	if _, ok := reg.Tenant(tenant); ok {
		return nil
	}
	var ids []string
	for _, t := range reg.Tenants() {
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	return fmt.Errorf("-default-tenant %s: no such tenant in the registry (tenants: %s)", tenant, strings.Join(ids, ", "))
}
