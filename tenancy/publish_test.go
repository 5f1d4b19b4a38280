package tenancy_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

func publicPEM(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func service(tenant, name string) tenancy.Principal {
	return tenancy.Principal{TenantID: tenant, Username: name, AccountType: tenancy.AccountService, TokenTenantID: tenant, TokenUsername: name}
}

// TestPublicKeyFromTheOwningSiteOnly: public_key of a tenant changes only
// for a tenant of another site, and only by a tenant updater service of
// that site's admin tenant; the key is adopted (verification) before the
// record changes, and the change is in the history. Everyone else is
// refused: the primary's own registry service, another associate, a
// tenant admin, and anyone for a tenant this site signs itself.
func TestPublicKeyFromTheOwningSiteOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	k := &keys{}
	svc, err := tenancy.NewService(tenancy.Config{Store: w.st, Keys: k, Now: w.now.Now})
	require.NoError(t, err)
	for _, id := range []string{"a", "b"} {
		s := tenancytest.Site(id, false)
		s.SiteAdminTenantID = id + "admin"
		_, err := svc.CreateSite(ctx, creator, s)
		require.NoError(t, err)
		for _, tn := range []string{id + "admin", "t" + id} {
			ten := tenancytest.Tenant(tn, id, "o@x.test")
			ten.PublicKey = ""
			_, err := svc.CreateTenant(ctx, creator, ten)
			require.NoError(t, err)
		}
	}
	assert.Empty(t, k.asked, "no keys are made here for the tenants of other sites")

	key := publicPEM(t)
	for _, c := range []struct {
		name string
		p    tenancy.Principal
	}{
		{"the primary's registry service", creator},
		{"another associate's updater", service("badmin", "tokens")},
		{"the tenant's own admin user", user("ta", "admin")},
		{"a service of the owning site's admin tenant that is no updater", service("aadmin", "jobs")},
	} {
		_, err := svc.UpdateTenant(ctx, c.p, "ta", tenancy.TenantUpdate{PublicKey: &key})
		assert.ErrorIs(t, err, tenancy.ErrForbidden, c.name)
	}
	got, err := svc.GetTenant(ctx, "ta")
	require.NoError(t, err)
	assert.Empty(t, got.PublicKey, "no refused publication changed the record")
	assert.Empty(t, k.asked, "nor the keys")

	bad := "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"
	_, err = svc.UpdateTenant(ctx, service("aadmin", "tokens"), "ta", tenancy.TenantUpdate{PublicKey: &bad})
	assertRules(t, err, tenancy.ErrInvalid, "public_key must be a PEM RSA public key")

	w.now.Advance(1)
	got, err = svc.UpdateTenant(ctx, service("aadmin", "tokens"), "ta", tenancy.TenantUpdate{PublicKey: &key})
	require.NoError(t, err, "the owning site's tokens service publishes")
	assert.Equal(t, key, got.PublicKey)
	assert.Equal(t, []string{"adopt|ta"}, k.asked, "the key is adopted for verification")
	hist, err := svc.TenantHistory(ctx, "ta")
	require.NoError(t, err)
	require.NotEmpty(t, hist)
	assert.Equal(t, key, hist[len(hist)-1].Updates["public_key"].New)
	assert.Equal(t, "tokens@aadmin", hist[len(hist)-1].UpdatedBy)

	_, err = svc.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{PublicKey: &key})
	assertRules(t, err, tenancy.ErrInvalid, "public_key is managed by the Tokens service")
}

// TestAssociateRegistryIsReadOnly: an instance whose registry is a copy of
// the primary's refuses every write with ErrMisdirected naming the
// primary, before any other rule.
func TestAssociateRegistryIsReadOnly(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	svc, err := tenancy.NewService(tenancy.Config{Store: w.st, SiteID: "p", PrimaryURL: "https://primary.test"})
	require.NoError(t, err)
	desc := "x"
	_, err = svc.UpdateTenant(ctx, creator, "dev", tenancy.TenantUpdate{Description: &desc})
	assertRules(t, err, tenancy.ErrMisdirected, "kept by the primary site (https://primary.test)")
	_, err = svc.CreateOwner(ctx, creator, tenancytest.Owner("n@x.test"))
	assert.ErrorIs(t, err, tenancy.ErrMisdirected)
	_, err = svc.GetTenant(ctx, "dev")
	assert.NoError(t, err, "reads are served")
}
