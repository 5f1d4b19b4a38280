package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/tenancy"
)

// Names of the records an empty registry is bootstrapped with.
const (
	bootstrapSite    = "local"
	bootstrapAdmin   = "admin"
	bootstrapService = "tenants"
	bootstrapOwner   = "operator@localhost.localdomain"
)

// seedRegistry applies -dev, then -config; with neither, it bootstraps an
// empty registry. host is the localhost:PORT the site's and admin tenant's
// base URLs use; shown is the listener's address (the -dev tenant's base
// URL and the address printed in the curl examples).
func seedRegistry(ctx context.Context, srv *tapis.Server, o *options, fileSeed *devseed.Seed,
	host, shown string, stdout io.Writer, log *slog.Logger) error {
	if o.dev {
		passwords := map[string]string{}
		// The dev tenant (the listener's default) lives at the listener's
		// own address, so its issuer, discovery documents and Token Web App
		// resolve wherever the server is reachable.
		devBase := "http://" + shown
		if err := devseed.Apply(ctx, srv, devseed.DevAt(host, devBase, passwords)); err != nil {
			return fmt.Errorf("-dev: %w", err)
		}
		if t, err := srv.Tenancy().GetTenant(ctx, "dev"); err == nil && t.BaseURL != devBase {
			log.Warn("the dev tenant keeps the base URL of the data directory's first -dev run; its URLs (issuer, Token Web App) point there",
				"base_url", t.BaseURL, "listener", devBase)
		}
		printDev(stdout, passwords, shown)
		log.Warn("development fixtures applied (-dev): never use them for a real deployment")
	}
	if fileSeed != nil {
		if err := devseed.Apply(ctx, srv, *fileSeed); err != nil {
			return fmt.Errorf("-config %s: %w", o.configFile, err)
		}
		log.Info("seed applied", "file", o.configFile, "sites", len(fileSeed.Sites), "tenants", len(fileSeed.Tenants),
			"accounts", len(fileSeed.Accounts))
	}
	if !o.dev && fileSeed == nil && o.associate.primary == "" {
		sites, err := srv.Tenancy().ListSites(ctx)
		if err != nil {
			return err
		}
		// A first start that died half-way left its site but no account: finish it.
		accounts, err := srv.Tokens().Accounts.List(ctx, bootstrapAdmin)
		if err != nil {
			return err
		}
		halfDone := len(sites) == 1 && sites[0].ID == bootstrapSite && len(accounts) == 0
		if len(sites) == 0 || halfDone {
			password := devseed.RandomPassword()
			if err := devseed.Apply(ctx, srv, bootstrapSeed(host, password)); err != nil {
				return fmt.Errorf("bootstrap: %w", err)
			}
			printBootstrap(stdout, password, shown)
			log.Info("bootstrapped an empty registry", "site", bootstrapSite, "admin_tenant", bootstrapAdmin,
				"service_account", bootstrapService+"@"+bootstrapAdmin)
		}
	}
	return checkSite(ctx, srv, o, log)
}

// checkSite refuses to serve as a site missing from the registry or with a
// default tenant missing from it, and warns when there is no primary site
// to default to.
func checkSite(ctx context.Context, srv *tapis.Server, o *options, log *slog.Logger) error {
	site := o.site
	reg, err := srv.Tenancy().Reload(ctx)
	if err != nil {
		return err
	}
	if err := checkDefaultTenant(reg, o.defaultTenant); err != nil {
		if o.associate.primary == "" {
			return err
		}
		// An associate's admin tenant is registered at the primary after
		// the associate printed its key: serve meanwhile.
		log.Warn("the default tenant is not in the primary's registry yet", "err", err)
	}
	if site != "" {
		if _, ok := reg.Site(site); !ok {
			return fmt.Errorf("-site %s: no such site in the registry", site)
		}
		return nil
	}
	if _, ok := reg.Primary(); !ok {
		log.Warn("the registry has no primary site yet: tokens cannot be minted until one is created")
	}
	return nil
}

// bootstrapSeed is the minimal registry of a new installation: the primary
// site, its admin tenant and one service account allowed to create tenants.
func bootstrapSeed(host, password string) devseed.Seed {
	return devseed.Seed{
		Owners: []httpapi.OwnerJSON{{Name: "Tapis operator", Email: bootstrapOwner, Institution: "local"}},
		Sites: []httpapi.NewSiteJSON{{SiteID: bootstrapSite, BaseURL: "http://" + host, Primary: true,
			Services:              []string{"tenants", "tokens", "authenticator", "systems"},
			TenantBaseURLTemplate: "http://${tenant_id}." + host, SiteAdminTenantID: bootstrapAdmin}},
		Tenants: []httpapi.NewTenantJSON{
			devseed.TenantSpec(bootstrapAdmin, bootstrapSite, "http://"+bootstrapAdmin+"."+host, bootstrapOwner, "admin"),
		},
		Accounts: []devseed.Account{{TenantID: bootstrapAdmin, Username: bootstrapService,
			AccountType: tenancy.AccountService, Password: password}},
	}
}

// mintCurl is a ready-to-paste command minting a service token.
func mintCurl(user, password, shown string) string {
	return fmt.Sprintf(`curl -s -u %s:%s -H 'Content-Type: application/json' -d '{"account_type":"service",`+
		`"token_tenant_id":"%s","token_username":"%s","target_site_id":"%s"}' http://%s/v3/tokens`,
		user, password, bootstrapAdmin, user, bootstrapSite, shown)
}

func printBootstrap(w io.Writer, password, shown string) {
	fmt.Fprintf(w, `Bootstrapped an empty registry: primary site %q, admin tenant %q.
Service account %s@%s (may create sites and tenants), password: %s
WARNING: this password is shown only now and cannot be recovered; store it safely.
Mint a first service token:
  %s
`, bootstrapSite, bootstrapAdmin, bootstrapService, bootstrapAdmin, password, mintCurl(bootstrapService, password, shown))
}

func printDev(w io.Writer, passwords map[string]string, shown string) {
	fmt.Fprintf(w, "Development fixtures (-dev; never for a real deployment):\n")
	fmt.Fprintf(w, "  site %q (primary); tenants %q (site admin) and \"dev\"\n", bootstrapSite, bootstrapAdmin)
	fmt.Fprintf(w, "  users of tenant dev, password = username: testuser1 testuser2 testuser3 testuser4 testuser5 testadmin (tenant admin)\n")
	fmt.Fprintf(w, "  service accounts of tenant %s (new passwords at every start):\n", bootstrapAdmin)
	for _, svc := range devseed.AdminServices() {
		fmt.Fprintf(w, "    %-14s %s\n", svc, passwords[svc])
	}
	fmt.Fprintf(w, "Mint a service token:\n  %s\n", mintCurl("tokens", passwords["tokens"], shown))
	fmt.Fprintf(w, "Tenant dev: OpenID issuer http://%s, Token Web App http://%s/v3/oauth2/webapp\n", shown, shown)
}
