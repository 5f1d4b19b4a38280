package httpapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/danielgtaylor/huma/v2"
)

// The probe paths of a stand-alone handler (NewHandler), outside /v3 and
// outside the Tapis envelope: what an orchestrator asks.
const (
	LivezPath  = "/livez"
	ReadyzPath = "/readyz"
)

// readyTimeout bounds one run of the readiness checks, below the usual
// probe timeout (deploy/kubernetes: 2s), so the probe gets an answer.
const readyTimeout = 1500 * time.Millisecond

// ReadyCheck is one condition a server needs to take traffic (the database
// answers, the KEK opens the sealed data, ...): GET /readyz runs each and
// names it in its answer. Check returns nil when the condition holds; its
// error is logged, never answered.
type ReadyCheck struct {
	Name  string
	Check func(context.Context) error
}

// HealthReport is the body of /livez and /readyz: "ok" or "fail", and each
// readiness check's name with "ok" or "fail".
type HealthReport struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// Health answers an orchestrator's probes. Liveness holds while the
// process serves; readiness runs every ReadyCheck, at most one run at a
// time (parallel probes share it, so a flood of /readyz costs one database
// round trip at a time), and answers 503 while any fails.
type Health struct {
	checks []ReadyCheck
	log    *slog.Logger

	mu      sync.Mutex
	running *readyRun
	failing map[string]bool // by check: failed at the last run (logged once per change)
}

type readyRun struct {
	done    chan struct{}
	results map[string]error
}

// NewHealth returns the probes of checks; log receives each check's change
// between passing and failing, with its error.
func NewHealth(checks []ReadyCheck, log *slog.Logger) *Health {
	if log == nil {
		log = slog.Default()
	}
	return &Health{checks: checks, log: log, failing: map[string]bool{}}
}

// Livez is GET /livez: 200 {"status":"ok","checks":{}} whenever the
// process answers at all.
func (h *Health) Livez() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeHealth(w, http.StatusOK, HealthReport{Status: "ok", Checks: map[string]string{}})
	})
}

// Readyz is GET /readyz: 200 with every check "ok", else 503 naming the
// checks that fail.
func (h *Health) Readyz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		status, rep := h.Ready(r.Context())
		writeHealth(w, status, rep)
	})
}

// Ready runs the checks (or waits for the run under way) and returns the
// status and report of /readyz.
func (h *Health) Ready(ctx context.Context) (int, HealthReport) {
	results := h.run(ctx)
	rep := HealthReport{Status: "ok", Checks: make(map[string]string, len(h.checks))}
	status := http.StatusOK
	for _, c := range h.checks {
		err, ran := results[c.Name]
		if !ran || err != nil {
			rep.Status, rep.Checks[c.Name], status = "fail", "fail", http.StatusServiceUnavailable
		} else {
			rep.Checks[c.Name] = "ok"
		}
	}
	return status, rep
}

// run starts a run of the checks, or joins the one under way. A waiter
// whose request ends first reports every check as not run (failed).
func (h *Health) run(ctx context.Context) map[string]error {
	h.mu.Lock()
	r := h.running
	if r == nil {
		r = &readyRun{done: make(chan struct{})}
		h.running = r
		h.mu.Unlock()
		// The run outlives the request that started it: others wait for it.
		go h.checkAll(context.WithoutCancel(ctx), r)
	} else {
		h.mu.Unlock()
	}
	select {
	case <-r.done:
		return r.results
	case <-ctx.Done():
		return nil
	}
}

func (h *Health) checkAll(ctx context.Context, r *readyRun) {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	errs := make([]error, len(h.checks))
	var wg sync.WaitGroup
	for i, c := range h.checks {
		wg.Go(func() { errs[i] = c.Check(ctx) })
	}
	wg.Wait()
	results := make(map[string]error, len(h.checks))
	h.mu.Lock()
	for i, c := range h.checks {
		results[c.Name] = errs[i]
		switch failed := errs[i] != nil; {
		case failed && !h.failing[c.Name]:
			h.log.Warn("readiness check failed: not ready", "check", c.Name, "err", errs[i])
		case !failed && h.failing[c.Name]:
			h.log.Info("readiness check passes again", "check", c.Name)
		}
		h.failing[c.Name] = errs[i] != nil
	}
	r.results = results
	h.running = nil
	h.mu.Unlock()
	close(r.done)
}

func writeHealth(w http.ResponseWriter, status int, rep HealthReport) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(rep)
}

// registerHealth serves /livez and /readyz on api's router, counted by obs.
func registerHealth(api huma.API, hl *Health, obs RequestObserver) {
	for path, serve := range map[string]func(huma.Context){
		LivezPath: func(ctx huma.Context) {
			writeHealthCtx(ctx, http.StatusOK, HealthReport{Status: "ok", Checks: map[string]string{}})
		},
		ReadyzPath: func(ctx huma.Context) {
			status, rep := hl.Ready(ctx.Context())
			writeHealthCtx(ctx, status, rep)
		},
	} {
		api.Adapter().Handle(&huma.Operation{Method: http.MethodGet, Path: path}, observed(obs, path, serve))
	}
}

func writeHealthCtx(ctx huma.Context, status int, rep HealthReport) {
	ctx.SetHeader("Content-Type", "application/json")
	ctx.SetHeader("Cache-Control", "no-store")
	ctx.SetStatus(status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(rep)
}
