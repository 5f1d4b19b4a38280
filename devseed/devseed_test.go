package devseed_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
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

// TestDevSeedHashesCheaply: the -dev fixtures are hashed at bcrypt.MinCost
// whatever Config.PasswordCost says (their passwords are public or
// printed; at the configured cost they made each -dev start take about a
// second), still verify, and an account given without HashCost keeps the
// configured cost.
func TestDevSeedHashesCheaply(t *testing.T) {
	env := testenv.New(t, func(c *tapis.Config) { c.PasswordCost = bcrypt.MinCost + 2 })
	ctx := context.Background()
	pw := map[string]string{}
	seed := devseed.Dev("cost.test", pw)
	seed.Accounts = append(seed.Accounts, devseed.Account{TenantID: "dev", Username: "real", AccountType: tenancy.AccountUser, Password: "a-real-password"})
	require.NoError(t, devseed.Apply(ctx, env.Server, seed))
	for _, c := range []struct {
		tenant, user string
		cost         int
	}{{"dev", "testuser1", bcrypt.MinCost}, {"dev", "testadmin", bcrypt.MinCost}, {"admin", "tokens", bcrypt.MinCost},
		{"dev", "real", bcrypt.MinCost + 2}} {
		acct, err := env.Backend.GetAccount(ctx, c.tenant, c.user)
		require.NoError(t, err)
		cost, err := bcrypt.Cost(acct.PasswordHash)
		require.NoError(t, err)
		assert.Equal(t, c.cost, cost, "%s@%s", c.user, c.tenant)
	}
	_, err := env.Server.Tokens().Accounts.Verify(ctx, "dev", "testuser1", "testuser1")
	assert.NoError(t, err)
	_, err = env.Server.Tokens().Accounts.Verify(ctx, "admin", "tokens", pw["tokens"])
	assert.NoError(t, err)
	_, err = env.Server.Tokens().Accounts.Verify(ctx, "dev", "testuser1", "wrong-password")
	assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials)
}
