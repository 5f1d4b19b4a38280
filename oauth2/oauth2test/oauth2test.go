// Package oauth2test holds the conformance suites every adapter of the
// oauth2 stores runs: RunStoreTests (oauth2.Store), RunAuthStoreTests
// (oauth2.AuthStore) and RunAttemptStoreTests (oauth2.AttemptStore), so that
// memory, SQLite and PostgreSQL give the same answers.
package oauth2test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

var when = time.Date(2026, 11, 23, 9, 30, 15, 123456000, time.UTC)

// RunStoreTests runs the suite; newStore must return a fresh, empty store.
func RunStoreTests(t *testing.T, newStore func(t *testing.T) oauth2.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, st oauth2.Store)
	}{
		{"KeyRotation", testKeyRotation},
		{"KeyTenantIsolation", testKeyTenantIsolation},
		{"UpdateSealedKey", testUpdateSealedKey},
		{"Revocation", testRevocation},
		{"Accounts", testAccounts},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

func key(tenant, kid string, created time.Time) oauth2.SigningKey {
	return oauth2.SigningKey{TenantID: tenant, KID: kid, PublicKeyPEM: "pem-" + kid,
		SealedPrivateKey: []byte{1, 2, 3, byte(len(kid))}, Created: created}
}

func testKeyRotation(t *testing.T, st oauth2.Store) {
	ctx := context.Background()
	keys, err := st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	assert.Empty(t, keys)

	until1 := when.Add(48 * time.Hour)
	require.NoError(t, st.RotateSigningKey(ctx, key("dev", "k1", when), until1))
	k2 := key("dev", "k2", when.Add(time.Hour))
	k2.SealedPrivateKey = nil // verification-only
	until2 := when.Add(72 * time.Hour)
	require.NoError(t, st.RotateSigningKey(ctx, k2, until2))
	require.NoError(t, st.RotateSigningKey(ctx, key("dev", "k3", when.Add(2*time.Hour)), until2))

	keys, err = st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	require.Len(t, keys, 3)
	assert.Equal(t, []string{"k3", "k2", "k1"}, []string{keys[0].KID, keys[1].KID, keys[2].KID}, "newest first")
	assert.True(t, keys[0].Current())
	assert.True(t, keys[0].VerifyUntil.IsZero())
	assert.False(t, keys[1].Current())
	assert.Equal(t, when.Add(2*time.Hour), keys[1].RetiredAt)
	assert.Equal(t, until2, keys[1].VerifyUntil)
	assert.Nil(t, keys[1].SealedPrivateKey, "a verification-only key stays without private key")
	assert.Equal(t, when.Add(time.Hour), keys[2].RetiredAt, "k1 was retired when k2 arrived")
	assert.Equal(t, until2, keys[2].VerifyUntil, "the retire time of k1 is not moved by later rotations")
	assert.Equal(t, []byte{1, 2, 3, 2}, keys[0].SealedPrivateKey)
	assert.Equal(t, "pem-k3", keys[0].PublicKeyPEM)
	assert.Equal(t, when.Add(2*time.Hour), keys[0].Created)
	assert.ErrorIs(t, st.RotateSigningKey(ctx, key("dev", "k3", when.Add(3*time.Hour)), until2), oauth2.ErrAlreadyExists)
}

func testKeyTenantIsolation(t *testing.T, st oauth2.Store) {
	ctx := context.Background()
	require.NoError(t, st.RotateSigningKey(ctx, key("dev", "k1", when), when))
	require.NoError(t, st.RotateSigningKey(ctx, key("other", "k9", when), when))
	keys, err := st.ListSigningKeys(ctx, "other")
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Equal(t, "k9", keys[0].KID)
	assert.True(t, keys[0].Current(), "rotating dev does not retire other tenants' keys")
	assert.ErrorIs(t, st.UpdateSealedKey(ctx, "other", "k1", []byte{9}), oauth2.ErrNotFound, "no cross-tenant key update")
}

func testUpdateSealedKey(t *testing.T, st oauth2.Store) {
	ctx := context.Background()
	require.NoError(t, st.RotateSigningKey(ctx, key("dev", "k1", when), when))
	require.NoError(t, st.UpdateSealedKey(ctx, "dev", "k1", []byte{7, 7}))
	keys, err := st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, []byte{7, 7}, keys[0].SealedPrivateKey)
	assert.ErrorIs(t, st.UpdateSealedKey(ctx, "dev", "nope", []byte{1}), oauth2.ErrNotFound)
}

func testRevocation(t *testing.T, st oauth2.Store) {
	ctx := context.Background()
	ok, err := st.IsTokenRevoked(ctx, "dev", "j1")
	require.NoError(t, err)
	assert.False(t, ok)
	require.NoError(t, st.RevokeToken(ctx, "dev", "j1", when.Add(time.Hour)))
	require.NoError(t, st.RevokeToken(ctx, "dev", "j1", when.Add(time.Hour)), "revoking twice is fine")
	require.NoError(t, st.RevokeToken(ctx, "dev", "j2", when.Add(-time.Hour)))
	ok, err = st.IsTokenRevoked(ctx, "dev", "j1")
	require.NoError(t, err)
	assert.True(t, ok)
	ok, err = st.IsTokenRevoked(ctx, "other", "j1")
	require.NoError(t, err)
	assert.False(t, ok, "revocations are per tenant")
	n, err := st.PurgeRevocations(ctx, when)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ok, err = st.IsTokenRevoked(ctx, "dev", "j2")
	require.NoError(t, err)
	assert.False(t, ok, "expired revocations are purged")
	ok, err = st.IsTokenRevoked(ctx, "dev", "j1")
	require.NoError(t, err)
	assert.True(t, ok, "live revocations stay")
}

func testAccounts(t *testing.T, st oauth2.Store) {
	ctx := context.Background()
	a := oauth2.Account{TenantID: "admin", Username: "tokens", Type: tenancy.AccountService, PasswordHash: []byte("$2a$hash"), Created: when}
	require.NoError(t, st.PutAccount(ctx, a))
	got, err := st.GetAccount(ctx, "admin", "tokens")
	require.NoError(t, err)
	assert.Equal(t, a, got)
	_, err = st.GetAccount(ctx, "dev", "tokens")
	assert.ErrorIs(t, err, oauth2.ErrNotFound, "accounts are per tenant")
	a.PasswordHash = []byte("$2a$other")
	require.NoError(t, st.PutAccount(ctx, a), "put replaces")
	got, err = st.GetAccount(ctx, "admin", "tokens")
	require.NoError(t, err)
	assert.Equal(t, []byte("$2a$other"), got.PasswordHash)
	require.NoError(t, st.PutAccount(ctx, oauth2.Account{TenantID: "admin", Username: "files", Type: tenancy.AccountService, PasswordHash: []byte("h"), Created: when}))
	require.NoError(t, st.PutAccount(ctx, oauth2.Account{TenantID: "dev", Username: "alice", Type: tenancy.AccountUser, PasswordHash: []byte("h"), Created: when}))
	list, err := st.ListAccounts(ctx, "admin")
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, []string{"files", "tokens"}, []string{list[0].Username, list[1].Username})
	require.NoError(t, st.DeleteAccount(ctx, "admin", "files"))
	assert.ErrorIs(t, st.DeleteAccount(ctx, "admin", "files"), oauth2.ErrNotFound)
	assert.ErrorIs(t, st.DeleteAccount(ctx, "admin", "alice"), oauth2.ErrNotFound, "no cross-tenant delete")
}
