package oauth2_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

func newSealer(t *testing.T) *seal.Sealer {
	t.Helper()
	s, err := seal.New(seal.NewKey())
	require.NoError(t, err)
	return s
}

func TestKeyManagerAndTokenServiceNameMissingDependencies(t *testing.T) {
	_, err := oauth2.NewKeyManager(oauth2.KeyConfig{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Store")
	assert.Contains(t, err.Error(), "Sealer")
	_, err = oauth2.NewKeyManager(oauth2.KeyConfig{Store: memory.New(), Sealer: newSealer(t), Bits: 1024})
	assert.ErrorContains(t, err, "below 2048")

	_, err = oauth2.NewTokenService(oauth2.TokenConfig{})
	require.Error(t, err)
	for _, want := range []string{"Store", "Tenancy", "Keys"} {
		assert.Contains(t, err.Error(), want)
	}
}

func TestKeyOverlapCoversTheLongestToken(t *testing.T) {
	assert.Equal(t, 90*24*time.Hour+5*time.Second, oauth2.TokenConfig{}.KeyOverlap(), "the defaults")
	assert.Equal(t, 2*time.Hour+time.Second,
		oauth2.TokenConfig{MaxAccessTTL: 2 * time.Hour, MaxRefreshTTL: time.Hour, Leeway: time.Second}.KeyOverlap())

	st := memory.New()
	ten, err := tenancy.NewService(tenancy.Config{Store: st})
	require.NoError(t, err)
	short, err := oauth2.NewKeyManager(oauth2.KeyConfig{Store: st, Sealer: newSealer(t), Overlap: time.Hour})
	require.NoError(t, err)
	_, err = oauth2.NewTokenService(oauth2.TokenConfig{Store: st, Tenancy: ten, Keys: short})
	assert.ErrorContains(t, err, "tokens would outlive their key", "90-day refresh tokens, keys retired after an hour")
	_, err = oauth2.NewTokenService(oauth2.TokenConfig{Store: st, Tenancy: ten, Keys: short,
		MaxAccessTTL: 30 * time.Minute, MaxRefreshTTL: 30 * time.Minute})
	assert.NoError(t, err, "an hour covers half-hour tokens")

	def, err := oauth2.NewKeyManager(oauth2.KeyConfig{Store: st, Sealer: newSealer(t)})
	require.NoError(t, err)
	assert.Equal(t, oauth2.TokenConfig{}.KeyOverlap(), def.Overlap(), "the default overlap fits the default token service")
}

// TestKeysWiredInOneDirection: the KeyManager is built first; the tenancy
// service provisions new tenants' keys through it before any TokenService
// exists, and the TokenService built afterwards signs with those keys and
// retires replaced keys after the KeyManager's overlap.
func TestKeysWiredInOneDirection(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := memory.New()
	require.NoError(t, st.CreateSite(ctx, tenancytest.Site("s1", true)))
	require.NoError(t, st.CreateOwner(ctx, tenancytest.Owner("o@x.test")))
	keys, err := oauth2.NewKeyManager(oauth2.KeyConfig{Store: st, Sealer: newSealer(t), Overlap: 48 * time.Hour, Now: clock})
	require.NoError(t, err)
	ten, err := tenancy.NewService(tenancy.Config{Store: st, Keys: keys, Now: clock})
	require.NoError(t, err)
	dev := tenancytest.Tenant("dev", "s1", "o@x.test")
	dev.PublicKey = "" // a key pair is made
	created, err := ten.BootstrapTenant(ctx, dev)
	require.NoError(t, err)
	first, err := st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	require.Len(t, first, 1, "provisioned by the KeyManager alone")
	assert.Equal(t, first[0].PublicKeyPEM, created.PublicKey)
	assert.NotNil(t, first[0].SealedPrivateKey)

	tok, err := oauth2.NewTokenService(oauth2.TokenConfig{Store: st, Tenancy: ten, Keys: keys, SiteID: "s1",
		MaxAccessTTL: time.Hour, MaxRefreshTTL: time.Hour, Now: clock})
	require.NoError(t, err)
	assert.Same(t, keys, tok.Keys())
	pair, err := tok.Mint(ctx, oauth2.MintRequest{TenantID: "dev", Username: "u", AccountType: tenancy.AccountUser})
	require.NoError(t, err)
	_, err = tok.Validate(ctx, pair.Access.Raw, "")
	require.NoError(t, err, "the TokenService verifies with the provisioned key")

	tenantAdmin := tenancy.Principal{TenantID: "dev", Username: dev.AdminUser, AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: dev.AdminUser}
	now = now.Add(time.Minute) // the new key is newer: the store lists newest first
	_, err = tok.RotateKeys(ctx, tenantAdmin, "dev")
	require.NoError(t, err)
	after, err := st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	require.Len(t, after, 2)
	assert.Equal(t, first[0].KID, after[1].KID, "newest first")
	assert.Equal(t, now.Add(48*time.Hour), after[1].VerifyUntil, "the replaced key verifies for the KeyManager's overlap")
	_, err = tok.Validate(ctx, pair.Access.Raw, "")
	assert.NoError(t, err, "a token of the replaced key still validates")
}
