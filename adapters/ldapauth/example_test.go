package ldapauth_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/tapis-go/tapis/adapters/ldapauth"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Tenant dev checks passwords in LDAP; every other tenant falls through to
// the next authenticator (in a server: the built-in users,
// oauth2.UserAuthenticator). A server takes the LDAP objects from its
// registry with ldapauth.TenancyDirectory(store) instead of a func.
func Example() {
	dir := ldapauth.DirectoryFunc(func(_ context.Context, tenantID string) (tenancy.LDAPConnection, bool, error) {
		if tenantID != "dev" {
			return tenancy.LDAPConnection{}, false, nil
		}
		return tenancy.LDAPConnection{
			ID:             "dev-ldap",
			URL:            "ldap://127.0.0.1:3389",
			UserDN:         "ou=tenants.dev,dc=tapis,dc=test",
			BindDN:         "cn=admin,dc=tapis,dc=test",
			BindCredential: "ldap.dev", // the name of a secret, not the password
		}, true, nil
	})
	bindPassword := func(_ context.Context, name string) (string, error) {
		return os.Getenv("LDAP_BIND_PASSWORD"), nil // e.g. read secret `name` from the vault
	}
	ldapAuth, err := ldapauth.New(dir, bindPassword, ldapauth.Options{Timeout: 5 * time.Second})
	if err != nil {
		log.Fatal(err)
	}
	builtin := oauth2.AuthenticatorFunc(func(context.Context, string, string, string) (oauth2.Identity, error) {
		return oauth2.Identity{}, oauth2.ErrInvalidCredentials
	})
	auth := oauth2.FirstConfigured{ldapAuth, builtin}

	id, err := auth.Authenticate(context.Background(), "dev", "testuser1", "testuser1")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Username, id.Email)
}
