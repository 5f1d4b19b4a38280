package oauth2_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// The device flow (RFC 8628 with the Tapis field names; README "Device
// flow"): tokens only after the user approved, slow_down for fast polling,
// one redemption, the user's lifetime capped by the tenant maximum.

var userCodeShape = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)

func TestNormalizeUserCode(t *testing.T) {
	for in, want := range map[string]string{"bcdf-ghjk": "BCDF-GHJK", "BCDFGHJK": "BCDF-GHJK", " bcdf ghjk ": "BCDF-GHJK", "abc": "ABC"} {
		assert.Equal(t, want, oauth2.NormalizeUserCode(in), in)
	}
}

func testDeviceFlow(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, _, err := p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "df-cli", Public: true})
	require.NoError(t, err)
	poll := func(code string) (oauth2.TokenPair, error) {
		return p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantDeviceCode, ClientID: "df-cli", DeviceCode: code})
	}

	da, err := p.StartDevice(ctx, "dev", "df-cli", "http://dev.tapis.test/")
	require.NoError(t, err)
	assert.Regexp(t, userCodeShape, da.UserCode, "8 letters without vowels")
	assert.Equal(t, "http://dev.tapis.test/v3/oauth2/device", da.VerificationURI)
	assert.Equal(t, 10*time.Minute, da.ExpiresIn)
	assert.Equal(t, 5*time.Second, da.Interval)
	assert.Len(t, da.DeviceCode, 43)

	_, err = poll(da.DeviceCode)
	refusedGrant(t, err, "authorization_pending", "device code not ready.")
	_, err = poll(da.DeviceCode)
	refusedGrant(t, err, "slow_down", "Polling too fast")
	var ge *oauth2.GrantError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, 10*time.Second, ge.Interval, "slow_down adds five seconds to the interval")

	// Entered but not yet approved: still pending.
	_, err = p.EnterUserCode(ctx, "dev", "testuser2", strings.ToLower(strings.ReplaceAll(da.UserCode, "-", "")))
	require.NoError(t, err, "a user code is case-insensitive and its dash optional")
	_, err = p.EnterUserCode(ctx, "dev", "testuser3", da.UserCode)
	assert.ErrorIs(t, err, tenancy.ErrInvalid, "an entered code is not entered again")
	env.Clock.Advance(11 * time.Second)
	_, err = poll(da.DeviceCode)
	refusedGrant(t, err, "authorization_pending", "")

	err = p.DecideDevice(ctx, "dev", "testuser3", da.UserCode, true, 0)
	require.ErrorIs(t, err, tenancy.ErrInvalid, "only the user who entered the code approves it")
	assert.ErrorContains(t, err, "Code not eligible for approval.")
	require.NoError(t, p.DecideDevice(ctx, "dev", "testuser2", da.UserCode, true, time.Hour))
	env.Clock.Advance(11 * time.Second)
	pair, err := poll(da.DeviceCode)
	require.NoError(t, err)
	assert.Equal(t, int64(3600), pair.Access.ExpiresIn, "the lifetime the user chose")
	require.NotNil(t, pair.Refresh)
	c := claimsOf(t, pair.Access.Raw)
	assert.Equal(t, "testuser2", c["tapis/username"])
	assert.Equal(t, "df-cli", c["tapis/client_id"])
	assert.Equal(t, "device_code", c["tapis/grant_type"])

	_, err = poll(da.DeviceCode)
	refusedGrant(t, err, "invalid_grant", "device code not valid.") // tokens once
	_, err = poll("no-such-device-code")
	refusedGrant(t, err, "invalid_grant", "device code not valid.")
}

func testDeviceFlowRefusals(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, key := confidentialClient(t, env, "dr-cli")
	_, _, err := p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "dr-other", Public: true})
	require.NoError(t, err)
	start := func() oauth2.DeviceAuthorization {
		da, err := p.StartDevice(ctx, "dev", "dr-cli", "http://dev.tapis.test")
		require.NoError(t, err)
		return da
	}
	poll := func(id, k, code string) error {
		_, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantDeviceCode, ClientID: id, ClientKey: k, DeviceCode: code})
		return err
	}

	_, err = p.StartDevice(ctx, "dev", "", "http://dev.tapis.test")
	refusedGrant(t, err, "invalid_request", "Required client_id parameter missing.")
	_, err = p.StartDevice(ctx, "dev", "nosuch", "http://dev.tapis.test")
	refusedGrant(t, err, "invalid_client", "Invalid client: nosuch")
	_, err = p.StartDeviceFrom(ctx, "dev", "dr-cli", "wrong-key-wrong-key", "http://dev.tapis.test", "192.0.2.1")
	refusedGrant(t, err, "invalid_client", "Invalid client credentials.")
	_, err = p.StartDeviceFrom(ctx, "dev", "dr-cli", key, "http://dev.tapis.test", "192.0.2.1")
	assert.NoError(t, err)

	da := start()
	assert.ErrorContains(t, poll("dr-other", "", da.DeviceCode), "Client IDs do not match")
	assert.Equal(t, "invalid_client", grantCode(poll("dr-cli", "wrong-key-wrong-key", da.DeviceCode)))
	assert.Equal(t, "invalid_request", grantCode(poll("dr-cli", "", "")))
	assert.Equal(t, "invalid_request", grantCode(poll("", "", da.DeviceCode)))

	denied := start()
	_, err = p.EnterUserCode(ctx, "dev", "testuser2", denied.UserCode)
	require.NoError(t, err)
	require.NoError(t, p.DecideDevice(ctx, "dev", "testuser2", denied.UserCode, false, 0))
	refusedGrant(t, poll("dr-cli", key, denied.DeviceCode), "access_denied", "The user denied the authorization request.")
	assert.ErrorIs(t, p.DecideDevice(ctx, "dev", "testuser2", denied.UserCode, true, 0), tenancy.ErrInvalid, "a denial is final")

	_, err = p.EnterUserCode(ctx, "dev", "testuser2", "BCDF-BCDF")
	assert.ErrorIs(t, err, tenancy.ErrInvalid)
	assert.ErrorContains(t, err, "Invalid code.")
	assert.ErrorContains(t, p.DecideDevice(ctx, "dev", "testuser2", "BCDF-BCDF", true, 0), "Invalid code.")

	late := start()
	env.Clock.Advance(10*time.Minute + time.Second)
	_, err = p.EnterUserCode(ctx, "dev", "testuser2", late.UserCode)
	assert.ErrorContains(t, err, "Code not eligible to be entered.")
	refusedGrant(t, poll("dr-cli", key, late.DeviceCode), "expired_token", "device code has expired.")

}

// testDeviceLifetimeIsCapped: the lifetime the user picks (default 30
// days) is capped by the tenant's maximum access TTL.
func testDeviceLifetimeIsCapped(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, _, err := p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "dl-cli", Public: true})
	require.NoError(t, err)
	for _, ttl := range []time.Duration{0, 365 * 24 * time.Hour} {
		da, err := p.StartDevice(ctx, "dev", "dl-cli", "http://dev.tapis.test")
		require.NoError(t, err)
		_, err = p.EnterUserCode(ctx, "dev", "testuser1", da.UserCode)
		require.NoError(t, err)
		require.NoError(t, p.DecideDevice(ctx, "dev", "testuser1", da.UserCode, true, ttl))
		pair, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantDeviceCode, ClientID: "dl-cli", DeviceCode: da.DeviceCode})
		require.NoError(t, err)
		assert.Equal(t, int64((24 * time.Hour).Seconds()), pair.Access.ExpiresIn, "ttl %s is capped at the maximum", ttl)
	}
}

// testDeviceCodesPerAddressAreCounted: device codes are created without
// authentication, so an address gets five times MaxLoginFailures of them
// in a tenant before it must wait.
func testDeviceCodesPerAddressAreCounted(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	_, _, err := p.CreateClient(ctx, devUser("testuser1"), oauth2.NewClient{ClientID: "dc-cli", Public: true})
	require.NoError(t, err)
	allowed := 5 * p.Tokens().Limiter().Config().MaxFailures
	require.Positive(t, allowed)
	for i := range allowed {
		_, err := p.StartDeviceFrom(ctx, "dev", "dc-cli", "", "http://dev.tapis.test", "192.0.2.7")
		require.NoError(t, err, "code %d", i+1)
	}
	_, err = p.StartDeviceFrom(ctx, "dev", "dc-cli", "", "http://dev.tapis.test", "192.0.2.7")
	assert.ErrorIs(t, err, oauth2.ErrRateLimited)
	_, err = p.StartDeviceFrom(ctx, "dev", "dc-cli", "", "http://dev.tapis.test", "192.0.2.8")
	assert.NoError(t, err, "another address is not held back")
	_, err = p.StartDeviceFrom(ctx, "other", "dc-cli", "", "http://other.tapis.test", "192.0.2.7")
	assert.NotErrorIs(t, err, oauth2.ErrRateLimited, "nor is the same address in another tenant")
}
