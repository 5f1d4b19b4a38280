package globusauth_test

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/tapis-go/tapis/adapters/globusauth"
	"github.com/tapis-go/tapis/adapters/globusauth/globusauthtest"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/hostcheck/hostchecktest"
	"github.com/tapis-go/tapis/systems"
)

const (
	mapped = "0a6f1c2e-8d0b-4c55-9a3e-0c6b7f2d4e91"
	guest  = "1b7e2d3f-9e1c-4d66-8b4f-1d7c8e3f5fa2"
)

// clock is a settable clock shared by the fake and the client.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newClock() *clock { return &clock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)} }

type fixture struct {
	fake   *globusauthtest.Server
	client *globusauth.Client
	clock  *clock
}

func setup(t *testing.T, fo globusauthtest.Options, edit ...func(*globusauth.Options)) fixture {
	t.Helper()
	clk := newClock()
	fo.Now = clk.Now
	if fo.Collections == nil {
		fo.Collections = map[string]globusauthtest.Collection{
			mapped: {Mapped: true, Dirs: []string{"/home/alice", "/"}},
			guest:  {Dirs: []string{"/shared"}},
		}
	}
	fake := globusauthtest.New(t, fo)
	o := globusauth.Options{ClientID: fake.ClientID(), AuthURL: fake.AuthURL(), TokenURL: fake.TokenURL(),
		TransferURL: fake.TransferURL(), Policy: hostcheck.Policy{AllowPrivate: true}, Now: clk.Now}
	for _, e := range edit {
		e(&o)
	}
	c, err := globusauth.New(o)
	require.NoError(t, err)
	return fixture{fake: fake, client: c, clock: clk}
}

// authorize runs the flow up to the code: AuthURL, then consent at the fake.
func (f fixture) authorize(t *testing.T, collection string) (code, verifier string) {
	t.Helper()
	verifier = oauth2.GenerateVerifier()
	u, err := f.client.AuthURL(context.Background(), collection, "session-state", verifier)
	require.NoError(t, err)
	code, state := f.fake.Consent(t, u)
	require.Equal(t, "session-state", state, "the state comes back")
	return code, verifier
}

func assertNoSecret(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		assert.NotContains(t, err.Error(), s)
	}
	assert.NotContains(t, err.Error(), globusauthtest.SecretPrefix)
}

func TestNewNamesEveryProblem(t *testing.T) {
	_, err := globusauth.New(globusauth.Options{ClientID: " ", AuthURL: "http://auth.example.org/authorize",
		TokenURL: "/token", TransferURL: "https://u:p@transfer.example.org/"})
	require.Error(t, err)
	for _, want := range []string{"ClientID", "AuthURL", "https", "TokenURL", "absolute", "TransferURL", "user info"} {
		assert.Contains(t, err.Error(), want)
	}
	c, err := globusauth.New(globusauth.Options{ClientID: "abc"})
	require.NoError(t, err, "the real Globus endpoints by default")
	u, err := c.AuthURL(context.Background(), mapped, "s", oauth2.GenerateVerifier())
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(u, globusauth.DefaultAuthURL+"?"), u)
}

func TestAuthURLAsksForTransferWithDataAccessAndPKCE(t *testing.T) {
	f := setup(t, globusauthtest.Options{})
	verifier := oauth2.GenerateVerifier()
	raw, err := f.client.AuthURL(context.Background(), mapped, "st", verifier)
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	q := u.Query()
	assert.Equal(t, "urn:globus:auth:scope:transfer.api.globus.org:all[*https://auth.globus.org/scopes/"+mapped+"/data_access]", q.Get("scope"))
	assert.Equal(t, "offline", q.Get("access_type"), "refresh tokens are requested")
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Equal(t, oauth2.S256ChallengeFromVerifier(verifier), q.Get("code_challenge"))
	assert.NotContains(t, raw, verifier, "the verifier never leaves the server")
	assert.Equal(t, globusauthtest.DefaultRedirectURL, q.Get("redirect_uri"))
	assert.Equal(t, f.fake.ClientID(), q.Get("client_id"))
	assert.Equal(t, "st", q.Get("state"))

	for _, bad := range []string{"", "not-a-uuid", mapped + "]", mapped + " openid"} {
		_, err := f.client.AuthURL(context.Background(), bad, "st", verifier)
		require.ErrorIs(t, err, systems.ErrInvalid, "%q", bad)
	}
}

func TestExchangeRefreshAndCheck(t *testing.T) {
	f := setup(t, globusauthtest.Options{})
	ctx := context.Background()
	code, verifier := f.authorize(t, mapped)
	tok, err := f.client.Exchange(ctx, code, verifier)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.AccessToken, globusauthtest.SecretPrefix+"access"))
	assert.True(t, strings.HasPrefix(tok.RefreshToken, globusauthtest.SecretPrefix+"refresh"))
	assert.Equal(t, f.clock.Now().Add(48*time.Hour), tok.Expires, "expires_in counts from the client's clock")

	target := hostcheck.Target{Tenant: "dev", SystemID: "gl1", SystemType: "GLOBUS", AuthnMethod: "TOKEN", Host: mapped, RootDir: "/home/alice"}
	cred := credentials.Credential{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken}
	require.NoError(t, f.client.Verify(ctx, target, cred), "endpoint and ls of rootDir")
	_, _, transfers := f.fake.Counts()
	assert.Equal(t, 2, transfers)

	f.clock.Advance(48 * time.Hour)
	err = f.client.Verify(ctx, target, cred)
	require.ErrorIs(t, err, hostcheck.ErrBadCredential, "an expired access token is refused by Transfer")
	assertNoSecret(t, err, tok.AccessToken)

	next, err := f.client.Refresh(ctx, tok.RefreshToken)
	require.NoError(t, err)
	assert.NotEqual(t, tok.AccessToken, next.AccessToken)
	assert.NotEqual(t, tok.RefreshToken, next.RefreshToken, "refresh tokens rotate")
	assert.Equal(t, f.clock.Now().Add(48*time.Hour), next.Expires)
	require.NoError(t, f.client.Verify(ctx, target, credentials.Credential{AccessToken: next.AccessToken}),
		"the refreshed token keeps the data_access consent")

	_, err = f.client.Refresh(ctx, tok.RefreshToken)
	require.ErrorIs(t, err, systems.ErrGlobusRefused, "a used refresh token is refused")
	assert.Contains(t, err.Error(), "invalid_grant")
	assertNoSecret(t, err, tok.RefreshToken)
	_, err = f.client.Refresh(ctx, next.RefreshToken)
	require.NoError(t, err, "the rotated one works")
}

func TestPKCEAndSingleUseCodes(t *testing.T) {
	f := setup(t, globusauthtest.Options{})
	ctx := context.Background()
	code, verifier := f.authorize(t, mapped)
	_, err := f.client.Exchange(ctx, code, oauth2.GenerateVerifier())
	require.ErrorIs(t, err, systems.ErrGlobusRefused, "a verifier that does not match the challenge")
	assertNoSecret(t, err, code, verifier)
	_, err = f.client.Exchange(ctx, code, verifier)
	require.ErrorIs(t, err, systems.ErrGlobusRefused, "the code died with the failed attempt")

	code, verifier = f.authorize(t, mapped)
	_, err = f.client.Exchange(ctx, code, verifier)
	require.NoError(t, err)
	_, err = f.client.Exchange(ctx, code, verifier)
	require.ErrorIs(t, err, systems.ErrGlobusRefused, "a code is used once")
	exchanges, _, _ := f.fake.Counts()
	assert.Equal(t, 1, exchanges)
}

func TestCheckFailures(t *testing.T) {
	f := setup(t, globusauthtest.Options{})
	ctx := context.Background()
	code, verifier := f.authorize(t, mapped)
	tok, err := f.client.Exchange(ctx, code, verifier)
	require.NoError(t, err)
	cred := credentials.Credential{AccessToken: tok.AccessToken}
	base := hostcheck.Target{Tenant: "dev", SystemType: "GLOBUS", AuthnMethod: "TOKEN", Host: mapped}
	with := func(edit func(*hostcheck.Target)) hostcheck.Target { t := base; edit(&t); return t }
	for name, c := range map[string]struct {
		target hostcheck.Target
		cred   credentials.Credential
		class  error
		msg    string
	}{
		"missing rootDir":                   {with(func(t *hostcheck.Target) { t.RootDir = "/nope" }), cred, hostcheck.ErrRootDirMissing, "/nope does not exist"},
		"unknown collection":                {with(func(t *hostcheck.Target) { t.Host = "9e9e9e9e-0000-4000-8000-000000000000" }), cred, hostcheck.ErrUnreachable, "no collection"},
		"not a collection id":               {with(func(t *hostcheck.Target) { t.Host = "gridftp.example.org" }), cred, hostcheck.ErrUnreachable, "not a Globus collection id"},
		"unknown token":                     {base, credentials.Credential{AccessToken: "forged"}, hostcheck.ErrBadCredential, "AuthenticationFailed"},
		"no token":                          {base, credentials.Credential{}, hostcheck.ErrBadCredential, "no Globus access token"},
		"not TOKEN":                         {with(func(t *hostcheck.Target) { t.AuthnMethod = "PASSWORD" }), cred, hostcheck.ErrUnsupported, "TOKEN"},
		"no consent for another collection": {with(func(t *hostcheck.Target) { t.Host = guest; t.RootDir = "/shared" }), cred, nil, ""},
	} {
		err := f.client.Verify(ctx, c.target, c.cred)
		if c.class == nil {
			assert.NoError(t, err, "%s: a guest collection needs no data_access consent", name)
			continue
		}
		require.ErrorIs(t, err, c.class, name)
		assert.Contains(t, err.Error(), c.msg, name)
		assertNoSecret(t, err, tok.AccessToken)
	}
}

func TestWithoutDataAccessScopeTheMappedLsNeedsConsent(t *testing.T) {
	f := setup(t, globusauthtest.Options{}, func(o *globusauth.Options) { o.NoDataAccessScope = true })
	ctx := context.Background()
	assert.Equal(t, globusauth.TransferScope, f.client.Scope(mapped))
	code, verifier := f.authorize(t, mapped)
	tok, err := f.client.Exchange(ctx, code, verifier)
	require.NoError(t, err)
	target := hostcheck.Target{Tenant: "dev", SystemType: "GLOBUS", Host: mapped}
	require.NoError(t, f.client.Verify(ctx, target, credentials.Credential{AccessToken: tok.AccessToken}), "endpoint/{id} needs Transfer only")
	target.RootDir = "/home/alice"
	err = f.client.Verify(ctx, target, credentials.Credential{AccessToken: tok.AccessToken})
	require.ErrorIs(t, err, hostcheck.ErrBadCredential)
	assert.Contains(t, err.Error(), "ConsentRequired")
}

func TestTransferTokenFromOtherTokens(t *testing.T) {
	f := setup(t, globusauthtest.Options{TransferInOtherTokens: true})
	ctx := context.Background()
	code, verifier := f.authorize(t, mapped)
	tok, err := f.client.Exchange(ctx, code, verifier)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(tok.AccessToken, globusauthtest.SecretPrefix+"access"), "Transfer's token, not Auth's")
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Equal(t, f.clock.Now().Add(48*time.Hour), tok.Expires)
	require.NoError(t, f.client.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: mapped, RootDir: "/"},
		credentials.Credential{AccessToken: tok.AccessToken}))
}

func TestAuthFailuresAreUpstreamErrors(t *testing.T) {
	f := setup(t, globusauthtest.Options{})
	ctx := context.Background()
	code, verifier := f.authorize(t, mapped)
	f.fake.SetAuthDown(503)
	_, err := f.client.Exchange(ctx, code, verifier)
	require.ErrorIs(t, err, systems.ErrUpstream)
	assert.Contains(t, err.Error(), "HTTP 503")
	f.fake.SetAuthDown(0)

	wrong, err := globusauth.New(globusauth.Options{ClientID: "not-registered", AuthURL: f.fake.AuthURL(), TokenURL: f.fake.TokenURL(),
		TransferURL: f.fake.TransferURL()})
	require.NoError(t, err)
	_, err = wrong.Refresh(ctx, "whatever")
	require.ErrorIs(t, err, systems.ErrUpstream, "a client id Globus does not know is the operator's problem")
	assert.Contains(t, err.Error(), "client id")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := "http://" + ln.Addr().String() + "/v2/oauth2/token"
	require.NoError(t, ln.Close())
	gone, err := globusauth.New(globusauth.Options{ClientID: "x", TokenURL: closed})
	require.NoError(t, err)
	_, err = gone.Exchange(ctx, "code", verifier)
	require.ErrorIs(t, err, systems.ErrUpstream)
	assert.Contains(t, err.Error(), "could not be reached")
	assertNoSecret(t, err, verifier)
}

func TestTransferRunsUnderThePolicy(t *testing.T) {
	// Without AllowPrivate, the fake (on loopback) is a forbidden address:
	// the guard applies to the Transfer URL's host, never to the
	// collection id (which is no host name at all).
	f := setup(t, globusauthtest.Options{}, func(o *globusauth.Options) { o.Policy = hostcheck.Policy{} })
	ctx := context.Background()
	code, verifier := f.authorize(t, mapped)
	tok, err := f.client.Exchange(ctx, code, verifier)
	require.NoError(t, err, "Globus Auth is the operator's endpoint, not under the host-check guard")
	err = f.client.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: mapped}, credentials.Credential{AccessToken: tok.AccessToken})
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
	assert.Contains(t, err.Error(), "127.0.0.1")
	_, _, transfers := f.fake.Counts()
	assert.Zero(t, transfers)

	// A Transfer service that accepts and never answers: the handshake
	// deadline ends the check.
	stalled := hostchecktest.StalledListener(t)
	c, err := globusauth.New(globusauth.Options{ClientID: "x", TransferURL: "http://" + stalled + "/v0.10/",
		Policy: hostcheck.Policy{AllowPrivate: true, HandshakeTimeout: 200 * time.Millisecond}})
	require.NoError(t, err)
	err = c.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: mapped}, credentials.Credential{AccessToken: "t"})
	require.ErrorIs(t, err, hostcheck.ErrTimeout)
}
