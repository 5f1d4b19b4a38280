package tapis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/internal/testenv"
)

// A program's own readiness condition is run by /readyz after the
// Server's database check: while it fails the instance takes no traffic,
// and the answer names it.
func TestReadyzRunsTheProgramsChecks(t *testing.T) {
	var up atomic.Bool
	env := testenv.New(t, func(c *tapis.Config) {
		c.ReadyChecks = []tapis.ReadyCheck{{Name: "upstream", Check: func(context.Context) error {
			if !up.Load() {
				return errors.New("the upstream canary does not answer")
			}
			return nil
		}}}
	})
	names := []string{}
	for _, c := range env.Server.ReadyChecks() {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"database", "kek", "upstream"}, names, "the Server's own checks first")

	body := func(r testenv.Response) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal(r.Raw, &m), "%s", r.Raw)
		return m
	}
	r := env.Do(t, testenv.Request{Method: "GET", Path: "/readyz"})
	assert.Equal(t, http.StatusServiceUnavailable, r.Code)
	assert.Equal(t, map[string]any{"status": "fail", "checks": map[string]any{"database": "ok", "kek": "ok", "upstream": "fail"}}, body(r))
	assert.Equal(t, "no-store", r.Header.Get("Cache-Control"))
	assert.NotContains(t, string(r.Raw), "canary", "the cause is logged, not answered")

	// Liveness does not depend on the checks: a restart would not help.
	r = env.Do(t, testenv.Request{Method: "GET", Path: "/livez"})
	assert.Equal(t, http.StatusOK, r.Code)
	assert.Equal(t, map[string]any{"status": "ok", "checks": map[string]any{}}, body(r))

	up.Store(true)
	r = env.Do(t, testenv.Request{Method: "GET", Path: "/readyz"})
	assert.Equal(t, http.StatusOK, r.Code)
	assert.Equal(t, map[string]any{"status": "ok", "checks": map[string]any{"database": "ok", "kek": "ok", "upstream": "ok"}}, body(r))

	// An embedder mounting the probes itself gets the same answers.
	rec := httptest.NewRecorder()
	env.Server.Readyz().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ready", nil))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	rec = httptest.NewRecorder()
	env.Server.Livez().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/alive", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
}

// An instance whose KEK does not open the store's canary is not ready (and
// says which check failed, not why).
func TestReadyzFailsWithAnotherKEK(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	first, err := tapis.New(tapis.Config{Store: st, KEK: bytes.Repeat([]byte{1}, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { first.Close() })
	require.NoError(t, first.CheckKEK(ctx), "the first instance seals the canary")
	second, err := tapis.New(tapis.Config{Store: st, KEK: bytes.Repeat([]byte{2}, 32)})
	require.NoError(t, err)
	t.Cleanup(func() { second.Close() })
	require.ErrorIs(t, second.CheckKEK(ctx), tapis.ErrWrongKEK)
	rec := httptest.NewRecorder()
	second.Readyz().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m))
	assert.Equal(t, map[string]any{"database": "ok", "kek": "fail"}, m["checks"])
	rec = httptest.NewRecorder()
	first.Readyz().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

// A broken list of checks is refused at New, naming every broken entry.
func TestReadyChecksAreValidated(t *testing.T) {
	ok := func(context.Context) error { return nil }
	_, err := tapis.New(tapis.Config{Store: memory.New(), KEK: make([]byte, 32), ReadyChecks: []tapis.ReadyCheck{
		{Name: "", Check: ok},
		{Name: "database", Check: ok},
		{Name: "kek", Check: ok},
		{Name: "upstream", Check: ok},
		{Name: "upstream"},
	}})
	require.Error(t, err)
	for _, want := range []string{
		"Config.ReadyChecks[0] has no Name",
		`Config.ReadyChecks[1]: the name "database" is taken`,
		`Config.ReadyChecks[2]: the name "kek" is taken`,
		`Config.ReadyChecks[4]: the name "upstream" is taken`,
		`Config.ReadyChecks[4] ("upstream") has no Check`,
	} {
		assert.Contains(t, err.Error(), want)
	}
}
