package tapis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/tenancy"
)

// Both complete adapters provide every part (the root may not be imported
// by adapters, so the guards live here).
var (
	_ tapis.Store = (*memory.Store)(nil)
	_ tapis.Store = (*bunstore.Store)(nil)
)

var storeParts = []string{"Tenancy", "Tokens", "Auth", "Attempts", "Systems", "Access", "HostKeys", "Vault", "Audit", "Rewrap", "Changes", "Locks", "Canary"}

func TestNewNamesEveryMissingDependency(t *testing.T) {
	_, err := tapis.New(tapis.Config{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KEK")
	for _, part := range storeParts {
		assert.Contains(t, err.Error(), "Config.Stores."+part+" is required", part)
	}
	assert.NotContains(t, err.Error(), "GlobusSessions", "needed only with Config.Globus")

	_, err = tapis.New(tapis.Config{KEK: []byte("short")})
	assert.ErrorContains(t, err, "Config.KEK")
	assert.ErrorContains(t, err, "Config.Stores.Tenancy", "a bad KEK does not hide the missing parts")
	_, err = tapis.New(tapis.Config{Store: memory.New(), Globus: noGlobus{}})
	assert.ErrorContains(t, err, "Config.KEK")
	assert.NotContains(t, err.Error(), "Config.Stores", "a Store without a KEK: only the KEK is missing")

	// Parts set one by one: only the missing ones are named.
	st := memory.New()
	_, err = tapis.New(tapis.Config{KEK: seal.NewKey(), Stores: tapis.Stores{Tenancy: st, Tokens: st, Auth: st,
		Attempts: st, Systems: st, Access: st, HostKeys: st}, Globus: noGlobus{},
		Authenticators: []oauth2.Authenticator{nil}})
	require.Error(t, err)
	for _, part := range []string{"Vault", "Audit", "Rewrap", "GlobusSessions"} {
		assert.Contains(t, err.Error(), "Config.Stores."+part, part)
	}
	for _, part := range []string{"Tenancy", "Tokens", "Systems", "HostKeys"} {
		assert.NotContains(t, err.Error(), "Config.Stores."+part+" ", part)
	}
	assert.Contains(t, err.Error(), "Config.Authenticators[0] is nil")

	srv, err := tapis.New(tapis.Config{KEK: seal.NewKey(), Store: st, Globus: noGlobus{}})
	require.NoError(t, err, "one complete adapter fills every part, Globus sessions included")
	require.NoError(t, srv.Close())
}

// TestExplicitPartsWinOverStore: a part set in Stores is used, the rest
// come from Config.Store.
func TestExplicitPartsWinOverStore(t *testing.T) {
	ctx := context.Background()
	st, keys, audit := memory.New(), memory.New(), &credentials.MemoryAuditor{}
	srv, err := tapis.New(tapis.Config{Store: st, Stores: tapis.Stores{Tokens: keys, Audit: audit},
		KEK: seal.NewKey(), PasswordCost: bcrypt.MinCost})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	require.NoError(t, devseed.Apply(ctx, srv, devseed.Dev("parts.test", map[string]string{})))

	got, err := keys.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	assert.Len(t, got, 1, "the new tenant's key went to Stores.Tokens")
	got, err = st.ListSigningKeys(ctx, "dev")
	require.NoError(t, err)
	assert.Empty(t, got, "not to Config.Store")
	_, err = st.GetTenant(ctx, "dev")
	assert.NoError(t, err, "the registry went to Config.Store")

	owner := tenancy.Principal{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: "testuser1"}
	_, err = srv.Systems().Create(ctx, owner, systems.CreateInput{System: systems.System{ID: "s1",
		SystemType: systems.TypeLinux, Host: "h.example.org", EffectiveUserID: "hpcuser", DefaultAuthnMethod: systems.AuthnPassword,
		RootDir: "/"},
		Credential: &systems.Credential{Password: "pw-of-s1"}, SkipCredentialCheck: true})
	require.NoError(t, err)
	require.NotEmpty(t, audit.Records(), "credential writes are audited to Stores.Audit")
	assert.Equal(t, credentials.ActionPut, audit.Records()[0].Action)
	recs, err := st.CredentialAudit(ctx, "dev", 0)
	require.NoError(t, err)
	assert.Empty(t, recs, "and not to Config.Store's auditor")
}

func TestAuthenticatorsBeforeBuiltinUsers(t *testing.T) {
	ctx := context.Background()
	var asked []string
	gateway := oauth2.AuthenticatorFunc(func(_ context.Context, tenant, user, pw string) (oauth2.Identity, error) {
		asked = append(asked, tenant)
		if tenant != "dev" {
			return oauth2.Identity{}, oauth2.ErrNotConfigured
		}
		if user == "alice" && pw == "alice-password" {
			return oauth2.Identity{Username: "alice"}, nil
		}
		return oauth2.Identity{}, oauth2.ErrInvalidCredentials
	})
	srv, err := tapis.New(tapis.Config{Store: memory.New(), KEK: seal.NewKey(), PasswordCost: bcrypt.MinCost,
		Authenticators: []oauth2.Authenticator{gateway}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	seed := devseed.Dev("authn.test", map[string]string{})
	seed.Accounts = append(seed.Accounts, devseed.Account{TenantID: "admin", Username: "bob", AccountType: tenancy.AccountUser,
		Password: "bob-password"})
	require.NoError(t, devseed.Apply(ctx, srv, seed))
	password := func(tenant, user, pw string) error {
		_, err := srv.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: tenant, GrantType: oauth2.GrantPassword, Username: user, Password: pw})
		return err
	}

	require.NoError(t, password("dev", "alice", "alice-password"), "the custom authenticator serves dev")
	assert.ErrorContains(t, password("dev", "testuser1", "testuser1"), "Invalid username/password",
		"its answer is final for dev: the built-in users, who know testuser1, are not asked")
	require.NoError(t, password("admin", "bob", "bob-password"), "a tenant it passes on reaches the built-in users")
	assert.ErrorContains(t, password("admin", "alice", "alice-password"), "Invalid username/password",
		"alice is no built-in user of admin")
	assert.Equal(t, []string{"dev", "dev", "admin", "admin"}, asked, "consulted first, every time")
}

// TestPlainAuthenticatorUsersGetTheirUsername: a custom authenticator that
// provides no profiles sits in front of the built-in users, who do; its
// users' userinfo is their username, as the original answers for custom
// identity providers (not a 404 from the built-in users).
func TestPlainAuthenticatorUsersGetTheirUsername(t *testing.T) {
	ctx := context.Background()
	everyone := oauth2.AuthenticatorFunc(func(_ context.Context, _, user, pw string) (oauth2.Identity, error) {
		if user == "alice" && pw == "alice-password" {
			return oauth2.Identity{Username: "alice"}, nil
		}
		return oauth2.Identity{}, oauth2.ErrInvalidCredentials
	})
	srv, err := tapis.New(tapis.Config{Store: memory.New(), KEK: seal.NewKey(), PasswordCost: bcrypt.MinCost,
		Authenticators: []oauth2.Authenticator{everyone}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	require.NoError(t, devseed.Apply(ctx, srv, devseed.Dev("info.test", map[string]string{})))
	pair, err := srv.OAuth2().Token(ctx, oauth2.TokenRequest{TenantID: "dev", GrantType: oauth2.GrantPassword,
		Username: "alice", Password: "alice-password"})
	require.NoError(t, err)

	req := httptest.NewRequest(http.MethodGet, "http://dev.info.test/v3/oauth2/userinfo", nil)
	req.Header.Set("X-Tapis-Token", pair.Access.Raw)
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var body struct {
		Result struct {
			Username string `json:"username"`
		} `json:"result"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "alice", body.Result.Username)
}

// TestRewrapSecretsUsesTheRewrapPart: credentials are re-sealed by the
// named part, whatever the vault is.
func TestRewrapSecretsUsesTheRewrapPart(t *testing.T) {
	st := memory.New()
	rw := &countingRewrap{n: 7}
	srv, err := tapis.New(tapis.Config{Store: st, Stores: tapis.Stores{Rewrap: rw}, KEK: seal.NewKey()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	n, err := srv.RewrapSecrets(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 7, n, "no signing keys to re-seal; the part's count")
	assert.Equal(t, 1, rw.calls)

	rw.err = errors.New("vault down")
	_, err = srv.RewrapSecrets(context.Background())
	assert.ErrorContains(t, err, "vault down")

	n, err = tapis.NothingSealed{}.RewrapCredentials(context.Background(), nil)
	assert.NoError(t, err)
	assert.Zero(t, n)
}

type countingRewrap struct {
	n, calls int
	err      error
}

func (c *countingRewrap) RewrapCredentials(context.Context, *seal.Sealer) (int, error) {
	c.calls++
	return c.n, c.err
}

// noGlobus is a systems.Globus that is never called.
type noGlobus struct{ systems.Globus }

// TestSecretsSealedAtRest seeds a SQLite file and checks that neither a
// private key nor a password is in its raw bytes.
func TestSecretsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "tapis.db")
	st, err := bunstore.Open(ctx, "sqlite:"+path)
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	srv, err := tapis.New(tapis.Config{Store: st, KEK: seal.NewKey(), PasswordCost: bcrypt.MinCost})
	require.NoError(t, err)
	const pw = "a-very-secret-service-password"
	seed := devseed.Dev("tapis.test", map[string]string{"tokens": pw})
	require.NoError(t, devseed.Apply(ctx, srv, seed))
	_, err = srv.Tokens().RotateKeys(ctx, adminPrincipal(), "dev")
	require.NoError(t, err)
	require.NoError(t, srv.Close())
	require.NoError(t, st.Close())

	var raw []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err == nil {
			raw = append(raw, b...)
		}
	}
	require.NotEmpty(t, raw)
	assert.True(t, bytes.Contains(raw, []byte("BEGIN PUBLIC KEY")), "sanity: the file holds the keys")
	assert.False(t, bytes.Contains(raw, []byte("PRIVATE KEY")), "private keys are sealed")
	assert.False(t, bytes.Contains(raw, []byte(pw)), "passwords are hashed")
	assert.False(t, strings.Contains(string(raw), "testuser1testuser1"))
}

func TestRewrapSecretsAfterKEKRotation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := bunstore.Open(ctx, "sqlite:"+filepath.Join(dir, "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Migrate(ctx))
	oldKEK, newKEK := seal.NewKey(), seal.NewKey()
	srv, err := tapis.New(tapis.Config{Store: st, KEK: oldKEK, PasswordCost: bcrypt.MinCost})
	require.NoError(t, err)
	require.NoError(t, devseed.Apply(ctx, srv, devseed.Dev("rw.test", map[string]string{})))
	sealer, err := seal.New(oldKEK)
	require.NoError(t, err)
	require.NoError(t, st.Vault(sealer).PutCredential(ctx, credentials.Key{Tenant: "dev", SystemID: "s", User: "u"}, credentials.Credential{Password: "pw"}))
	devAdmin := tenancy.Principal{TenantID: "dev", Username: "testadmin", AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: "testadmin"}
	secret := "impers-client-secret"
	_, err = srv.OAuth2().UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{ImpersOAuthClientSecret: &secret})
	require.NoError(t, err, "the authenticator configuration holds a sealed secret")
	require.NoError(t, srv.Close())

	rotated, err := tapis.New(tapis.Config{Store: st, KEK: newKEK, PreviousKEKs: [][]byte{oldKEK}})
	require.NoError(t, err)
	n, err := rotated.RewrapSecrets(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, n, 4, "signing keys of admin and dev, dev's configuration secrets, and the credential")
	require.NoError(t, rotated.Close())

	onlyNew, err := seal.New(newKEK)
	require.NoError(t, err)
	c, err := st.Vault(onlyNew).GetCredential(ctx, credentials.Key{Tenant: "dev", SystemID: "s", User: "u"})
	require.NoError(t, err, "opens with the new KEK alone")
	assert.Equal(t, "pw", c.Password)
	fresh, err := tapis.New(tapis.Config{Store: st, KEK: newKEK})
	require.NoError(t, err)
	t.Cleanup(func() { _ = fresh.Close() })
	_, err = fresh.Tokens().Mint(ctx, oauth2.MintRequest{TenantID: "dev", Username: "u", AccountType: tenancy.AccountUser})
	assert.NoError(t, err, "signing works without the old KEK")
	// Changing one configuration secret opens the others first.
	password := "impersadmin-password"
	_, err = fresh.OAuth2().UpdateConfig(ctx, devAdmin, oauth2.ConfigUpdate{ImpersadminPassword: &password})
	assert.NoError(t, err, "the configuration secrets open without the old KEK")
}
