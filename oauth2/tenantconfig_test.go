package oauth2_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// configAAD is the associated data the provider seals dev's configuration
// secrets with (written out: a change of it must be deliberate).
var configAAD = []byte("tapis-authenticator-config|dev")

var devAdmin = tenancy.Principal{TenantID: "dev", Username: "testadmin", AccountType: tenancy.AccountUser,
	TokenTenantID: "dev", TokenUsername: "testadmin"}

// storeSealedSecrets stores dev's default configuration with plain sealed
// as its secrets.
func storeSealedSecrets(t *testing.T, env *testenv.Env, plain []byte) oauth2.TenantConfig {
	t.Helper()
	s, err := seal.New(env.KEK)
	require.NoError(t, err)
	c := env.Server.OAuth2().DefaultTenantConfig("dev")
	c.SealedSecrets, err = s.Seal(plain, configAAD)
	require.NoError(t, err)
	require.NoError(t, env.Store.PutTenantConfig(context.Background(), c))
	return c
}

func openSecrets(t *testing.T, env *testenv.Env, sealed []byte) map[string]string {
	t.Helper()
	s, err := seal.New(env.KEK)
	require.NoError(t, err)
	plain, err := s.Open(sealed, configAAD)
	require.NoError(t, err)
	var out map[string]string
	require.NoError(t, json.Unmarshal(plain, &out))
	return out
}

// TestConfigUpdateKeepsTheOtherSecret: replacing one impersonation secret
// keeps the other, which is why the sealed record is decoded at all.
func TestConfigUpdateKeepsTheOtherSecret(t *testing.T) {
	env := testenv.New(t)
	storeSealedSecrets(t, env, []byte(`{"impers_oauth_client_secret":"client-secret-kept"}`))
	pw := "new-impersadmin-password"
	c, err := env.Server.OAuth2().UpdateConfig(context.Background(), devAdmin, oauth2.ConfigUpdate{ImpersadminPassword: &pw})
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"impers_oauth_client_secret": "client-secret-kept", "impersadmin_password": pw},
		openSecrets(t, env, c.SealedSecrets))
}

// TestConfigUpdateRefusesCorruptSecrets: sealed secrets that open but do
// not decode are an error, not an empty set (which the update would then
// write back, losing the secret it does not replace), and nothing is
// written.
func TestConfigUpdateRefusesCorruptSecrets(t *testing.T) {
	for name, plain := range map[string]string{
		"not JSON":       "impers_oauth_client_secret=client-secret-kept",
		"truncated JSON": `{"impers_oauth_client_secret":"client-secr`,
		"wrong shape":    `["client-secret-kept"]`,
	} {
		t.Run(name, func(t *testing.T) {
			env := testenv.New(t)
			before := storeSealedSecrets(t, env, []byte(plain))
			pw := "new-impersadmin-password"
			_, err := env.Server.OAuth2().UpdateConfig(context.Background(), devAdmin, oauth2.ConfigUpdate{ImpersadminPassword: &pw})
			require.ErrorIs(t, err, oauth2.ErrCorruptSecrets)
			assert.ErrorContains(t, err, "tenant dev")
			assert.NotContains(t, err.Error(), "client-secr", "the error never quotes the plaintext")
			after, err := env.Store.GetTenantConfig(context.Background(), "dev")
			require.NoError(t, err)
			assert.Equal(t, before.SealedSecrets, after.SealedSecrets, "nothing written")
		})
	}
}
