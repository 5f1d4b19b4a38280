package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// TestRefreshTokenOnlyInItsTenant: a refresh token of dev presented to
// tenant other's token endpoints (Tapis and RFC 6749) is refused because it
// belongs to another tenant, even when other has a client with the same id
// and key, and it is not consumed: it still works in dev.
func TestRefreshTokenOnlyInItsTenant(t *testing.T) {
	env := testenv.New(t)
	key := testClient(t, env)
	otherHost := "other." + testenv.Host
	// The same client id and key in tenant other (an owner there chose
	// them): client authentication alone cannot tell the tenants apart.
	c := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/clients", Host: otherHost,
		Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "other", "testuser1")},
		Body:    map[string]any{"client_id": testClientID, "client_key": key, "callback_url": testCallback}})
	require.Equal(t, 201, c.Code, "body: %s", c.Raw)

	first := passwordGrant(t, env, key)
	require.Equal(t, 201, first.Code, "body: %s", first.Raw)
	refresh := first.Result()["refresh_token"].(map[string]any)["refresh_token"].(string)

	t.Run("Tapis endpoint", func(t *testing.T) {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Host: otherHost, Headers: basic(testClientID, key),
			Body: map[string]any{"grant_type": "refresh_token", "refresh_token": refresh}})
		assert.Equal(t, 400, r.Code, "body: %s", r.Raw)
		assert.Contains(t, r.Message(), "belongs to another tenant")
		assert.Nil(t, r.Body["result"], "no tokens")
	})
	t.Run("RFC 6749 endpoint", func(t *testing.T) {
		req := formRequest("/v3/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, basic(testClientID, key))
		req.Host = otherHost
		r := env.Do(t, req)
		assert.Equal(t, 400, r.Code, "body: %s", r.Raw)
		assert.Equal(t, "invalid_grant", r.Body["error"])
		assert.Contains(t, r.Body["error_description"], "belongs to another tenant")
		assert.Nil(t, r.Body["access_token"], "no tokens")
	})

	// Neither attempt used it up (nor revoked its family): dev redeems it.
	again := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic(testClientID, key),
		Body: map[string]any{"grant_type": "refresh_token", "refresh_token": refresh}})
	require.Equal(t, 201, again.Code, "body: %s", again.Raw)
}
