package systems_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/systems"
)

// In-process fakes on top of the real memory store: a host that accepts or
// refuses credentials, a host environment for HOST_EVAL, a host-key store
// that records what it forgets, a Globus, a vault that fails, a store whose
// reads are one version behind, and a settable clock.

// verifier is a hostcheck.Verifier that records its calls and answers err.
type verifier struct {
	mu    sync.Mutex
	err   error
	calls []verifyCall
}

type verifyCall struct {
	Target hostcheck.Target
	Cred   credentials.Credential
}

func (v *verifier) Verify(_ context.Context, t hostcheck.Target, c credentials.Credential) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.calls = append(v.calls, verifyCall{t, c})
	return v.err
}

func (v *verifier) Calls() []verifyCall {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]verifyCall(nil), v.calls...)
}

// evaluator is a hostcheck.Evaluator over a fixed environment.
type evaluator struct {
	env  map[string]string
	err  error
	seen []hostcheck.Target
}

func (e *evaluator) EvalEnv(_ context.Context, t hostcheck.Target, _ credentials.Credential, name string) (string, error) {
	e.seen = append(e.seen, t)
	if e.err != nil {
		return "", e.err
	}
	return e.env[name], nil
}

// hostKeys records the systems whose pinned key was forgotten.
type hostKeys struct {
	deleted []string
}

func (h *hostKeys) HostKey(context.Context, string, string) (string, error) { return "", nil }
func (h *hostKeys) PinHostKey(context.Context, string, string, string) error {
	return nil
}
func (h *hostKeys) DeleteHostKey(_ context.Context, tenant, id string) error {
	h.deleted = append(h.deleted, tenant+"/"+id)
	return nil
}

// failingVault stores nothing: every write fails.
type failingVault struct{ credentials.Vault }

var errVaultDown = errors.New("vault down")

func (failingVault) PutCredential(context.Context, credentials.Key, credentials.Credential) error {
	return errVaultDown
}

// staleStore reads systems one version behind what is stored, as if another
// request had updated them since: every save is a version conflict.
type staleStore struct{ systems.Store }

func (s staleStore) GetSystem(ctx context.Context, tenant, id string) (systems.System, error) {
	sys, err := s.Store.GetSystem(ctx, tenant, id)
	sys.Version--
	return sys, err
}

// clock is a settable clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// globus is a systems.Globus: codes it issued exchange for tokens once,
// with the verifier they were issued for; refresh tokens rotate.
type globus struct {
	verifier
	clock *clock

	mu          sync.Mutex
	codes       map[string]string // code -> verifier
	authURLs    int
	refreshes   int
	exchangeErr error
	refreshErr  error
	noRefresh   bool // Exchange answers without a refresh token
}

func newGlobus(c *clock) *globus { return &globus{clock: c, codes: map[string]string{}} }

func (g *globus) AuthURL(_ context.Context, collection, state, verifier string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.authURLs++
	code := fmt.Sprintf("code-%d", g.authURLs)
	g.codes[code] = verifier
	return "https://auth.globus.test/authorize?collection=" + collection + "&state=" + state + "&code=" + code, nil
}

func (g *globus) Exchange(_ context.Context, code, verifier string) (systems.GlobusTokens, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.exchangeErr != nil {
		return systems.GlobusTokens{}, g.exchangeErr
	}
	want, ok := g.codes[code]
	delete(g.codes, code)
	if !ok || want != verifier {
		return systems.GlobusTokens{}, fmt.Errorf("unknown code or wrong verifier: %w", systems.ErrGlobusRefused)
	}
	tok := systems.GlobusTokens{AccessToken: "at-" + code, RefreshToken: "rt-" + code, Expires: g.clock.Now().Add(48 * time.Hour)}
	if g.noRefresh {
		tok.RefreshToken = ""
	}
	return tok, nil
}

func (g *globus) Refresh(_ context.Context, rt string) (systems.GlobusTokens, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.refreshErr != nil {
		return systems.GlobusTokens{}, g.refreshErr
	}
	g.refreshes++
	return systems.GlobusTokens{AccessToken: fmt.Sprintf("at-refreshed-%d", g.refreshes), RefreshToken: fmt.Sprintf("rt-refreshed-%d", g.refreshes),
		Expires: g.clock.Now().Add(48 * time.Hour)}, nil
}
