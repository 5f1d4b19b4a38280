package oauth2_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// The Authenticator plug-in point (built-in users, routing by tenant,
// first configured) and the built-in accounts.

// fixed is an Authenticator for one user that also lists profiles.
type fixed struct {
	user, password string
	notFor         string // a tenant it does not serve
}

func (f fixed) Authenticate(_ context.Context, tenantID, username, password string) (oauth2.Identity, error) {
	switch {
	case tenantID == f.notFor:
		return oauth2.Identity{}, oauth2.ErrNotConfigured
	case strings.EqualFold(username, f.user) && password == f.password:
		return oauth2.Identity{Username: f.user}, nil
	}
	return oauth2.Identity{}, oauth2.ErrInvalidCredentials
}

func (f fixed) GetProfile(_ context.Context, tenantID, username string) (oauth2.Profile, error) {
	if tenantID == f.notFor {
		return oauth2.Profile{}, oauth2.ErrNotConfigured
	}
	return oauth2.Profile{Username: username, Email: username + "@example.org"}, nil
}

func (f fixed) ListProfiles(_ context.Context, tenantID string, _, _ int) ([]oauth2.Profile, error) {
	if tenantID == f.notFor {
		return nil, oauth2.ErrNotConfigured
	}
	return []oauth2.Profile{{Username: f.user}}, nil
}

// bare is an Authenticator without profiles.
var bare = oauth2.AuthenticatorFunc(func(_ context.Context, _, username, _ string) (oauth2.Identity, error) {
	return oauth2.Identity{Username: "bare-" + username}, nil
})

func TestTenantAuthenticators(t *testing.T) {
	ctx := context.Background()
	m := oauth2.TenantAuthenticators{"dev": fixed{user: "Ann", password: "pw"}, "*": bare}
	id, err := m.Authenticate(ctx, "dev", "ann", "pw")
	require.NoError(t, err)
	assert.Equal(t, "Ann", id.Username, "routed to dev's")
	_, err = m.Authenticate(ctx, "dev", "ann", "no")
	assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials)
	id, err = m.Authenticate(ctx, "other", "x", "y")
	require.NoError(t, err)
	assert.Equal(t, "bare-x", id.Username, "the * entry serves every other tenant")

	pr, err := m.GetProfile(ctx, "dev", "ann")
	require.NoError(t, err)
	assert.Equal(t, "ann@example.org", pr.Email)
	pr, err = m.GetProfile(ctx, "other", "x")
	require.NoError(t, err)
	assert.Equal(t, oauth2.Profile{Username: "x"}, pr, "an authenticator without profiles gives the name only")
	_, err = m.ListProfiles(ctx, "other", 10, 0)
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
	list, err := m.ListProfiles(ctx, "dev", 10, 0)
	require.NoError(t, err)
	assert.Len(t, list, 1)

	only := oauth2.TenantAuthenticators{"dev": bare}
	_, err = only.Authenticate(ctx, "other", "x", "y")
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured, "no route, no * entry")
	_, err = only.GetProfile(ctx, "other", "x")
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
	_, err = only.ListProfiles(ctx, "other", 1, 0)
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
}

func TestFirstConfigured(t *testing.T) {
	ctx := context.Background()
	chain := oauth2.FirstConfigured{fixed{user: "ann", password: "pw", notFor: "other"}, fixed{user: "bob", password: "pw2"}}
	id, err := chain.Authenticate(ctx, "dev", "ann", "pw")
	require.NoError(t, err)
	assert.Equal(t, "ann", id.Username)
	_, err = chain.Authenticate(ctx, "dev", "bob", "pw2")
	assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials, "a configured authenticator's refusal is final")
	id, err = chain.Authenticate(ctx, "other", "bob", "pw2")
	require.NoError(t, err, "the first does not serve other: the second does")
	assert.Equal(t, "bob", id.Username)
	pr, err := chain.GetProfile(ctx, "other", "bob")
	require.NoError(t, err)
	assert.Equal(t, "bob", pr.Username)
	list, err := chain.ListProfiles(ctx, "other", 0, 0)
	require.NoError(t, err)
	assert.Equal(t, "bob", list[0].Username)

	none := oauth2.FirstConfigured{fixed{notFor: "dev"}}
	_, err = none.Authenticate(ctx, "dev", "a", "b")
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
	_, err = none.GetProfile(ctx, "dev", "a")
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
	_, err = none.ListProfiles(ctx, "dev", 0, 0)
	assert.ErrorIs(t, err, oauth2.ErrNotConfigured)
}

// testBuiltInUsers: the built-in authenticator knows user accounts only;
// service accounts and unknown users are refused alike.
func testBuiltInUsers(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	ts := env.Server.Tokens()
	u := oauth2.UserAuthenticator{Accounts: ts.Accounts}

	id, err := u.Authenticate(ctx, "dev", "testuser1", "testuser1")
	require.NoError(t, err)
	assert.Equal(t, "testuser1", id.Username)
	for name, c := range map[string][3]string{
		"a wrong password":   {"dev", "testuser1", "nope"},
		"an unknown user":    {"dev", "ghost", "ghost"},
		"a service account":  {"admin", "jobs", testenv.ServicePassword},
		"a 73-byte password": {"dev", "testuser1", "testuser1" + strings.Repeat("x", 64)},
	} {
		_, err := u.Authenticate(ctx, c[0], c[1], c[2])
		assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials, name)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = u.Authenticate(cancelled, "dev", "testuser1", "testuser1")
	assert.ErrorIs(t, err, context.Canceled)

	pr, err := u.GetProfile(ctx, "dev", "testuser2")
	require.NoError(t, err)
	assert.Equal(t, "testuser2", pr.Username)
	_, err = u.GetProfile(ctx, "admin", "jobs")
	assert.ErrorIs(t, err, oauth2.ErrNotFound, "service accounts have no profile")
	all, err := u.ListProfiles(ctx, "dev", 0, 0)
	require.NoError(t, err)
	assert.Len(t, all, 6, "testuser1..5 and testadmin")
	page, err := u.ListProfiles(ctx, "dev", 2, 1)
	require.NoError(t, err)
	assert.Equal(t, all[1:3], page)
	page, err = u.ListProfiles(ctx, "dev", 2, 10)
	require.NoError(t, err)
	assert.Empty(t, page)

	err = ts.Accounts.Set(ctx, "", "", "robot", "short")
	require.ErrorIs(t, err, tenancy.ErrInvalid)
	for _, rule := range []string{"tenant and username are required.", "at least 8 characters", "account type must be user or service."} {
		assert.Contains(t, err.Error(), rule)
	}
	assert.ErrorContains(t, ts.Accounts.Set(ctx, "dev", "long", tenancy.AccountUser, strings.Repeat("p", 73)), "at most 72 bytes")
	require.NoError(t, ts.Accounts.Set(ctx, "dev", "newbie", tenancy.AccountUser, "a-good-password"))
	id, err = u.Authenticate(ctx, "dev", "newbie", "a-good-password")
	require.NoError(t, err)
	assert.Equal(t, "newbie", id.Username)
	accts, err := ts.Accounts.List(ctx, "dev")
	require.NoError(t, err)
	assert.Len(t, accts, 7)
	for _, a := range accts {
		assert.Nil(t, a.PasswordHash, "listings never carry password hashes: %s", a.Username)
	}
}

// testProviderUsesItsAuthenticator: the password grant asks the
// configured Authenticator, and an authenticator's failure that is not a
// refusal is the server's error, not "wrong password".
func testProviderUsesItsAuthenticator(t *testing.T, env *testenv.Env) {
	ctx := context.Background()
	boom := errors.New("directory down")
	ts := env.Server.Tokens()
	sealer, err := seal.New(env.KEK)
	require.NoError(t, err)
	for name, c := range map[string]struct {
		authn    oauth2.Authenticator
		user     string
		password string
		want     string // username in the token, or "" for a refusal
		err      error
	}{
		"an LDAP-like authenticator first": {oauth2.FirstConfigured{fixed{user: "Ann", password: "pw"}, oauth2.UserAuthenticator{Accounts: ts.Accounts}}, "ANN", "pw", "Ann", nil},
		"falling through to built-in users": {oauth2.FirstConfigured{fixed{user: "Ann", password: "pw", notFor: "dev"}, oauth2.UserAuthenticator{Accounts: ts.Accounts}},
			"testuser1", "testuser1", "testuser1", nil},
		"not configured anywhere": {oauth2.FirstConfigured{fixed{notFor: "dev"}}, "testuser1", "testuser1", "", nil},
		"a broken directory": {oauth2.AuthenticatorFunc(func(context.Context, string, string, string) (oauth2.Identity, error) {
			return oauth2.Identity{}, boom
		}), "testuser1", "testuser1", "", boom},
	} {
		p, err := oauth2.NewProvider(oauth2.ProviderConfig{Tokens: ts, Store: env.Store, Authenticator: c.authn, Sealer: sealer})
		require.NoError(t, err)
		pair, err := p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, Username: c.user, Password: c.password})
		switch {
		case c.want != "":
			require.NoError(t, err, name)
			assert.Equal(t, c.want, claimsOf(t, pair.Access.Raw)["tapis/username"], name)
		case c.err != nil:
			assert.ErrorIs(t, err, c.err, name)
			assert.Empty(t, grantCode(err), "%s: not a refusal of the password", name)
		default:
			refusedGrant(t, err, "invalid_grant", "Invalid username/password combination.")
		}
	}
	_, err = oauth2.NewProvider(oauth2.ProviderConfig{})
	require.Error(t, err)
	for _, dep := range []string{"Tokens", "Store", "Authenticator", "Sealer"} {
		assert.Contains(t, err.Error(), dep)
	}
}
