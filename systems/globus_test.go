package systems_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
)

// Globus credentials (reference/systems.md §5.3) with a fake Globus on top
// of the memory store's session store and vault: the authorization flow,
// its session rules, and the refresh of expiring tokens.

type globusWorld struct {
	harness
	gl  *globus
	clk *clock
}

func newGlobusWorld(t *testing.T) globusWorld {
	clk := newClock()
	gl := newGlobus(clk)
	h := newHarness(t, func(c *systems.Config) {
		c.Globus, c.GlobusSessions, c.Now = gl, c.Store.(systems.GlobusSessionStore), clk.Now
	})
	s := newSystem("gsys")
	s.SystemType, s.Host, s.RootDir, s.DefaultAuthnMethod = systems.TypeGlobus, "collection-1", "/", systems.AuthnToken
	h.create(t, user("dev", "alice"), s)
	h.grant(t, "dev", "gsys", "bob", systems.PermRead)
	return globusWorld{harness: h, gl: gl, clk: clk}
}

// start begins a flow for p and returns the code the user would get and
// the session id.
func (w globusWorld) start(t *testing.T, p principal) (code, session string) {
	t.Helper()
	raw, session, err := w.svc.GlobusAuthURL(context.Background(), p, "gsys")
	require.NoError(t, err)
	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "collection-1", u.Query().Get("collection"), "consent for the system's collection")
	assert.Equal(t, session, u.Query().Get("state"))
	return u.Query().Get("code"), session
}

func TestGlobusNotConfigured(t *testing.T) {
	ctx := context.Background()
	alice := user("dev", "alice")
	h := newHarness(t)
	s := newSystem("gsys")
	s.SystemType, s.RootDir = systems.TypeGlobus, "/"
	h.create(t, alice, s)
	_, _, err := h.svc.GlobusAuthURL(ctx, alice, "gsys")
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_GLOBUS_NOT_CONFIGURED")
	err = h.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", "code", "session")
	refusedWith(t, err, systems.ErrNotConfigured, "SYSAPI_GLOBUS_NOT_CONFIGURED")

	h = newHarness(t, func(c *systems.Config) { c.Globus = newGlobus(newClock()) })
	h.create(t, alice, s)
	_, _, err = h.svc.GlobusAuthURL(ctx, alice, "gsys")
	refusedWith(t, err, systems.ErrNotConfigured, "without a session store")

	w := newGlobusWorld(t)
	w.create(t, alice, newSystem("linux"))
	_, _, err = w.svc.GlobusAuthURL(ctx, alice, "linux")
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_GLOBUS_NOT_GLOBUS")
	_, _, err = w.svc.GlobusAuthURL(ctx, user("dev", "stranger"), "gsys")
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH")
}

func TestGlobusFlow(t *testing.T) {
	w := newGlobusWorld(t)
	ctx := context.Background()
	alice, bob := user("dev", "alice"), user("dev", "bob")

	code, session := w.start(t, alice)
	assert.Len(t, session, 43, "256 random bits")
	require.NoError(t, w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", code, session))
	c := w.readTokens(t, "alice")
	assert.Equal(t, "at-"+code, c.AccessToken)
	assert.Equal(t, "rt-"+code, c.RefreshToken)
	hist, err := w.svc.History(ctx, alice, "gsys")
	require.NoError(t, err)
	last := hist[len(hist)-1]
	assert.Equal(t, "setAccessRefreshTokens", last.Operation)
	assert.NotContains(t, string(last.Description), code, "no token in history")

	err = w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", code, session)
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_GLOBUS_SESSION_INVALID") // a session is used once

	// A session is bound to the user who started it: bob cannot finish
	// alice's, and trying does not use it up.
	code, session = w.start(t, alice)
	err = w.svc.GenerateGlobusTokens(ctx, bob, "gsys", "bob", code, session)
	refusedWith(t, err, systems.ErrInvalid, "SYSAPI_GLOBUS_SESSION_INVALID")
	require.NoError(t, w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", code, session))

	for name, bad := range map[string]string{"empty": "", "short": "abc", "not base64url": "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"} {
		err := w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", "code", bad)
		refusedWith(t, err, systems.ErrInvalid, "SYSAPI_GLOBUS_SESSION_INVALID")
		assert.NotEmpty(t, name)
	}
	err = w.svc.GenerateGlobusTokens(ctx, bob, "gsys", "alice", "code", session)
	refusedWith(t, err, systems.ErrForbidden, "SYSLIB_UNAUTH") // bob may not set alice's credential
}

func TestGlobusSessionRules(t *testing.T) {
	ctx := context.Background()
	alice := user("dev", "alice")
	t.Run("expired", func(t *testing.T) {
		w := newGlobusWorld(t)
		code, session := w.start(t, alice)
		w.clk.Advance(systems.GlobusSessionTTL)
		err := w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", code, session)
		refusedWith(t, err, systems.ErrInvalid, "SYSAPI_GLOBUS_SESSION_EXPIRED")
	})
	t.Run("the host moved", func(t *testing.T) {
		w := newGlobusWorld(t)
		code, session := w.start(t, alice)
		host := "collection-2"
		_, err := w.svc.Patch(ctx, alice, "gsys", systems.Patch{Host: &host})
		require.NoError(t, err)
		err = w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", code, session)
		refusedWith(t, err, systems.ErrInvalid, "SYSAPI_GLOBUS_SESSION_HOST")
	})
	t.Run("Globus refuses the code", func(t *testing.T) {
		w := newGlobusWorld(t)
		_, session := w.start(t, alice)
		err := w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", "forged", session)
		refusedWith(t, err, systems.ErrInvalid, "SYSAPI_GLOBUS_REFUSED")
		w.absentCred(t, "alice")
	})
	t.Run("Globus is down", func(t *testing.T) {
		w := newGlobusWorld(t)
		code, session := w.start(t, alice)
		w.gl.exchangeErr = fmt.Errorf("connection reset: %w", systems.ErrUpstream)
		err := w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", code, session)
		refusedWith(t, err, systems.ErrUpstream, "SYSAPI_GLOBUS_UNAVAILABLE")
		w.absentCred(t, "alice")
	})
	t.Run("no refresh token", func(t *testing.T) {
		w := newGlobusWorld(t)
		code, session := w.start(t, alice)
		w.gl.noRefresh = true
		err := w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", code, session)
		refusedWith(t, err, systems.ErrUpstream, "SYSAPI_GLOBUS_NO_REFRESH")
		w.absentCred(t, "alice")
	})
}

// TestGlobusRefresh: a stored access token about to expire is refreshed
// (once) before a reader gets it, and the new pair is stored; a refusal
// asks the user to authorize again.
func TestGlobusRefresh(t *testing.T) {
	ctx := context.Background()
	alice := user("dev", "alice")
	w := newGlobusWorld(t)
	code, session := w.start(t, alice)
	require.NoError(t, w.svc.GenerateGlobusTokens(ctx, alice, "gsys", "alice", code, session))

	w.clk.Advance(47 * time.Hour)
	assert.Equal(t, "at-"+code, w.readTokens(t, "alice").AccessToken, "an hour left: no refresh")
	assert.Zero(t, w.gl.refreshes)

	w.clk.Advance(time.Hour - systems.GlobusRefreshMargin/2)
	c := w.readTokens(t, "alice")
	assert.Equal(t, "at-refreshed-1", c.AccessToken)
	assert.Equal(t, "rt-refreshed-1", c.RefreshToken, "rotated refresh tokens are kept")
	assert.Equal(t, "at-refreshed-1", w.readTokens(t, "alice").AccessToken)
	assert.Equal(t, 1, w.gl.refreshes, "the stored pair is fresh: one refresh")

	// The check of a TOKEN credential goes to Globus (not the host
	// verifier) with a fresh token too.
	w.clk.Advance(48 * time.Hour)
	require.NoError(t, w.svc.CheckUserCredential(ctx, alice, "gsys", "alice", ""))
	calls := w.gl.Calls()
	require.NotEmpty(t, calls)
	assert.Equal(t, "at-refreshed-2", calls[len(calls)-1].Cred.AccessToken)
	assert.Equal(t, "collection-1", calls[len(calls)-1].Target.Host)

	w.clk.Advance(48 * time.Hour)
	w.gl.refreshErr = fmt.Errorf("invalid_grant: %w", systems.ErrGlobusRefused)
	_, _, err := w.svc.GetUserCredential(ctx, service("files", "dev"), "gsys", "alice", "")
	refusedWith(t, err, systems.ErrCredentialRejected, "SYSAPI_GLOBUS_REFRESH_REFUSED")
	w.gl.refreshErr = fmt.Errorf("timeout: %w", systems.ErrUpstream)
	_, _, err = w.svc.GetUserCredential(ctx, service("files", "dev"), "gsys", "alice", "")
	refusedWith(t, err, systems.ErrUpstream, "SYSAPI_GLOBUS_UNAVAILABLE")

	// A token written through the credential endpoint (expiry unknown)
	// counts GlobusTokenLifetime from when it was stored.
	w.gl.refreshErr = nil
	require.NoError(t, w.svc.SetUserCredential(ctx, alice, "gsys", "alice", systems.Credential{AccessToken: "manual", RefreshToken: "manual-rt"}, true))
	assert.Equal(t, "manual", w.readTokens(t, "alice").AccessToken)
	w.clk.Advance(systems.GlobusTokenLifetime)
	assert.Equal(t, "at-refreshed-3", w.readTokens(t, "alice").AccessToken)
}

func (w globusWorld) readTokens(t *testing.T, user string) systems.Credential {
	t.Helper()
	c, method, err := w.svc.GetUserCredential(context.Background(), service("files", "dev"), "gsys", user, "")
	require.NoError(t, err)
	assert.Equal(t, systems.AuthnToken, method)
	return c
}

func (w globusWorld) absentCred(t *testing.T, user string) {
	t.Helper()
	_, _, err := w.svc.GetUserCredential(context.Background(), service("files", "dev"), "gsys", user, "")
	assert.ErrorIs(t, err, systems.ErrNotFound, "nothing stored")
}

// TestGlobusSecretsNeverPrint: the tokens and the PKCE verifier do not show
// in a formatted value (a log line by mistake).
func TestGlobusSecretsNeverPrint(t *testing.T) {
	tok := systems.GlobusTokens{AccessToken: "secret-at", RefreshToken: "secret-rt"}
	sess := systems.GlobusSession{ID: "id", Verifier: "secret-verifier"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{tok, sess, &tok, &sess} {
			out := fmt.Sprintf(f, v)
			assert.NotContains(t, out, "secret", f)
			assert.Contains(t, out, "redacted", f)
		}
	}
}
