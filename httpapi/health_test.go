package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/httpapi"
)

func probe(t *testing.T, h http.Handler) (int, http.Header, httpapi.HealthReport, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	raw := rec.Body.String()
	var rep httpapi.HealthReport
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &rep), raw)
	return rec.Code, rec.Header(), rep, raw
}

// Readiness fails while any check fails and names it, in plain JSON that
// no cache keeps; the cause goes to the log (once per change), never to
// the caller.
func TestReadyzNamesTheFailingCheck(t *testing.T) {
	var dbDown atomic.Bool
	dbDown.Store(true)
	logs := &lockedBuffer{}
	h := httpapi.NewHealth([]httpapi.ReadyCheck{
		{Name: "database", Check: func(context.Context) error {
			if dbDown.Load() {
				return errors.New("dial tcp 10.0.0.5:5432: password authentication failed for user tapis (secret-in-cause)")
			}
			return nil
		}},
		{Name: "kek", Check: func(context.Context) error { return nil }},
	}, slog.New(slog.NewTextHandler(logs, nil)))

	for range 2 {
		code, hdr, rep, raw := probe(t, h.Readyz())
		assert.Equal(t, http.StatusServiceUnavailable, code)
		assert.Equal(t, httpapi.HealthReport{Status: "fail", Checks: map[string]string{"database": "fail", "kek": "ok"}}, rep)
		assert.Equal(t, "no-store", hdr.Get("Cache-Control"))
		assert.Equal(t, "application/json", hdr.Get("Content-Type"))
		assert.NotContains(t, raw, "secret-in-cause", "the cause is never answered")
		assert.NotContains(t, raw, "result", "outside the Tapis envelope")
	}
	assert.Equal(t, 1, strings.Count(logs.String(), "readiness check failed"), "logged once per change: %s", logs)
	assert.Contains(t, logs.String(), "check=database")
	assert.Contains(t, logs.String(), "secret-in-cause", "the operator sees the cause in the log")

	dbDown.Store(false)
	code, _, rep, _ := probe(t, h.Readyz())
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, httpapi.HealthReport{Status: "ok", Checks: map[string]string{"database": "ok", "kek": "ok"}}, rep)
	assert.Contains(t, logs.String(), "readiness check passes again")

	code, hdr, rep, _ := probe(t, h.Livez())
	assert.Equal(t, http.StatusOK, code)
	assert.Equal(t, httpapi.HealthReport{Status: "ok", Checks: map[string]string{}}, rep)
	assert.Equal(t, "no-store", hdr.Get("Cache-Control"))
}

// Parallel probes share the run under way: a flood of /readyz cannot
// multiply the database round trips; a probe whose request ends first
// answers "fail" without starting another run.
func TestReadyzJoinsTheRunUnderWay(t *testing.T) {
	var calls atomic.Int32
	started, release := make(chan struct{}), make(chan struct{})
	h := httpapi.NewHealth([]httpapi.ReadyCheck{{Name: "database", Check: func(context.Context) error {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return nil
	}}}, slog.New(slog.DiscardHandler))

	first := make(chan int)
	go func() {
		status, _ := h.Ready(context.Background())
		first <- status
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	status, rep := h.Ready(ctx)
	assert.Equal(t, http.StatusServiceUnavailable, status, "gave up waiting")
	assert.Equal(t, "fail", rep.Checks["database"])
	close(release)
	assert.Equal(t, http.StatusOK, <-first)
	assert.Equal(t, int32(1), calls.Load(), "one run for both probes")

	status, _ = h.Ready(context.Background())
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, int32(2), calls.Load(), "a later probe runs the checks again: no stale answer")
}
