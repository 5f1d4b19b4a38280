package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

func TestAuthenticatorFallsBackToBuiltinUsers(t *testing.T) {
	env := testenv.New(t)
	srv := env.Server
	a, err := newAuthenticator(&srv, func(string) string { return "" })
	require.NoError(t, err)
	id, err := a.Authenticate(context.Background(), "dev", "testuser1", "testuser1")
	require.NoError(t, err, "dev names no LDAP connection: the built-in users answer")
	assert.Equal(t, "testuser1", id.Username)
	_, err = a.Authenticate(context.Background(), "dev", "testuser1", "wrong")
	assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials)
	p, err := a.(oauth2.ProfileProvider).GetProfile(context.Background(), "dev", "testuser2")
	require.NoError(t, err)
	assert.Equal(t, "testuser2", p.Username)
}

func TestLDAPSecretEnvName(t *testing.T) {
	assert.Equal(t, "TAPIS_LDAP_BIND_LDAP_TACC_SVC", ldapSecretEnv("ldap.tacc.svc"))
	assert.Equal(t, "TAPIS_LDAP_BIND_DEV_LDAP_1", ldapSecretEnv("dev-ldap/1"))
}
