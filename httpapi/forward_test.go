package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
	"github.com/tapis-go/tapis/tenancy/tenancytest"
)

// forwardWorld is an associate site "a" (runs systems) of a primary "p",
// with a Forwarder in front of a local handler that answers "local", and a
// primary server that records what reaches it.
type forwardWorld struct {
	h       http.Handler
	primary *httptest.Server
	logs    *bytes.Buffer

	mu   sync.Mutex
	seen []*http.Request
}

func newForwardWorld(t *testing.T, primary http.HandlerFunc) *forwardWorld {
	t.Helper()
	ctx := context.Background()
	st := memory.New()
	a := tenancytest.Site("a", false)
	a.Services = []string{"systems"}
	for _, s := range []tenancy.Site{tenancytest.Site("p", true), a} {
		require.NoError(t, st.CreateSite(ctx, s))
	}
	svc, err := tenancy.NewService(tenancy.Config{Store: st})
	require.NoError(t, err)
	w := &forwardWorld{logs: &bytes.Buffer{}}
	w.primary = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.seen = append(w.seen, r.Clone(context.Background()))
		w.mu.Unlock()
		primary(rw, r)
	}))
	t.Cleanup(w.primary.Close)
	validate := func(_ context.Context, raw string) error {
		switch raw {
		case "revoked":
			return fmt.Errorf("wrapped: %w", oauth2.ErrInvalidToken)
		case "store-down":
			return errors.New("store down")
		}
		return nil
	}
	f, err := httpapi.NewForwarder(httpapi.ForwardConfig{Primary: w.primary.URL, Site: "a", Registry: svc, Validate: validate,
		Logger: slog.New(slog.NewTextHandler(w.logs, nil))})
	require.NoError(t, err)
	w.h = f.Wrap(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, "local") }))
	return w
}

func (w *forwardWorld) do(t *testing.T, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

// TestForwarderRoutes: the associate answers its own services, its
// Tokens API and its mirror's registry reads, and sends the rest to the
// primary: services it does not run, registry writes, the tenant history.
func TestForwarderRoutes(t *testing.T) {
	w := newForwardWorld(t, func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, "primary") })
	for _, c := range []struct{ method, path, want string }{
		{"GET", "/v3/systems/s1", "local"},
		{"POST", "/v3/systems", "local"},
		{"PUT", "/v3/tokens/keys", "local"},
		{"POST", "/v3/tokens", "local"},
		{"GET", "/v3/tenants/t1", "local"},
		{"GET", "/v3/sites", "local"},
		{"GET", "/openapi.json", "local"},
		{"GET", "/v3/tenants/t1/history", "primary"},
		{"PUT", "/v3/tenants/t1", "primary"},
		{"POST", "/v3/sites", "primary"},
		{"DELETE", "/v3/tenants/owners/o@x.test", "primary"},
		{"POST", "/v3/oauth2/tokens", "primary"},
		{"GET", "/v3/files/ops/x", "primary"},
	} {
		rec := w.do(t, httptest.NewRequest(c.method, c.path, nil))
		assert.Equal(t, c.want, rec.Body.String(), "%s %s", c.method, c.path)
	}
}

// TestForwarderChecksTokens: a token this site refuses (a revoked one) is
// answered here, not forwarded; a check that fails for another reason
// leaves the decision to the primary.
func TestForwarderChecksTokens(t *testing.T) {
	w := newForwardWorld(t, func(rw http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(rw, "primary") })
	for token, want := range map[string]int{"revoked": http.StatusUnauthorized, "store-down": http.StatusOK, "good": http.StatusOK} {
		r := httptest.NewRequest("PUT", "/v3/tenants/t1", nil)
		r.Header.Set("X-Tapis-Token", token)
		rec := w.do(t, r)
		assert.Equal(t, want, rec.Code, token)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	assert.Len(t, w.seen, 2, "the refused token did not reach the primary")
}

// TestForwarderIsAProxy: what the primary sees and what the client gets
// back: Host and the Tapis headers kept, X-Forwarded-* and the forwarding
// site set, hop-by-hop headers dropped both ways, status and headers kept,
// the request body streamed through.
func TestForwarderIsAProxy(t *testing.T) {
	w := newForwardWorld(t, func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rw.Header().Set("X-Answer", "kept")
		rw.Header().Set("Connection", "X-Secret-Hop")
		rw.Header().Set("X-Secret-Hop", "dropped")
		rw.WriteHeader(http.StatusTeapot)
		_, _ = rw.Write(body)
	})
	big := strings.Repeat("x", 1<<20)
	r := httptest.NewRequest("PUT", "/v3/tenants/t1?x=1", strings.NewReader(big))
	r.Host = "t1.a.tapis.test"
	r.RemoteAddr = "192.0.2.7:5555"
	r.Header.Set("X-Tapis-Token", "the-token")
	r.Header.Set("Connection", "X-Hop")
	r.Header.Set("X-Hop", "dropped")
	r.Header.Set("Proxy-Authorization", "Basic dropped")
	rec := w.do(t, r)
	assert.Equal(t, http.StatusTeapot, rec.Code)
	assert.Equal(t, "kept", rec.Header().Get("X-Answer"))
	assert.Empty(t, rec.Header().Get("X-Secret-Hop"))
	assert.Equal(t, len(big), rec.Body.Len(), "the body went there and back whole")

	w.mu.Lock()
	seen := w.seen
	w.mu.Unlock()
	require.Len(t, seen, 1)
	got := seen[0]
	assert.Equal(t, "t1.a.tapis.test", got.Host, "the Host names the tenant at the primary too")
	assert.Equal(t, "/v3/tenants/t1", got.URL.Path)
	assert.Equal(t, "x=1", got.URL.RawQuery)
	assert.Equal(t, "the-token", got.Header.Get("X-Tapis-Token"))
	assert.Equal(t, "192.0.2.7", got.Header.Get("X-Forwarded-For"))
	assert.Equal(t, "t1.a.tapis.test", got.Header.Get("X-Forwarded-Host"))
	assert.Equal(t, "http", got.Header.Get("X-Forwarded-Proto"))
	assert.Equal(t, "a", got.Header.Get(httpapi.HeaderForwardedBy))
	assert.Empty(t, got.Header.Get("X-Hop"))
	assert.Empty(t, got.Header.Get("Proxy-Authorization"))
}

// TestForwarderStreams: the answer reaches the client as the primary
// writes it, not once it is complete.
func TestForwarderStreams(t *testing.T) {
	release := make(chan struct{})
	w := newForwardWorld(t, func(rw http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(rw, "first\n")
		rw.(http.Flusher).Flush()
		select {
		case <-release:
			_, _ = io.WriteString(rw, "second\n")
		case <-time.After(20 * time.Second):
			_, _ = io.WriteString(rw, "buffered\n")
		}
	})
	front := httptest.NewServer(w.h)
	t.Cleanup(front.Close)
	resp, err := http.Get(front.URL + "/v3/files/stream")
	require.NoError(t, err)
	defer resp.Body.Close()
	rd := bufio.NewReader(resp.Body)
	line, err := rd.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "first\n", line)
	close(release)
	line, err = rd.ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "second\n", line, "the first part arrived before the primary finished")
}

// TestForwarderFailures: a primary that does not answer is a 502 in the
// envelope, logged without the token; a request another site forwarded is
// not forwarded again (508).
func TestForwarderFailures(t *testing.T) {
	w := newForwardWorld(t, func(http.ResponseWriter, *http.Request) {})
	w.primary.Close()
	r := httptest.NewRequest("GET", "/v3/files/x", nil)
	r.Header.Set("X-Tapis-Token", "secret-token-value")
	rec := w.do(t, r)
	assert.Equal(t, http.StatusBadGateway, rec.Code)
	var env map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &env))
	assert.Equal(t, "error", env["status"])
	assert.Contains(t, env["message"], "the primary site ("+w.primary.URL+") did not answer")
	assert.Contains(t, w.logs.String(), "forwarding to the primary site failed")
	assert.NotContains(t, w.logs.String(), "secret-token-value")
	assert.NotContains(t, rec.Body.String(), "secret-token-value")

	r = httptest.NewRequest("GET", "/v3/files/x", nil)
	r.Header.Set(httpapi.HeaderForwardedBy, "b")
	rec = w.do(t, r)
	assert.Equal(t, http.StatusLoopDetected, rec.Code)
	assert.Contains(t, rec.Body.String(), "forwarded here by site b")

	_, err := httpapi.NewForwarder(httpapi.ForwardConfig{Primary: "ftp://user:pw@x"})
	require.Error(t, err)
	for _, want := range []string{"ForwardConfig.Primary", "ForwardConfig.Site is empty", "ForwardConfig.Registry is nil"} {
		assert.ErrorContains(t, err, want)
	}
}
