// Package devseed fills a Server's registry from a declarative Seed: sites,
// owners, LDAP objects and tenants in the wire shapes of the Tenants API,
// password accounts and OAuth2 clients. examples/server reads its -config
// file into a Seed; Dev and DevAt are the development fixtures of its -dev
// flag and of the tests, never for a real deployment.
package devseed

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Seed is a declarative set of registry records and password accounts, in
// the wire shapes of the Tenants API. It is the -config file of
// examples/server and the fixture of tests. Applying it is idempotent:
// records that exist are left as they are; account passwords are (re)set.
type Seed struct {
	Sites    []httpapi.NewSiteJSON   `json:"sites,omitempty"`
	Owners   []httpapi.OwnerJSON     `json:"owners,omitempty"`
	LDAPs    []httpapi.LDAPJSON      `json:"ldaps,omitempty"`
	Tenants  []httpapi.NewTenantJSON `json:"tenants,omitempty"`
	Accounts []Account               `json:"accounts,omitempty"`
	Clients  []Client                `json:"clients,omitempty"`
}

// Client is an OAuth2 client registered for an owner. An empty
// client_key with public false has one generated (and not shown: give one
// to use the client); public clients have none and must use PKCE.
type Client struct {
	TenantID    string `json:"tenant_id"`
	Owner       string `json:"owner"`
	ClientID    string `json:"client_id"`
	ClientKey   string `json:"client_key,omitempty"`
	Public      bool   `json:"public,omitempty"`
	CallbackURL string `json:"callback_url,omitempty"`
	DisplayName string `json:"display_name,omitempty"`
	Description string `json:"description,omitempty"`
}

// Account is a service account or a user of the built-in authenticator.
type Account struct {
	TenantID    string              `json:"tenant_id"`
	Username    string              `json:"username"`
	AccountType tenancy.AccountType `json:"account_type"`
	Password    string              `json:"password"`
	// HashCost, when set, is the bcrypt cost of this account's hash instead
	// of Config.PasswordCost. DevSeed sets bcrypt.MinCost: its passwords
	// are public or printed, and hashing thirteen of them at the
	// configured cost made every -dev start take a second (issue 16).
	// Not read from configuration files.
	HashCost int `json:"-"`
}

// Apply creates in srv what seed describes and does not exist yet, and
// (re)sets the accounts' passwords.
func Apply(ctx context.Context, srv *tapis.Server, seed Seed) error {
	ten := srv.Tenancy()
	skip := func(err error) error {
		if errors.Is(err, tenancy.ErrAlreadyExists) {
			return nil
		}
		return err
	}
	for _, o := range seed.Owners {
		_, err := ten.BootstrapOwner(ctx, tenancy.Owner{Name: o.Name, Email: o.Email, Institution: o.Institution})
		if err = skip(err); err != nil {
			return fmt.Errorf("seed owner %s: %w", o.Email, err)
		}
	}
	for _, l := range seed.LDAPs {
		_, err := ten.BootstrapLDAP(ctx, tenancy.LDAPConnection{ID: l.LDAPID, URL: l.URL, Port: l.Port, UseSSL: l.UseSSL,
			UserDN: l.UserDN, BindDN: l.BindDN, BindCredential: l.BindCredential, AccountType: l.AccountType})
		if err = skip(err); err != nil {
			return fmt.Errorf("seed LDAP %s: %w", l.LDAPID, err)
		}
	}
	reg, err := ten.Reload(ctx)
	if err != nil {
		return err
	}
	for _, site := range seed.Sites {
		if _, exists := reg.Site(site.SiteID); exists {
			continue
		}
		if _, err := ten.BootstrapSite(ctx, tenancy.Site{ID: site.SiteID, BaseURL: site.BaseURL, Primary: site.Primary,
			Services: site.Services, TenantBaseURLTemplate: site.TenantBaseURLTemplate, SiteAdminTenantID: site.SiteAdminTenantID}); err != nil {
			return fmt.Errorf("seed site %s: %w", site.SiteID, err)
		}
	}
	// New tenants are created side by side: each generates an RSA key
	// (about 70 ms, often more), which dominated the first start of -dev.
	var (
		wg   sync.WaitGroup
		errs = make([]error, len(seed.Tenants))
	)
	for i, t := range seed.Tenants {
		if _, exists := reg.Tenant(t.TenantID); exists {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := ten.BootstrapTenant(ctx, tenancy.Tenant{ID: t.TenantID, BaseURL: t.BaseURL, SiteID: t.SiteID,
				TokenService: t.TokenService, SecurityKernel: t.SecurityKernel, Authenticator: t.Authenticator, Owner: t.Owner,
				AdminUser: t.AdminUser, TokenGenServices: t.TokenGenServices, ServiceLDAPConnectionID: t.ServiceLDAPConnectionID,
				UserLDAPConnectionID: t.UserLDAPConnectionID, Status: tenancy.TenantStatus(t.Status), PublicKey: t.PublicKey,
				Description: t.Description}); err != nil {
				errs[i] = fmt.Errorf("seed tenant %s: %w", t.TenantID, err)
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, a := range seed.Accounts {
		var err error
		if a.HashCost > 0 {
			err = srv.Tokens().Accounts.SetCost(ctx, a.TenantID, a.Username, a.AccountType, a.Password, a.HashCost)
		} else {
			err = srv.Tokens().Accounts.Set(ctx, a.TenantID, a.Username, a.AccountType, a.Password)
		}
		if err != nil {
			return fmt.Errorf("seed account %s@%s: %w", a.Username, a.TenantID, err)
		}
	}
	for _, c := range seed.Clients {
		owner := tenancy.Principal{TenantID: c.TenantID, Username: c.Owner, AccountType: tenancy.AccountUser,
			TokenTenantID: c.TenantID, TokenUsername: c.Owner}
		_, _, err := srv.OAuth2().CreateClient(ctx, owner, oauth2.NewClient{ClientID: c.ClientID, ClientKey: c.ClientKey,
			Public: c.Public, CallbackURL: c.CallbackURL, DisplayName: c.DisplayName, Description: c.Description})
		if err := skip(err); err != nil {
			return fmt.Errorf("seed client %s@%s: %w", c.ClientID, c.TenantID, err)
		}
	}
	return nil
}

// TenantSpec returns the registry record of a tenant whose services all live
// under baseURL, in the wire shape a Seed uses.
func TenantSpec(id, siteID, baseURL, owner, adminUser string, tokenGenServices ...string) httpapi.NewTenantJSON {
	base := strings.TrimRight(baseURL, "/")
	return httpapi.NewTenantJSON{TenantID: id, BaseURL: base, SiteID: siteID, TokenService: base + "/v3/tokens",
		SecurityKernel: base + "/v3/security", Authenticator: base + "/v3/oauth2", Owner: owner, AdminUser: adminUser,
		TokenGenServices: tokenGenServices, Status: "active"}
}

// AdminServices returns the service accounts Dev creates in the admin
// tenant.
func AdminServices() []string {
	return []string{"tenants", "tokens", "authenticator", "systems", "files", "jobs", "apps"}
}

// RandomPassword returns a 24-character random password.
func RandomPassword() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Dev returns the development fixtures of the server start contract:
// primary site "local" with tenant URLs from the template
// http://${tenant_id}.<host>; tenants "admin" (site admin tenant) and "dev";
// users testuser1..testuser5 and testadmin (tenant admin) in dev with
// passwords equal to their names; the AdminServices in admin with the given
// passwords (random ones are drawn for missing names, and recorded in
// servicePasswords), all hashed at bcrypt.MinCost (see Account.HashCost).
// Never for real deployments.
func Dev(host string, servicePasswords map[string]string) Seed {
	return DevAt(host, "http://dev."+host, servicePasswords)
}

// DevAt is Dev with the dev tenant (the listener's default tenant)
// at devBase. examples/server -dev passes the listener's own address
// (http://127.0.0.1:8080), so every URL the dev tenant advertises — its
// issuer, discovery documents, the Token Web App's callback — resolves
// wherever the server is reachable, unlike a dev.localhost name.
func DevAt(host, devBase string, servicePasswords map[string]string) Seed {
	owner := "tapis-dev@example.org"
	seed := Seed{
		Owners: []httpapi.OwnerJSON{{Name: "Tapis development", Email: owner, Institution: "Tapis"}},
		Sites: []httpapi.NewSiteJSON{{SiteID: "local", BaseURL: "http://" + host, Primary: true,
			Services: []string{"tenants", "tokens", "authenticator", "systems"}, SiteAdminTenantID: "admin",
			TenantBaseURLTemplate: "http://${tenant_id}." + host}},
		Tenants: []httpapi.NewTenantJSON{
			TenantSpec("admin", "local", "http://admin."+host, owner, "admin"),
			TenantSpec("dev", "local", devBase, owner, "testadmin", "authenticator"),
		},
	}
	for _, svc := range AdminServices() {
		pw, ok := servicePasswords[svc]
		if !ok {
			pw = RandomPassword()
			servicePasswords[svc] = pw
		}
		seed.Accounts = append(seed.Accounts, Account{TenantID: "admin", Username: svc, AccountType: tenancy.AccountService,
			Password: pw, HashCost: bcrypt.MinCost})
	}
	for _, u := range []string{"testuser1", "testuser2", "testuser3", "testuser4", "testuser5", "testadmin"} {
		seed.Accounts = append(seed.Accounts, Account{TenantID: "dev", Username: u, AccountType: tenancy.AccountUser,
			Password: u, HashCost: bcrypt.MinCost})
	}
	return seed
}
