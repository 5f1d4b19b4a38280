package oauth2_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Service-level tests of the authenticator's clients (reference/auth.md
// §4.2 and the README's "Authenticator clients"): registration rules, keys
// shown once and stored hashed, owners only, deactivation.

// devUser is a user token of dev acting as itself.
func devUser(name string) tenancy.Principal {
	return tenancy.Principal{TenantID: "dev", Username: name, AccountType: tenancy.AccountUser, TokenTenantID: "dev", TokenUsername: name}
}

// grantCode is the RFC 6749 code of a *GrantError ("" for another error).
func grantCode(err error) string {
	var ge *oauth2.GrantError
	if errors.As(err, &ge) {
		return ge.Code
	}
	return ""
}

// refusedGrant asserts err is a GrantError with code whose message
// contains want; every GrantError is a 400 on the Tapis endpoint.
func refusedGrant(t *testing.T, err error, code, want string) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, code, grantCode(err), "error: %v", err)
	assert.ErrorIs(t, err, tenancy.ErrInvalid)
	assert.Contains(t, err.Error(), want)
}

func testCreateClient(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	alice := devUser("testuser4")

	_, _, err := p.CreateClient(ctx, tenancy.Principal{TenantID: "dev"}, oauth2.NewClient{})
	assert.ErrorIs(t, err, oauth2.ErrInvalidToken, "anonymous callers register nothing")

	c, key, err := p.CreateClient(ctx, alice, oauth2.NewClient{CallbackURL: "https://app.example.org/cb"})
	require.NoError(t, err)
	assert.Len(t, key, 43, "a generated key is 256 random bits")
	assert.NotEmpty(t, c.ClientID)
	assert.Equal(t, c.ClientID, c.DisplayName, "the display name defaults to the id")
	assert.Equal(t, "testuser4", c.Owner)
	assert.Equal(t, "dev", c.TenantID)
	assert.True(t, c.Active)
	sum := sha256.Sum256([]byte(key))
	stored, err := env.Store.GetClient(ctx, "dev", c.ClientID)
	require.NoError(t, err)
	assert.Equal(t, sum[:], stored.KeyHash, "only the key's hash is stored")
	got, err := p.GetClient(ctx, alice, c.ClientID)
	require.NoError(t, err)
	assert.Equal(t, stored.KeyHash, got.KeyHash)

	pub, key, err := p.CreateClient(ctx, alice, oauth2.NewClient{ClientID: "native.app", Public: true, CallbackURL: "http://127.0.0.1:8400/cb"})
	require.NoError(t, err)
	assert.Empty(t, key, "a public client has no key")
	assert.True(t, pub.Public())
	_, key, err = p.CreateClient(ctx, alice, oauth2.NewClient{ClientID: "chosen", ClientKey: "a-key-of-sixteen+"})
	require.NoError(t, err)
	assert.Equal(t, "a-key-of-sixteen+", key, "a chosen key is kept")

	_, _, err = p.CreateClient(ctx, devUser("testuser2"), oauth2.NewClient{ClientID: "chosen"})
	assert.ErrorIs(t, err, oauth2.ErrAlreadyExists)
	assert.ErrorContains(t, err, "client_id chosen already exists")

	_, _, err = p.CreateClient(ctx, alice, oauth2.NewClient{ClientID: "bad id!", ClientKey: "short", CallbackURL: "ftp://x.example.org/",
		DisplayName: strings.Repeat("d", 51), Description: strings.Repeat("d", 256)})
	require.ErrorIs(t, err, tenancy.ErrInvalid)
	for _, rule := range []string{"client_id must be 1-80 characters", "client_key must be at least 16 characters",
		"callback_url must use https", "display_name must be at most 50", "description must be at most 255"} {
		assert.Contains(t, err.Error(), rule)
	}
	for nc, rule := range map[oauth2.NewClient]string{
		{ClientID: "dev.CIC.tokenapp"}:                                          "reserved for the Token Web App",
		{ClientID: "pub-with-key", Public: true, ClientKey: "0123456789abcdef"}: "a public client has no client_key",
	} {
		_, _, err := p.CreateClient(ctx, alice, nc)
		assert.ErrorIs(t, err, tenancy.ErrInvalid, rule)
		assert.ErrorContains(t, err, rule)
	}
	list, err := p.ListClients(ctx, alice, true)
	require.NoError(t, err)
	assert.Len(t, list, 3, "nothing refused was registered")
}

// testCallbackRules: a callback is absolute, https except on loopback, a
// real host, without user information, fragment or characters that could
// end a header or a CSP source list.
func testCallbackRules(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	for i, ok := range []string{"https://app.example.org/cb?x=1", "http://localhost:5000/cb", "http://127.0.0.1/cb", "http://[::1]:9/cb",
		"https://10.0.0.1:8443/cb", "https://a-b.example.org./cb"} {
		_, _, err := p.CreateClient(ctx, devUser("testuser3"), oauth2.NewClient{ClientID: "ok" + string(rune('a'+i)), CallbackURL: ok})
		assert.NoError(t, err, ok)
		assert.NotEmpty(t, oauth2.CallbackOrigin(ok), ok)
	}
	assert.Equal(t, "https://app.example.org:8443", oauth2.CallbackOrigin("https://app.example.org:8443/cb?q=1"))
	for bad, rule := range map[string]string{
		"http://app.example.org/cb":                            "must use https",
		"/relative/cb":                                         "must be an absolute URL",
		"https://app.example.org/cb#frag":                      "must not contain a fragment",
		"https://user@app.example.org/cb":                      "must not contain user information",
		"https://app.example.org/c;b":                          "must not contain",
		"https://app.example.org/c b":                          "must not contain",
		"https://app.example.org/cé":                           "must not contain",
		"https://-bad-.example.org/cb":                         "must name a real host",
		"https://app.example.org:0/cb":                         "invalid port",
		"https://app.example.org:070/cb":                       "invalid port",
		"https://app.example.org/" + strings.Repeat("x", 2048): "at most 2048",
	} {
		_, _, err := p.CreateClient(ctx, devUser("testuser3"), oauth2.NewClient{CallbackURL: bad})
		assert.ErrorIs(t, err, tenancy.ErrInvalid, bad)
		assert.ErrorContains(t, err, rule, bad)
		assert.Empty(t, oauth2.CallbackOrigin(bad), "no CSP source from %s", bad)
	}
	for host, valid := range map[string]bool{"example.org": true, "a.b-c.d": true, "10.1.2.3": true, "::1": true, "": false,
		"-a.org": false, "a-.org": false, "a..org": false, "a_b.org": false, strings.Repeat("a", 64) + ".org": false} {
		assert.Equal(t, valid, oauth2.ValidHost(host), host)
	}
}

func testClientsBelongToTheirOwner(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	alice, bob := devUser("testuser5"), devUser("testuser2")
	_, key, err := p.CreateClient(ctx, alice, oauth2.NewClient{ClientID: "alices", CallbackURL: "https://app.example.org/cb"})
	require.NoError(t, err)
	_, _, err = p.CreateClient(ctx, bob, oauth2.NewClient{ClientID: "bobs"})
	require.NoError(t, err)

	_, err = p.GetClient(ctx, bob, "alices")
	assert.ErrorIs(t, err, oauth2.ErrNotFound, "another owner's client reads as absent")
	_, err = p.GetClient(ctx, tenancy.Principal{TenantID: "other", Username: "testuser1", TokenTenantID: "other", TokenUsername: "testuser1"}, "alices")
	assert.ErrorIs(t, err, oauth2.ErrNotFound, "another tenant's namesake sees nothing")
	url := "https://evil.example.org/cb"
	_, err = p.UpdateClient(ctx, bob, "alices", oauth2.ClientUpdate{CallbackURL: &url})
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
	_, err = p.DeleteClient(ctx, bob, "alices")
	assert.ErrorIs(t, err, oauth2.ErrNotFound)
	list, err := p.ListClients(ctx, bob, false)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.Equal(t, "bobs", list[0].ClientID)

	// Updates: the callback and the display name only.
	newURL, name := "https://new.example.org/cb", "Alice's app"
	c, err := p.UpdateClient(ctx, alice, "alices", oauth2.ClientUpdate{CallbackURL: &newURL, DisplayName: &name})
	require.NoError(t, err)
	assert.Equal(t, newURL, c.CallbackURL)
	assert.Equal(t, name, c.DisplayName)
	long, bad := strings.Repeat("n", 51), "http://new.example.org/cb"
	_, err = p.UpdateClient(ctx, alice, "alices", oauth2.ClientUpdate{CallbackURL: &bad, DisplayName: &long, Immutable: []string{"client_key", "owner"}})
	require.ErrorIs(t, err, tenancy.ErrInvalid)
	for _, rule := range []string{"Changing client_key not currently supported.", "Changing owner not currently supported.",
		"must use https", "display_name must be at most 50"} {
		assert.Contains(t, err.Error(), rule)
	}
	c, err = p.GetClient(ctx, alice, "alices")
	require.NoError(t, err)
	assert.Equal(t, newURL, c.CallbackURL, "a refused update changes nothing")

	// Deleting deactivates: the client gets no more tokens.
	c, err = p.DeleteClient(ctx, alice, "alices")
	require.NoError(t, err)
	assert.False(t, c.Active)
	list, err = p.ListClients(ctx, alice, false)
	require.NoError(t, err)
	assert.Empty(t, list)
	list, err = p.ListClients(ctx, alice, true)
	require.NoError(t, err)
	assert.Len(t, list, 1)
	_, err = p.Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword, ClientID: "alices", ClientKey: key,
		Username: "testuser1", Password: "testuser1"})
	refusedGrant(t, err, "invalid_client", "Invalid client credentials.")
	_, err = p.AuthenticateClient(ctx, "dev", "alices", key, "")
	refusedGrant(t, err, "invalid_client", "Invalid client credentials.")
}

// testEnsureWebappClient: the Token Web App's client is public, owned by
// tapis, and follows the tenant's callback; a deactivated or keyed one is
// put right.
func testEnsureWebappClient(t *testing.T, env *testenv.Env) {
	p := env.Server.OAuth2()
	ctx := context.Background()
	cb := "http://dev.tapis.test/v3/oauth2/webapp/callback"
	c, err := p.EnsureWebappClient(ctx, "dev", cb)
	require.NoError(t, err)
	assert.Equal(t, "dev.CIC.tokenapp", c.ClientID)
	assert.Equal(t, oauth2.WebappClientID("dev"), c.ClientID)
	assert.True(t, c.Public())
	assert.Equal(t, "tapis", c.Owner)
	again, err := p.EnsureWebappClient(ctx, "dev", cb)
	require.NoError(t, err)
	assert.Equal(t, c.Created, again.Created, "an existing client is reused")

	_, err = env.Store.UpdateClient(ctx, "dev", c.ClientID, func(x *oauth2.Client) error {
		x.Active, x.KeyHash, x.Owner = false, []byte("0123456789abcdef0123456789abcdef"), "mallory"
		return nil
	})
	require.NoError(t, err)
	moved := "https://dev.example.org/v3/oauth2/webapp/callback"
	c, err = p.EnsureWebappClient(ctx, "dev", moved)
	require.NoError(t, err)
	assert.Equal(t, moved, c.CallbackURL)
	assert.True(t, c.Active)
	assert.True(t, c.Public(), "its key is dropped")
	assert.Equal(t, "tapis", c.Owner)
}
