package tapis_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

func TestSeedRegistersClientsIdempotently(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	seed := tapis.Seed{Clients: []tapis.SeedClient{{TenantID: "dev", Owner: "testuser1", ClientID: "portal",
		ClientKey: "portal-key-0123456789", CallbackURL: "https://portal.example.org/cb"}}}
	require.NoError(t, env.Server.ApplySeed(ctx, seed))
	require.NoError(t, env.Server.ApplySeed(ctx, seed), "applying twice changes nothing")
	pair, err := env.Server.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: "password",
		ClientID: "portal", ClientKey: "portal-key-0123456789", Username: "testuser2", Password: "testuser2"})
	require.NoError(t, err)
	assert.NotNil(t, pair.Refresh, "a seeded confidential client gets refresh tokens")
	_, err = env.Server.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: "password",
		ClientID: "portal", ClientKey: "wrong-key-0123456789", Username: "testuser2", Password: "testuser2"})
	require.Error(t, err)
	bad := tapis.Seed{Clients: []tapis.SeedClient{{TenantID: "dev", Owner: "testuser1", ClientID: "x", CallbackURL: "ftp://nope"}}}
	assert.ErrorContains(t, env.Server.ApplySeed(ctx, bad), "callback_url")
}
