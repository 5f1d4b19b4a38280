package bunstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/oauth2"
)

// authWhen is the reference time of the authenticator tests (UTC, whole
// microseconds, so that it survives storage unchanged).
var authWhen = time.Date(2026, 11, 23, 9, 30, 15, 123456000, time.UTC)

// runAuthExtra checks what oauth2test.RunAuthStoreTests does not: nil versus
// empty values, full replacement of a tenant configuration, time
// normalization, lost updates and tenant isolation of every call.
func runAuthExtra(t *testing.T, open backend) {
	t.Run("TenantConfigNilAndEmpty", func(t *testing.T) { testConfigNilAndEmpty(t, open(t)) })
	t.Run("TenantConfigPutReplacesEveryField", func(t *testing.T) { testConfigReplaces(t, open(t)) })
	t.Run("AuthTimeNormalization", func(t *testing.T) { testAuthTimes(t, open(t)) })
	t.Run("ConcurrentDeviceUpdates", func(t *testing.T) { testConcurrentDeviceUpdates(t, open(t)) })
	t.Run("ConcurrentClientUpdates", func(t *testing.T) { testConcurrentClientUpdates(t, open(t)) })
	t.Run("AuthTenantIsolation", func(t *testing.T) { testAuthIsolation(t, open(t)) })
	t.Run("CodeReuseAfterRecord", func(t *testing.T) { testCodeReuseAfterRecord(t, open(t)) })
}

func testConfigNilAndEmpty(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	nils := oauth2.TenantConfig{TenantID: "dev", Updated: authWhen}
	require.NoError(t, st.PutTenantConfig(ctx, nils))
	got, err := st.GetTenantConfig(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, nils, got, "nil lists and maps stay nil")
	assert.Nil(t, got.AllowableGrantTypes)
	assert.Nil(t, got.MFAConfig)
	assert.Nil(t, got.CustomIdPConfiguration)
	assert.Nil(t, got.SealedSecrets)

	empties := oauth2.TenantConfig{TenantID: "dev", AllowableGrantTypes: []string{}, MFAConfig: map[string]any{},
		CustomIdPConfiguration: map[string]any{}, SealedSecrets: []byte{}, Updated: authWhen}
	require.NoError(t, st.PutTenantConfig(ctx, empties))
	got, err = st.GetTenantConfig(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, empties, got, "empty lists and maps stay empty")
	assert.NotNil(t, got.AllowableGrantTypes)
	assert.NotNil(t, got.MFAConfig)
	assert.NotNil(t, got.CustomIdPConfiguration)
	assert.NotNil(t, got.SealedSecrets)
}

func testConfigReplaces(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	a := oauth2.TenantConfig{TenantID: "dev", AllowableGrantTypes: []string{"password"}, UseLDAP: true,
		UseTokenWebapp: true, MFAConfig: map[string]any{"a": "b"}, DefaultAccessTTL: time.Hour,
		DefaultRefreshTTL: 2 * time.Hour, MaxAccessTTL: 3 * time.Hour, MaxRefreshTTL: 4 * time.Hour,
		CustomIdPConfiguration: map[string]any{"n": 1.5, "l": []any{"x", true, nil}}, TokenURL: "https://a.example.org/token",
		ImpersOAuthClientID: "imp-a", ImpersadminUsername: "admin-a", SealedSecrets: []byte{1}, Updated: authWhen}
	b := oauth2.TenantConfig{TenantID: "dev", AllowableGrantTypes: []string{"device_code", "refresh_token"},
		DefaultAccessTTL: 5 * time.Hour, DefaultRefreshTTL: 6 * time.Hour, MaxAccessTTL: 7 * time.Hour,
		MaxRefreshTTL: 8 * time.Hour, TokenURL: "https://b.example.org/token", ImpersOAuthClientID: "imp-b",
		ImpersadminUsername: "admin-b", SealedSecrets: []byte{2, 3}, Updated: authWhen.Add(time.Minute)}
	require.NoError(t, st.PutTenantConfig(ctx, a))
	got, err := st.GetTenantConfig(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, a, got, "JSON values come back as decoded JSON")
	require.NoError(t, st.PutTenantConfig(ctx, b))
	got, err = st.GetTenantConfig(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, b, got, "a put replaces every field")
	other := b
	other.TenantID = "other"
	require.NoError(t, st.PutTenantConfig(ctx, other))
	got, err = st.GetTenantConfig(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, b, got, "another tenant's put leaves the configuration alone")
}

// testAuthTimes stores times with nanoseconds in another zone: they come
// back in UTC, truncated to microseconds; zero times stay zero.
func testAuthTimes(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	zone := time.FixedZone("UTC+2", 2*3600)
	in := time.Date(2026, 1, 2, 3, 4, 5, 123456789, zone)
	want := time.Date(2026, 1, 2, 1, 4, 5, 123456000, time.UTC)

	require.NoError(t, st.CreateDeviceCode(ctx, oauth2.DeviceCode{TenantID: "dev", CodeHash: "d", UserCode: "U",
		Status: oauth2.DeviceCreated, Interval: 5 * time.Second, Created: in, Expires: in}))
	d, err := st.GetDeviceCode(ctx, "dev", "d")
	require.NoError(t, err)
	assert.Equal(t, want, d.Created)
	assert.Equal(t, want, d.Expires)
	assert.True(t, d.LastPoll.IsZero())

	require.NoError(t, st.PutRefreshToken(ctx, oauth2.RefreshRecord{TenantID: "dev", JTI: "r", FamilyID: "f",
		Expires: in, Created: in}))
	r, err := st.UseRefreshToken(ctx, "dev", "r", in)
	require.NoError(t, err)
	assert.Equal(t, want, r.UsedAt)
	assert.Equal(t, time.UTC, r.UsedAt.Location())
	assert.True(t, r.AccessExp.IsZero())

	require.NoError(t, st.CreateAuthCode(ctx, oauth2.AuthCode{TenantID: "dev", CodeHash: "c", Created: in, Expires: in}))
	c, err := st.RedeemAuthCode(ctx, "dev", "c", in)
	require.NoError(t, err)
	assert.Equal(t, want, c.RedeemedAt)
	assert.True(t, c.ReuseSeenAt.IsZero())
	_, err = st.RecordCodeTokens(ctx, "dev", "c", "j", time.Time{}, "")
	require.NoError(t, err)
	c, err = st.RedeemAuthCode(ctx, "dev", "c", in.Add(time.Second))
	require.ErrorIs(t, err, oauth2.ErrCodeUsed)
	assert.Equal(t, want.Add(time.Second), c.ReuseSeenAt)
	assert.True(t, c.AccessExp.IsZero(), "a zero access expiry stays zero")
	c, err = st.RedeemAuthCode(ctx, "dev", "c", in.Add(time.Hour))
	require.ErrorIs(t, err, oauth2.ErrCodeUsed)
	assert.Equal(t, want.Add(time.Second), c.ReuseSeenAt, "the first reuse is kept")
	assert.Equal(t, want, c.RedeemedAt, "the redemption time is kept")
}

// runParallel runs fn from workers goroutines rounds times each and fails on
// the first error.
func runParallel(t *testing.T, workers, rounds int, fn func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				errs <- fn()
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func testConcurrentDeviceUpdates(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	require.NoError(t, st.CreateDeviceCode(ctx, oauth2.DeviceCode{TenantID: "dev", CodeHash: "d", UserCode: "U",
		Status: oauth2.DeviceCreated, Created: authWhen, Expires: authWhen.Add(time.Hour)}))
	const workers, rounds = 8, 10
	runParallel(t, workers, rounds, func() error {
		_, err := st.UpdateDeviceCode(ctx, "dev", "d", func(d *oauth2.DeviceCode) error {
			d.Interval += time.Second
			return nil
		})
		return err
	})
	got, err := st.GetDeviceCode(ctx, "dev", "d")
	require.NoError(t, err)
	assert.Equal(t, workers*rounds*time.Second, got.Interval, "no lost update")
}

func testConcurrentClientUpdates(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	require.NoError(t, st.CreateClient(ctx, oauth2.Client{TenantID: "dev", ClientID: "c", Active: true,
		Created: authWhen, Updated: authWhen}))
	const workers, rounds = 8, 10
	runParallel(t, workers, rounds, func() error {
		_, err := st.UpdateClient(ctx, "dev", "c", func(c *oauth2.Client) error {
			c.Description += "x"
			return nil
		})
		return err
	})
	got, err := st.GetClient(ctx, "dev", "c")
	require.NoError(t, err)
	assert.Len(t, got.Description, workers*rounds, "no lost update")
}

// testAuthIsolation seeds tenant dev and calls every method from tenant
// other: nothing is found, nothing changes.
func testAuthIsolation(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	require.NoError(t, st.CreateClient(ctx, oauth2.Client{TenantID: "dev", ClientID: "c", Active: true,
		Created: authWhen, Updated: authWhen}))
	require.NoError(t, st.CreateAuthCode(ctx, oauth2.AuthCode{TenantID: "dev", CodeHash: "h", Created: authWhen,
		Expires: authWhen.Add(time.Hour)}))
	require.NoError(t, st.CreateDeviceCode(ctx, oauth2.DeviceCode{TenantID: "dev", CodeHash: "d", UserCode: "U",
		Status: oauth2.DeviceCreated, Created: authWhen, Expires: authWhen.Add(time.Hour)}))
	require.NoError(t, st.PutRefreshToken(ctx, oauth2.RefreshRecord{TenantID: "dev", JTI: "r", FamilyID: "f",
		Expires: authWhen.Add(time.Hour), Created: authWhen}))
	require.NoError(t, st.PutTenantConfig(ctx, oauth2.TenantConfig{TenantID: "dev", Updated: authWhen}))

	notFound := func(err error, call string) { assert.ErrorIs(t, err, oauth2.ErrNotFound, call) }
	_, err := st.GetClient(ctx, "other", "c")
	notFound(err, "GetClient")
	list, err := st.ListClients(ctx, "other", "", true)
	require.NoError(t, err)
	assert.Empty(t, list, "ListClients")
	_, err = st.UpdateClient(ctx, "other", "c", func(*oauth2.Client) error { return nil })
	notFound(err, "UpdateClient")
	_, err = st.RedeemAuthCode(ctx, "other", "h", authWhen)
	notFound(err, "RedeemAuthCode")
	_, err = st.RecordCodeTokens(ctx, "other", "h", "j", authWhen, "f")
	notFound(err, "RecordCodeTokens")
	_, err = st.GetDeviceCode(ctx, "other", "d")
	notFound(err, "GetDeviceCode")
	_, err = st.GetDeviceCodeByUserCode(ctx, "other", "U")
	notFound(err, "GetDeviceCodeByUserCode")
	_, err = st.UpdateDeviceCode(ctx, "other", "d", func(*oauth2.DeviceCode) error { return nil })
	notFound(err, "UpdateDeviceCode")
	_, err = st.UseRefreshToken(ctx, "other", "r", authWhen)
	notFound(err, "UseRefreshToken")
	fam, err := st.RefreshFamily(ctx, "other", "f")
	require.NoError(t, err)
	assert.Empty(t, fam, "RefreshFamily")
	require.NoError(t, st.RevokeRefreshFamily(ctx, "other", "f", authWhen))
	_, err = st.GetTenantConfig(ctx, "other")
	notFound(err, "GetTenantConfig")

	// The same ids may exist in another tenant.
	require.NoError(t, st.CreateClient(ctx, oauth2.Client{TenantID: "other", ClientID: "c"}))
	require.NoError(t, st.CreateAuthCode(ctx, oauth2.AuthCode{TenantID: "other", CodeHash: "h"}))
	require.NoError(t, st.CreateDeviceCode(ctx, oauth2.DeviceCode{TenantID: "other", CodeHash: "d", UserCode: "U"}))
	require.NoError(t, st.PutRefreshToken(ctx, oauth2.RefreshRecord{TenantID: "other", JTI: "r", FamilyID: "f"}))

	// Tenant dev is untouched.
	c, err := st.RedeemAuthCode(ctx, "dev", "h", authWhen)
	require.NoError(t, err, "not redeemed by the other tenant")
	assert.Empty(t, c.AccessJTI)
	r, err := st.UseRefreshToken(ctx, "dev", "r", authWhen)
	require.NoError(t, err, "not used by the other tenant")
	assert.Equal(t, "f", r.FamilyID)
	revoked, err := st.IsRefreshFamilyRevoked(ctx, "dev", "f")
	require.NoError(t, err)
	assert.False(t, revoked, "not revoked by the other tenant")
	d, err := st.GetDeviceCodeByUserCode(ctx, "dev", "U")
	require.NoError(t, err)
	assert.Equal(t, oauth2.DeviceCreated, d.Status)
}

// testCodeReuseAfterRecord: a reuse after the tokens were recorded reports
// them (for the caller to revoke), and RecordCodeTokens then reports it too.
// Racing them from many goroutines, each reuse either sees the tokens or is
// reported by the record.
func testCodeReuseAfterRecord(t *testing.T, st *bunstore.Store) {
	ctx := context.Background()
	for i := range 20 {
		hash := fmt.Sprintf("h%d", i)
		require.NoError(t, st.CreateAuthCode(ctx, oauth2.AuthCode{TenantID: "dev", CodeHash: hash, Created: authWhen,
			Expires: authWhen.Add(time.Hour)}))
		_, err := st.RedeemAuthCode(ctx, "dev", hash, authWhen)
		require.NoError(t, err)
		var (
			wg       sync.WaitGroup
			reused   bool
			seenJTIs []string
			mu       sync.Mutex
		)
		wg.Add(2)
		go func() {
			defer wg.Done()
			r, err := st.RecordCodeTokens(ctx, "dev", hash, "jti", authWhen.Add(time.Hour), "fam")
			assert.NoError(t, err)
			mu.Lock()
			reused = r
			mu.Unlock()
		}()
		go func() {
			defer wg.Done()
			c, err := st.RedeemAuthCode(ctx, "dev", hash, authWhen)
			assert.True(t, errors.Is(err, oauth2.ErrCodeUsed), "%v", err)
			mu.Lock()
			seenJTIs = append(seenJTIs, c.AccessJTI)
			mu.Unlock()
		}()
		wg.Wait()
		require.Len(t, seenJTIs, 1)
		assert.True(t, reused || seenJTIs[0] == "jti", "the reuse is acted on by one side at least")
	}
}
