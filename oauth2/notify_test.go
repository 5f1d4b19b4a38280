package oauth2_test

import (
	"context"
	"strings"
	"sync"
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

// notes records what an instance notifies.
type notes struct {
	mu  sync.Mutex
	got []string
}

func (n *notes) Notify(_ context.Context, kind, tenantID, key string) {
	n.mu.Lock()
	n.got = append(n.got, kind+"/"+tenantID+"/"+key)
	n.mu.Unlock()
}

func (n *notes) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.got
	n.got = nil
	return out
}

// instance is the tenancy and token services of one instance.
type instance struct {
	ten *tenancy.Service
	tok *oauth2.TokenService
}

func newInstance(t *testing.T, st *memory.Store, sealer *seal.Sealer, n tenancy.Notifier, now func() time.Time) instance {
	t.Helper()
	// TTLs longer than the test: only what is forgotten is reloaded.
	keys, err := oauth2.NewKeyManager(oauth2.KeyConfig{Store: st, Sealer: sealer, Overlap: 48 * time.Hour,
		CacheTTL: time.Hour, Notifier: n, Now: now})
	require.NoError(t, err)
	ten, err := tenancy.NewService(tenancy.Config{Store: st, Keys: keys, Notifier: n, RegistryTTL: time.Hour, Now: now})
	require.NoError(t, err)
	tok, err := oauth2.NewTokenService(oauth2.TokenConfig{Store: st, Tenancy: ten, Keys: keys, SiteID: "s1",
		MaxAccessTTL: time.Hour, MaxRefreshTTL: time.Hour, CacheMaxAge: time.Hour, Notifier: n, Now: now})
	require.NoError(t, err)
	return instance{ten: ten, tok: tok}
}

// TestChangesAreNotifiedAndForgotten: two instances on one store. What A
// changes (a key rotation, a revocation, a deactivation) it notifies with
// its kind, tenant and key; B, which cached the old facts, acts on the new
// ones as soon as its subscription calls the Forget methods the
// notification names, and not before (without them B would keep signing
// with the old key and accepting the revoked token for a TTL).
func TestChangesAreNotifiedAndForgotten(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st := memory.New()
	sealer := newSealer(t)
	n := &notes{}
	a := newInstance(t, st, sealer, n, clock)
	b := newInstance(t, st, sealer, nil, clock)
	site := tenancytest.Site("s1", true)
	site.SiteAdminTenantID = "dev"
	_, err := a.ten.BootstrapSite(ctx, site)
	require.NoError(t, err)
	_, err = a.ten.BootstrapOwner(ctx, tenancytest.Owner("o@x.test"))
	require.NoError(t, err)
	dev := tenancytest.Tenant("dev", "s1", "o@x.test")
	dev.PublicKey = ""
	_, err = a.ten.BootstrapTenant(ctx, dev)
	require.NoError(t, err)
	keys, err := st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, []string{"sites//", "tenant/dev/", "signing-keys/dev/" + keys[0].KID}, n.take())

	mint := func(in instance) string {
		t.Helper()
		pair, err := in.tok.Mint(ctx, oauth2.MintRequest{TenantID: "dev", Username: "u", AccountType: tenancy.AccountUser})
		require.NoError(t, err)
		return pair.Access.Raw
	}
	old := mint(b)
	assert.Equal(t, keys[0].KID, claimsKid(t, old))

	// A rotation on A: B signs with the old key until it forgets its keys.
	admin := tenancy.Principal{TenantID: "dev", Username: dev.AdminUser, AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: dev.AdminUser}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	_, err = a.tok.RotateKeys(ctx, admin, "dev")
	require.NoError(t, err)
	keys, err = st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, []string{"signing-keys/dev/" + keys[0].KID, "tenant/dev/"}, n.take())
	assert.Equal(t, keys[1].KID, claimsKid(t, mint(b)), "B has not been told")
	b.tok.Keys().ForgetKeys("dev")
	assert.Equal(t, keys[0].KID, claimsKid(t, mint(b)), "told, B signs with the new key")
	assert.Equal(t, keys[0].KID, claimsKid(t, mint(a)), "A signs with it at once")

	// A revocation on A of a token B has checked (and cached).
	tok := mint(b)
	_, err = b.tok.Validate(ctx, tok, "access")
	require.NoError(t, err)
	jti, err := a.tok.Revoke(ctx, tok)
	require.NoError(t, err)
	assert.Equal(t, []string{"revocation/dev/" + jti}, n.take())
	_, err = a.tok.Validate(ctx, tok, "access")
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken, "A refuses it at once")
	_, err = b.tok.Validate(ctx, tok, "access")
	assert.NoError(t, err, "B has it cached and has not been told")
	b.tok.ForgetCachedTokens()
	_, err = b.tok.Validate(ctx, tok, "access")
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken, "told, B refuses it")

	// A deactivation on A: B refuses the tenant's cached tokens once it
	// forgets its registry; its token cache need not be emptied.
	live := mint(b)
	_, err = b.tok.Validate(ctx, live, "access")
	require.NoError(t, err)
	inactive := tenancy.StatusInactive
	_, err = a.ten.UpdateTenant(ctx, admin, "dev", tenancy.TenantUpdate{Status: &inactive})
	require.NoError(t, err)
	assert.Equal(t, []string{"tenant/dev/"}, n.take())
	_, err = b.tok.Validate(ctx, live, "access")
	assert.NoError(t, err, "B has not been told")
	b.ten.ForgetRegistry()
	_, err = b.tok.Validate(ctx, live, "access")
	require.ErrorIs(t, err, oauth2.ErrInvalidToken, "told, B refuses the cached token")
	assert.True(t, strings.Contains(err.Error(), "not active"), err.Error())
}
