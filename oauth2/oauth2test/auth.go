package oauth2test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/oauth2"
)

// RunAuthStoreTests runs the authenticator store suite; newStore must return
// a fresh, empty store.
func RunAuthStoreTests(t *testing.T, newStore func(t *testing.T) oauth2.AuthStore) {
	tests := []struct {
		name string
		run  func(t *testing.T, st oauth2.AuthStore)
	}{
		{"Clients", testClients},
		{"AuthCodeSingleUse", testAuthCodeSingleUse},
		{"AuthCodeParallelRedemption", testAuthCodeParallel},
		{"DeviceCodes", testDeviceCodes},
		{"RefreshRotation", testRefreshRotation},
		{"RefreshParallelUse", testRefreshParallel},
		{"TenantConfig", testTenantConfig},
		{"Purge", testPurge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newStore(t)) })
	}
}

func client(tenant, id, owner string, active bool) oauth2.Client {
	return oauth2.Client{TenantID: tenant, ClientID: id, KeyHash: []byte{1, 2, 3}, Owner: owner,
		CallbackURL: "https://app.example.org/cb", DisplayName: "App " + id, Description: "d", Active: active,
		Created: when, Updated: when}
}

func testClients(t *testing.T, st oauth2.AuthStore) {
	ctx := context.Background()
	require.NoError(t, st.CreateClient(ctx, client("dev", "b", "alice", true)))
	require.NoError(t, st.CreateClient(ctx, client("dev", "a", "alice", false)))
	require.NoError(t, st.CreateClient(ctx, client("dev", "c", "bob", true)))
	require.NoError(t, st.CreateClient(ctx, client("other", "b", "alice", true)), "ids are per tenant")
	assert.ErrorIs(t, st.CreateClient(ctx, client("dev", "b", "carol", true)), oauth2.ErrAlreadyExists)

	got, err := st.GetClient(ctx, "dev", "b")
	require.NoError(t, err)
	assert.Equal(t, client("dev", "b", "alice", true), got)
	pub := client("dev", "pub", "alice", true)
	pub.KeyHash = nil
	require.NoError(t, st.CreateClient(ctx, pub))
	got, err = st.GetClient(ctx, "dev", "pub")
	require.NoError(t, err)
	assert.True(t, got.Public(), "a client without key stays public")
	_, err = st.GetClient(ctx, "nope", "b")
	assert.ErrorIs(t, err, oauth2.ErrNotFound)

	ids := func(owner string, inactive bool) []string {
		list, err := st.ListClients(ctx, "dev", owner, inactive)
		require.NoError(t, err)
		out := []string{}
		for _, c := range list {
			out = append(out, c.ClientID)
		}
		return out
	}
	assert.Equal(t, []string{"b", "pub"}, ids("alice", false))
	assert.Equal(t, []string{"a", "b", "pub"}, ids("alice", true))
	assert.Equal(t, []string{"a", "b", "c", "pub"}, ids("", true))

	later := when.Add(time.Minute)
	up, err := st.UpdateClient(ctx, "dev", "b", func(c *oauth2.Client) error {
		c.CallbackURL, c.Active, c.Updated = "https://new.example.org/cb", false, later
		c.ClientID = "hijack"
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "b", up.ClientID, "the id cannot change")
	got, err = st.GetClient(ctx, "dev", "b")
	require.NoError(t, err)
	assert.Equal(t, "https://new.example.org/cb", got.CallbackURL)
	assert.False(t, got.Active)
	assert.Equal(t, later, got.Updated)
	_, err = st.UpdateClient(ctx, "dev", "b", func(*oauth2.Client) error { return assert.AnError })
	assert.ErrorIs(t, err, assert.AnError)
	_, err = st.UpdateClient(ctx, "other", "c", func(*oauth2.Client) error { return nil })
	assert.ErrorIs(t, err, oauth2.ErrNotFound, "no cross-tenant update")
}

func code(hash string) oauth2.AuthCode {
	return oauth2.AuthCode{TenantID: "dev", CodeHash: hash, ClientID: "cli", Username: "alice",
		RedirectURI: "https://app.example.org/cb", CodeChallenge: "abc", CodeChallengeMethod: "S256",
		Created: when, Expires: when.Add(10 * time.Minute)}
}

func testAuthCodeSingleUse(t *testing.T, st oauth2.AuthStore) {
	ctx := context.Background()
	require.NoError(t, st.CreateAuthCode(ctx, code("h1")))
	assert.ErrorIs(t, st.CreateAuthCode(ctx, code("h1")), oauth2.ErrAlreadyExists)
	_, err := st.RedeemAuthCode(ctx, "other", "h1", when)
	assert.ErrorIs(t, err, oauth2.ErrNotFound, "codes are per tenant")
	c, err := st.RedeemAuthCode(ctx, "dev", "h1", when.Add(time.Second))
	require.NoError(t, err)
	assert.Equal(t, "alice", c.Username)
	assert.Equal(t, "abc", c.CodeChallenge)
	assert.Equal(t, "https://app.example.org/cb", c.RedirectURI)
	assert.Equal(t, when.Add(time.Second), c.RedeemedAt)
	reused, err := st.RecordCodeTokens(ctx, "dev", "h1", "jti-1", when.Add(time.Hour), "fam-1")
	require.NoError(t, err)
	assert.False(t, reused)

	c, err = st.RedeemAuthCode(ctx, "dev", "h1", when.Add(2*time.Second))
	assert.ErrorIs(t, err, oauth2.ErrCodeUsed)
	assert.Equal(t, "jti-1", c.AccessJTI, "a reused code reports the tokens it produced")
	assert.Equal(t, "fam-1", c.RefreshFam)
	assert.Equal(t, when.Add(time.Hour), c.AccessExp)

	require.NoError(t, st.CreateAuthCode(ctx, code("h2")))
	_, err = st.RedeemAuthCode(ctx, "dev", "h2", when)
	require.NoError(t, err)
	_, err = st.RedeemAuthCode(ctx, "dev", "h2", when)
	assert.ErrorIs(t, err, oauth2.ErrCodeUsed)
	reused, err = st.RecordCodeTokens(ctx, "dev", "h2", "jti-2", when.Add(time.Hour), "fam-2")
	require.NoError(t, err)
	assert.True(t, reused, "a reuse seen before the tokens were recorded is reported")

	n, err := st.PurgeAuthCodes(ctx, when.Add(11*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	_, err = st.RedeemAuthCode(ctx, "dev", "h1", when)
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
}

func testAuthCodeParallel(t *testing.T, st oauth2.AuthStore) {
	ctx := context.Background()
	require.NoError(t, st.CreateAuthCode(ctx, code("race")))
	const n = 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, used, other := 0, 0, 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.RedeemAuthCode(ctx, "dev", "race", when)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, oauth2.ErrCodeUsed):
				used++
			default:
				other++
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins, "exactly one redemption succeeds")
	assert.Equal(t, n-1, used)
	assert.Zero(t, other)
}

func testDeviceCodes(t *testing.T, st oauth2.AuthStore) {
	ctx := context.Background()
	d := oauth2.DeviceCode{TenantID: "dev", CodeHash: "d1", UserCode: "BCDF-GHJK", ClientID: "cli", Status: oauth2.DeviceCreated,
		AccessTTL: 30 * 24 * time.Hour, Interval: 5 * time.Second, Created: when, Expires: when.Add(10 * time.Minute)}
	require.NoError(t, st.CreateDeviceCode(ctx, d))
	dup := d
	dup.CodeHash = "d2"
	assert.ErrorIs(t, st.CreateDeviceCode(ctx, dup), oauth2.ErrAlreadyExists, "user codes are unique in a tenant")
	got, err := st.GetDeviceCode(ctx, "dev", "d1")
	require.NoError(t, err)
	assert.Equal(t, d, got)
	got, err = st.GetDeviceCodeByUserCode(ctx, "dev", "BCDF-GHJK")
	require.NoError(t, err)
	assert.Equal(t, "d1", got.CodeHash)
	_, err = st.GetDeviceCodeByUserCode(ctx, "other", "BCDF-GHJK")
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
	up, err := st.UpdateDeviceCode(ctx, "dev", "d1", func(x *oauth2.DeviceCode) error {
		x.Status, x.Username, x.LastPoll = oauth2.DeviceApproved, "alice", when.Add(time.Minute)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, oauth2.DeviceApproved, up.Status)
	got, err = st.GetDeviceCode(ctx, "dev", "d1")
	require.NoError(t, err)
	assert.Equal(t, "alice", got.Username)
	assert.Equal(t, when.Add(time.Minute), got.LastPoll)
	_, err = st.UpdateDeviceCode(ctx, "dev", "d1", func(*oauth2.DeviceCode) error { return assert.AnError })
	assert.ErrorIs(t, err, assert.AnError)
	got, err = st.GetDeviceCode(ctx, "dev", "d1")
	require.NoError(t, err)
	assert.Equal(t, oauth2.DeviceApproved, got.Status, "an aborted update writes nothing")
	_, err = st.UpdateDeviceCode(ctx, "dev", "nope", func(*oauth2.DeviceCode) error { return nil })
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
}

func refresh(jti, family string, created time.Time) oauth2.RefreshRecord {
	return oauth2.RefreshRecord{TenantID: "dev", JTI: jti, FamilyID: family, ClientID: "cli", Username: "alice",
		Expires: when.Add(time.Hour), AccessJTI: "a-" + jti, AccessExp: when.Add(5 * time.Minute), Created: created}
}

func testRefreshRotation(t *testing.T, st oauth2.AuthStore) {
	ctx := context.Background()
	require.NoError(t, st.PutRefreshToken(ctx, refresh("r1", "f1", when)))
	require.NoError(t, st.PutRefreshToken(ctx, refresh("r2", "f1", when.Add(time.Second))))
	require.NoError(t, st.PutRefreshToken(ctx, refresh("x1", "f2", when)))
	assert.ErrorIs(t, st.PutRefreshToken(ctx, refresh("r1", "f1", when)), oauth2.ErrAlreadyExists)

	r, err := st.UseRefreshToken(ctx, "dev", "r1", when.Add(time.Minute))
	require.NoError(t, err)
	assert.Equal(t, "f1", r.FamilyID)
	assert.Equal(t, "a-r1", r.AccessJTI)
	r, err = st.UseRefreshToken(ctx, "dev", "r1", when.Add(2*time.Minute))
	assert.ErrorIs(t, err, oauth2.ErrRefreshReused)
	assert.Equal(t, "f1", r.FamilyID, "a reuse reports the family")
	assert.Equal(t, when.Add(time.Minute), r.UsedAt)
	_, err = st.UseRefreshToken(ctx, "other", "r2", when)
	assert.ErrorIs(t, err, oauth2.ErrNotFound, "per tenant")

	fam, err := st.RefreshFamily(ctx, "dev", "f1")
	require.NoError(t, err)
	require.Len(t, fam, 2)
	assert.Equal(t, []string{"r1", "r2"}, []string{fam[0].JTI, fam[1].JTI}, "oldest first")

	revoked, err := st.IsRefreshFamilyRevoked(ctx, "dev", "f1")
	require.NoError(t, err)
	assert.False(t, revoked)
	require.NoError(t, st.RevokeRefreshFamily(ctx, "dev", "f1", when))
	require.NoError(t, st.RevokeRefreshFamily(ctx, "dev", "f1", when), "revoking twice is fine")
	revoked, err = st.IsRefreshFamilyRevoked(ctx, "dev", "f1")
	require.NoError(t, err)
	assert.True(t, revoked)
	revoked, err = st.IsRefreshFamilyRevoked(ctx, "dev", "f2")
	require.NoError(t, err)
	assert.False(t, revoked, "other families are untouched")
	revoked, err = st.IsRefreshFamilyRevoked(ctx, "other", "f1")
	require.NoError(t, err)
	assert.False(t, revoked, "per tenant")
}

func testRefreshParallel(t *testing.T, st oauth2.AuthStore) {
	ctx := context.Background()
	require.NoError(t, st.PutRefreshToken(ctx, refresh("race", "f", when)))
	const n = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, reused := 0, 0
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.UseRefreshToken(ctx, "dev", "race", when)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				wins++
			} else if errors.Is(err, oauth2.ErrRefreshReused) {
				reused++
			} else {
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 1, wins)
	assert.Equal(t, n-1, reused)
}

func testTenantConfig(t *testing.T, st oauth2.AuthStore) {
	ctx := context.Background()
	_, err := st.GetTenantConfig(ctx, "dev")
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
	c := oauth2.TenantConfig{TenantID: "dev", AllowableGrantTypes: []string{"password", "refresh_token"}, UseLDAP: true,
		UseTokenWebapp: true, MFAConfig: map[string]any{"tacc": map[string]any{"realm": "tacc"}},
		DefaultAccessTTL: 4 * time.Hour, DefaultRefreshTTL: 365 * 24 * time.Hour, MaxAccessTTL: 24 * time.Hour,
		MaxRefreshTTL: 730 * 24 * time.Hour, CustomIdPConfiguration: map[string]any{"ldap": map[string]any{"user_search_prefix": "(uid=*)"}},
		TokenURL: "https://v2.example.org/token", ImpersOAuthClientID: "imp", ImpersadminUsername: "impadmin",
		SealedSecrets: []byte{9, 8, 7}, Updated: when}
	require.NoError(t, st.PutTenantConfig(ctx, c))
	got, err := st.GetTenantConfig(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, c, got)
	c.AllowableGrantTypes = []string{"authorization_code"}
	c.MFAConfig = map[string]any{}
	require.NoError(t, st.PutTenantConfig(ctx, c), "put replaces")
	got, err = st.GetTenantConfig(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, []string{"authorization_code"}, got.AllowableGrantTypes)
	assert.Empty(t, got.MFAConfig)
	_, err = st.GetTenantConfig(ctx, "other")
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
}

func testPurge(t *testing.T, st oauth2.AuthStore) {
	ctx := context.Background()
	old := oauth2.DeviceCode{TenantID: "dev", CodeHash: "old", UserCode: "AAAA-AAAA", ClientID: "cli", Status: oauth2.DeviceCreated,
		Created: when, Expires: when.Add(10 * time.Minute)}
	fresh := old
	fresh.CodeHash, fresh.UserCode, fresh.Expires = "fresh", "BBBB-BBBB", when.Add(time.Hour)
	require.NoError(t, st.CreateDeviceCode(ctx, old))
	require.NoError(t, st.CreateDeviceCode(ctx, fresh))
	n, err := st.PurgeDeviceCodes(ctx, when.Add(30*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = st.GetDeviceCode(ctx, "dev", "old")
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
	_, err = st.GetDeviceCode(ctx, "dev", "fresh")
	assert.NoError(t, err)

	gone := refresh("gone", "fgone", when) // expires when+1h
	kept := refresh("kept", "fkept", when)
	kept.Expires = when.Add(48 * time.Hour)
	require.NoError(t, st.PutRefreshToken(ctx, gone))
	require.NoError(t, st.PutRefreshToken(ctx, kept))
	require.NoError(t, st.RevokeRefreshFamily(ctx, "dev", "fgone", when))
	require.NoError(t, st.RevokeRefreshFamily(ctx, "dev", "fkept", when))
	n, err = st.PurgeRefreshTokens(ctx, when.Add(2*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	fam, err := st.RefreshFamily(ctx, "dev", "fgone")
	require.NoError(t, err)
	assert.Empty(t, fam)
	revoked, err := st.IsRefreshFamilyRevoked(ctx, "dev", "fgone")
	require.NoError(t, err)
	assert.False(t, revoked, "the mark of a family without records goes too")
	revoked, err = st.IsRefreshFamilyRevoked(ctx, "dev", "fkept")
	require.NoError(t, err)
	assert.True(t, revoked, "a family with live records keeps its mark")
}
