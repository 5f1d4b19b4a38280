package tapis_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

func TestNewNamesEveryMissingDependency(t *testing.T) {
	_, err := tapis.New(tapis.Config{})
	require.Error(t, err)
	for _, want := range []string{"Stores.Tenancy", "Stores.OAuth2", "KEK"} {
		assert.Contains(t, err.Error(), want)
	}
	_, err = tapis.New(tapis.Config{Stores: tapis.Stores{}, KEK: []byte("short")})
	assert.Contains(t, err.Error(), "Stores.Tenancy")
}

// TestSecretsSealedAtRest seeds a SQLite file and checks that neither a
// private key nor a password is in its raw bytes.
func TestSecretsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tapis.db")
	st, err := bunstore.Open(ctx, "sqlite:"+path)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	srv, err := tapis.New(tapis.Config{Stores: tapis.Stores{Tenancy: st, OAuth2: st}, KEK: seal.NewKey(), PasswordCost: bcrypt.MinCost})
	require.NoError(t, err)
	const pw = "a-very-secret-service-password"
	seed := tapis.DevSeed("tapis.test", map[string]string{"tokens": pw})
	require.NoError(t, srv.ApplySeed(ctx, seed))
	_, err = srv.Tokens().RotateKeys(ctx, adminPrincipal(), "dev")
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	require.NoError(t, st.Close())

	var raw []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err == nil {
			raw = append(raw, b...)
		}
	}
	require.NotEmpty(t, raw)
	assert.True(t, bytes.Contains(raw, []byte("BEGIN PUBLIC KEY")), "sanity: the file holds the keys")
	assert.False(t, bytes.Contains(raw, []byte("PRIVATE KEY")), "private keys are sealed")
	assert.False(t, bytes.Contains(raw, []byte(pw)), "passwords are hashed")
	assert.False(t, strings.Contains(string(raw), "testuser1testuser1"))
}

func TestRewrapSecretsAfterKEKRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := bunstore.Open(ctx, "sqlite:"+filepath.Join(dir, "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	oldKEK, newKEK := seal.NewKey(), seal.NewKey()
	srv, err := tapis.New(tapis.Config{Stores: tapis.Stores{Tenancy: st, OAuth2: st}, KEK: oldKEK, PasswordCost: bcrypt.MinCost})
	require.NoError(t, err)
	require.NoError(t, srv.ApplySeed(ctx, tapis.DevSeed("rw.test", map[string]string{})))
	sealer, err := seal.New(oldKEK)
	require.NoError(t, err)
	require.NoError(t, st.Vault(sealer).PutCredential(ctx, credentials.Key{Tenant: "dev", SystemID: "s", User: "u"}, credentials.Credential{Password: "pw"}))
	require.NoError(t, srv.Close())

	rotated, err := tapis.New(tapis.Config{Stores: tapis.Stores{Tenancy: st, OAuth2: st}, KEK: newKEK, PreviousKEKs: [][]byte{oldKEK}})
	require.NoError(t, err)
	n, err := rotated.RewrapSecrets(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 3, "signing keys of admin and dev, and the credential")
	require.NoError(t, rotated.Close())

	onlyNew, err := seal.New(newKEK)
	require.NoError(t, err)
	c, err := st.Vault(onlyNew).GetCredential(ctx, credentials.Key{Tenant: "dev", SystemID: "s", User: "u"})
	require.NoError(t, err, "opens with the new KEK alone")
	assert.Equal(t, "pw", c.Password)
	fresh, err := tapis.New(tapis.Config{Stores: tapis.Stores{Tenancy: st, OAuth2: st}, KEK: newKEK})
	require.NoError(t, err)
	t.Cleanup(func() { _ = fresh.Close() })
	_, err = fresh.Tokens().Mint(ctx, oauth2.MintRequest{TenantID: "dev", Username: "u", AccountType: tenancy.AccountUser})
	assert.NoError(t, err, "signing works without the old KEK")
}
