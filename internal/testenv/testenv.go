// Package testenv builds a seeded library instance on the memory store for
// tests: primary site "local", tenants admin and dev (devseed.DevAt on host
// tapis.test), a third tenant "other" for isolation tests, fixed service
// passwords and a clock tests can move.
package testenv

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// Host is the host the seeded tenants' base URLs use: dev.tapis.test, ...
const Host = "tapis.test"

// ServicePassword is the password of every seeded service account.
const ServicePassword = "service-password-for-tests"

// Clock is a settable clock.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now returns the wall clock plus the offset.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// Env is a running test instance.
type Env struct {
	Server  *tapis.Server
	Handler http.Handler
	API     huma.API
	Store   *memory.Store
	Clock   *Clock
	KEK     []byte
	// Backend is the store every part of the instance comes from.
	Backend tapis.Store
}

// SigningKey returns the current private signing key of a tenant.
func (e *Env) SigningKey(t testing.TB, tenant string) (*rsa.PrivateKey, string) {
	t.Helper()
	keys, err := e.Backend.ListSigningKeys(context.Background(), tenant)
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	s, err := seal.New(e.KEK)
	require.NoError(t, err)
	priv, err := oauth2.OpenSigningKey(s, keys[0])
	require.NoError(t, err)
	return priv, keys[0].KID
}

// New starts a seeded instance on the memory store. Options edit the Config.
func New(t testing.TB, opts ...func(*tapis.Config)) *Env {
	t.Helper()
	st := memory.New()
	return NewWithStore(t, st, st, opts...)
}

// NewWithStore starts a seeded instance on st; mem is st when it is a
// memory store (Env.Store), else nil.
func NewWithStore(t testing.TB, st tapis.Store, mem *memory.Store, opts ...func(*tapis.Config)) *Env {
	t.Helper()
	return newEnv(t, st, mem, "http://dev."+Host, opts)
}

// newEnv starts a seeded instance with the dev tenant at devBase.
func newEnv(t testing.TB, st tapis.Store, mem *memory.Store, devBase string, opts []func(*tapis.Config)) *Env {
	t.Helper()
	clock := &Clock{}
	cfg := tapis.Config{Store: st, KEK: seal.NewKey(), PasswordCost: bcrypt.MinCost, Now: clock.Now}
	for _, o := range opts {
		o(&cfg)
	}
	kek := cfg.KEK
	srv, err := tapis.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	pw := map[string]string{}
	for _, s := range devseed.AdminServices() {
		pw[s] = ServicePassword
	}
	seed := devseed.DevAt(Host, devBase, pw)
	seed.Tenants = append(seed.Tenants, devseed.TenantSpec("other", "local", "http://other."+Host, "tapis-dev@example.org", "otheradmin", "authenticator"))
	seed.Accounts = append(seed.Accounts,
		devseed.Account{TenantID: "other", Username: "testuser1", AccountType: tenancy.AccountUser, Password: "testuser1"})
	require.NoError(t, devseed.Apply(context.Background(), srv, seed))
	h, api, err := srv.HandlerAPI()
	require.NoError(t, err)
	return &Env{Server: srv, Handler: h, API: api, Store: mem, Clock: clock, KEK: kek, Backend: st}
}

// Token mints a token directly (no HTTP) and returns the pair.
func (e *Env) Token(t testing.TB, req oauth2.MintRequest) oauth2.TokenPair {
	t.Helper()
	pair, err := e.Server.Tokens().Mint(context.Background(), req)
	require.NoError(t, err)
	return pair
}

// UserToken mints an access token for user@tenant.
func (e *Env) UserToken(t testing.TB, tenant, user string) string {
	return e.Token(t, oauth2.MintRequest{TenantID: tenant, Username: user, AccountType: tenancy.AccountUser}).Access.Raw
}

// ServiceToken mints a service token for svc@admin targeting site local.
func (e *Env) ServiceToken(t testing.TB, svc string) string {
	return e.Token(t, oauth2.MintRequest{TenantID: "admin", Username: svc, AccountType: tenancy.AccountService, TargetSite: "local"}).Access.Raw
}

// Response is a decoded reply.
type Response struct {
	Code   int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// Result returns body["result"] as a map.
func (r Response) Result() map[string]any {
	m, _ := r.Body["result"].(map[string]any)
	return m
}

// Message returns body["message"].
func (r Response) Message() string {
	s, _ := r.Body["message"].(string)
	return s
}

// Request describes one call.
type Request struct {
	Method, Path string
	Host         string
	Body         any // marshalled as JSON unless a []byte or string
	Headers      map[string]string
	// RemoteAddr is the client's address (host:port); default httptest's.
	RemoteAddr string
}

// Do sends a request through the handler.
func (e *Env) Do(t testing.TB, r Request) Response {
	t.Helper()
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case []byte:
		body = bytes.NewReader(b)
	case string:
		body = bytes.NewReader([]byte(b))
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		body = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(r.Method, r.Path, body)
	if r.Host != "" {
		req.Host = r.Host
	}
	if r.RemoteAddr != "" {
		req.RemoteAddr = r.RemoteAddr
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.Handler.ServeHTTP(rec, req)
	out := Response{Code: rec.Code, Header: rec.Header(), Raw: rec.Body.Bytes()}
	if len(out.Raw) > 0 {
		_ = json.Unmarshal(out.Raw, &out.Body)
	}
	return out
}
