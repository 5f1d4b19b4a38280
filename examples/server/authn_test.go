package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

func TestAuthenticatorFallsBackToBuiltinUsers(t *testing.T) {
	env := testenv.New(t)
	ldap, err := ldapAuthenticator(env.Store, func(string) string { return "" })
	require.NoError(t, err)
	ctx := context.Background()
	_, err = ldap.Authenticate(ctx, "dev", "testuser1", "testuser1")
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured, "dev names no LDAP connection: passed on")

	// In a server, the built-in users come after it.
	srv, err := tapis.New(tapis.Config{Store: env.Store, KEK: env.KEK, Authenticators: []oauth2.Authenticator{ldap}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	password := func(user, pw string) error {
		_, err := srv.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, Username: user, Password: pw})
		return err
	}
	require.NoError(t, password("testuser1", "testuser1"), "the built-in users answer")
	assert.ErrorContains(t, password("testuser1", "wrong"), "Invalid username/password")
	p, err := srv.OAuth2().Authenticator().(oauth2.ProfileProvider).GetProfile(ctx, "dev", "testuser2")
	require.NoError(t, err)
	assert.Equal(t, "testuser2", p.Username)
}

func TestLDAPSecretEnvName(t *testing.T) {
	assert.Equal(t, "TAPIS_LDAP_BIND_LDAP_TACC_SVC", ldapSecretEnv("ldap.tacc.svc"))
	assert.Equal(t, "TAPIS_LDAP_BIND_DEV_LDAP_1", ldapSecretEnv("dev-ldap/1"))
}
