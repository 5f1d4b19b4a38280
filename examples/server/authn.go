package main

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/tapis-go/tapis/adapters/ldapauth"
	"github.com/tapis-go/tapis/adapters/s3check"
	"github.com/tapis-go/tapis/adapters/sshcheck"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// ldapSecretEnv names the variable holding an LDAP bind password: the LDAP
// object's bind_credential in upper case, other characters as '_'
// (bind_credential "ldap.tacc.svc" -> TAPIS_LDAP_BIND_LDAP_TACC_SVC).
func ldapSecretEnv(name string) string {
	return "TAPIS_LDAP_BIND_" + strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToUpper(r)
		}
		return '_'
	}, name)
}

// ldapAuthenticator checks the passwords of a tenant whose registry record
// names a user LDAP connection against that LDAP server, reading the
// registry in st; it passes every other tenant on (oauth2.ErrNotConfigured)
// to the authenticators after it: the built-in users (tapis.Config's
// Authenticators).
func ldapAuthenticator(st ldapauth.Registry, getenv func(string) string) (oauth2.Authenticator, error) {
	secret := func(_ context.Context, name string) (string, error) {
		if v := getenv(ldapSecretEnv(name)); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("LDAP bind password %q: set %s", name, ldapSecretEnv(name))
	}
	return ldapauth.New(ldapauth.TenancyDirectory(st), secret, ldapauth.Options{})
}

// lateRegistry is the registry an associate site's LDAP directory reads:
// its tenancy service (over the mirror of the primary's registry, where
// the tenants and LDAP objects are), set once the server is built.
type lateRegistry struct{ svc *tenancy.Service }

// GetTenant implements ldapauth.Registry.
func (l *lateRegistry) GetTenant(ctx context.Context, id string) (tenancy.Tenant, error) {
	if l.svc == nil {
		return tenancy.Tenant{}, tenancy.ErrNotFound
	}
	return l.svc.GetTenant(ctx, id)
}

// GetLDAP implements ldapauth.Registry.
func (l *lateRegistry) GetLDAP(ctx context.Context, id string) (tenancy.LDAPConnection, error) {
	if l.svc == nil {
		return tenancy.LDAPConnection{}, tenancy.ErrNotFound
	}
	return l.svc.GetLDAP(ctx, id)
}

// hostChecks builds the credential checks and HOST_EVAL of the server: SSH
// for LINUX, S3 for S3, both under one policy (deadlines, SSRF guard,
// per-tenant cap) and pinning SSH host keys in the store.
func hostChecks(keys hostcheck.HostKeys, allowPrivate bool) (hostcheck.Verifier, hostcheck.Evaluator) {
	policy := hostcheck.Policy{AllowPrivate: allowPrivate}
	ssh := sshcheck.New(keys, policy) // guarded by policy already
	s3 := policy.Guard(s3check.New(s3check.Options{DialContext: policy.Dial}))
	return hostcheck.Mux{string(systems.TypeLinux): ssh, string(systems.TypeS3): s3}, ssh
}
