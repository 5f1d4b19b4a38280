package devseed_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

func TestSeedRegistersClientsIdempotently(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	seed := devseed.Seed{Clients: []devseed.Client{{TenantID: "dev", Owner: "testuser1", ClientID: "portal",
		ClientKey: "portal-key-0123456789", CallbackURL: "https://portal.example.org/cb"}}}
	require.NoError(t, devseed.Apply(ctx, env.Server, seed))
	require.NoError(t, devseed.Apply(ctx, env.Server, seed), "applying twice changes nothing")
	pair, err := env.Server.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: "password",
		ClientID: "portal", ClientKey: "portal-key-0123456789", Username: "testuser2", Password: "testuser2"})
	require.NoError(t, err)
	assert.NotNil(t, pair.Refresh, "a seeded confidential client gets refresh tokens")
	_, err = env.Server.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: "password",
		ClientID: "portal", ClientKey: "wrong-key-0123456789", Username: "testuser2", Password: "testuser2"})
	require.Error(t, err)
	bad := devseed.Seed{Clients: []devseed.Client{{TenantID: "dev", Owner: "testuser1", ClientID: "x", CallbackURL: "ftp://nope"}}}
	assert.ErrorContains(t, devseed.Apply(ctx, env.Server, bad), "callback_url")
}
