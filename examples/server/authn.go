package main

import (
	"context"
	"fmt"
	"strings"
	"unicode"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/ldapauth"
	"github.com/tapis-go/tapis/adapters/s3check"
	"github.com/tapis-go/tapis/adapters/sshcheck"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// The server's password authenticator: a tenant's LDAP server when its
// registry record names a user LDAP connection, else the built-in users.
// Both need the Server, which needs the authenticator: they reach it
// through srv, set once tapis.New returns.

// builtinUsers delegates to the Server's built-in users.
type builtinUsers struct{ srv **tapis.Server }

func (b builtinUsers) users() oauth2.UserAuthenticator {
	return oauth2.UserAuthenticator{Accounts: (*b.srv).Tokens().Accounts}
}

func (b builtinUsers) Authenticate(ctx context.Context, tenantID, username, password string) (oauth2.Identity, error) {
	return b.users().Authenticate(ctx, tenantID, username, password)
}

func (b builtinUsers) GetProfile(ctx context.Context, tenantID, username string) (oauth2.Profile, error) {
	return b.users().GetProfile(ctx, tenantID, username)
}

func (b builtinUsers) ListProfiles(ctx context.Context, tenantID string, limit, offset int) ([]oauth2.Profile, error) {
	return b.users().ListProfiles(ctx, tenantID, limit, offset)
}

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

// newAuthenticator builds LDAP-then-built-in-users over the server in srv.
func newAuthenticator(srv **tapis.Server, getenv func(string) string) (oauth2.Authenticator, error) {
	dir := ldapauth.DirectoryFunc(func(ctx context.Context, tenantID string) (tenancy.LDAPConnection, bool, error) {
		return ldapauth.TenancyDirectory((*srv).Tenancy()).TenantLDAP(ctx, tenantID)
	})
	secret := func(_ context.Context, name string) (string, error) {
		if v := getenv(ldapSecretEnv(name)); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("LDAP bind password %q: set %s", name, ldapSecretEnv(name))
	}
	ldap, err := ldapauth.New(dir, secret, ldapauth.Options{})
	if err != nil {
		return nil, err
	}
	return oauth2.FirstConfigured{ldap, builtinUsers{srv: srv}}, nil
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
