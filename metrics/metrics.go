// Package metrics keeps, in Prometheus form, what an operator of Tapis
// watches: requests by operation and status with their latency, tokens
// minted, attempts at secrets and the limits' refusals, the verified-token
// cache, and host checks. It is the one place that imports the Prometheus
// client: the domain packages report through small hooks defined where
// they are used (oauth2.MintObserver, oauth2.CacheObserver,
// oauth2.AttemptObserver, httpapi.RequestObserver), which a *Metrics
// implements, and host checks are counted by wrapping the Verifier.
//
// tapis.Config.Metrics turns it on; the process-wide collectors (Go
// runtime, process, database pool) belong to the program, which knows its
// registry and its *sql.DB (examples/server registers them).
package metrics

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Namespace prefixes every family's name.
const Namespace = "tapis"

// latencyBuckets are the request latency histogram's upper bounds in
// seconds: from a cached token check (about a millisecond) over a bcrypt
// (tens of milliseconds) to a host check's deadline (30s).
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}

// Metrics holds the families. Its methods are safe for concurrent use.
type Metrics struct {
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	minted        *prometheus.CounterVec
	attempts      *prometheus.CounterVec
	cacheLookups  *prometheus.CounterVec
	cacheHit      prometheus.Counter // the two lookups, resolved once: they run on every token check
	cacheMiss     prometheus.Counter
	invalidations prometheus.Counter
	hostChecks    *prometheus.CounterVec
}

var (
	_ oauth2.MintObserver    = (*Metrics)(nil)
	_ oauth2.CacheObserver   = (*Metrics)(nil)
	_ oauth2.AttemptObserver = (*Metrics)(nil)
)

// New makes the families, every count at zero; Register exposes them.
func New() *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by operation (operationId, or the route of a handler that is no operation, or \"unmatched\"), method and status."},
			[]string{"operation", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help: "Time to answer an HTTP request, by operation and method.", Buckets: latencyBuckets},
			[]string{"operation", "method"}),
		minted: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "tokens_minted_total",
			Help: "Tokens signed, by kind (access, refresh), account type (user, service) and grant (the OAuth2 grant type, tokens_api for POST /v3/tokens, refresh_token for refreshes)."},
			[]string{"kind", "account_type", "grant"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "login_attempts_total",
			Help: "Attempts at a secret, by door (password, service_password, client_secret, device_code) and outcome (success, failure, limited: refused with 429, error: not checked)."},
			[]string{"door", "outcome"}),
		cacheLookups: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "token_cache_lookups_total",
			Help: "Lookups in the verified-token cache, by result (hit, miss)."}, []string{"result"}),
		invalidations: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Name: "token_cache_invalidations_total",
			Help: "Times the verified-token cache was emptied (revocations, tenant changes)."}),
		hostChecks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Name: "host_checks_total",
			Help: "Credential checks against hosts, by system type and outcome (ok, bad_credential, host_key_mismatch, unreachable, timeout, rootdir_missing, forbidden_address, unsupported, error)."},
			[]string{"system_type", "outcome"}),
	}
	// The series an operator alerts on exist from the start, at zero.
	m.cacheHit = m.cacheLookups.WithLabelValues(string(oauth2.CacheHit))
	m.cacheMiss = m.cacheLookups.WithLabelValues(string(oauth2.CacheMiss))
	for _, door := range []oauth2.Entry{oauth2.EntryPassword, oauth2.EntryServicePassword, oauth2.EntryClientSecret} {
		for _, out := range []oauth2.AttemptOutcome{oauth2.AttemptSuccess, oauth2.AttemptFailure, oauth2.AttemptLimited, oauth2.AttemptError} {
			m.attempts.WithLabelValues(string(door), string(out))
		}
	}
	m.attempts.WithLabelValues(string(oauth2.EntryDeviceCode), string(oauth2.AttemptLimited))
	return m
}

// Register registers every family with reg, or none: its error names each
// family reg refuses. A registry holds one Server's families; two Servers
// share one only through prometheus.WrapRegistererWithPrefix.
func (m *Metrics) Register(reg prometheus.Registerer) error {
	if reg == nil {
		return errors.New("metrics: no Registerer")
	}
	var errs []error
	var done []prometheus.Collector
	for _, c := range m.collectors() {
		if err := reg.Register(c); err != nil {
			errs = append(errs, fmt.Errorf("metrics: %w", err))
			continue
		}
		done = append(done, c)
	}
	if err := errors.Join(errs...); err != nil {
		for _, c := range done {
			reg.Unregister(c)
		}
		return err
	}
	return nil
}

// Unregister removes every family from reg (a closed Server's, so that
// a new one may take the registry).
func (m *Metrics) Unregister(reg prometheus.Registerer) {
	for _, c := range m.collectors() {
		reg.Unregister(c)
	}
}

func (m *Metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.requests, m.latency, m.minted, m.attempts, m.cacheLookups, m.invalidations, m.hostChecks}
}

// ObserveRequest implements httpapi.RequestObserver. A method outside the
// standard ones is counted as OTHER, so clients cannot add series.
func (m *Metrics) ObserveRequest(operation, method string, status int, elapsed time.Duration) {
	method = knownMethod(method)
	m.requests.WithLabelValues(operation, method, statusLabel(status)).Inc()
	m.latency.WithLabelValues(operation, method).Observe(elapsed.Seconds())
}

// TokenMinted implements oauth2.MintObserver.
func (m *Metrics) TokenMinted(t oauth2.MintedToken) {
	account := string(t.AccountType)
	if t.AccountType != tenancy.AccountUser && t.AccountType != tenancy.AccountService {
		account = "other"
	}
	m.minted.WithLabelValues(t.Kind, account, t.Grant).Inc()
}

// TokenCacheEvent implements oauth2.CacheObserver.
func (m *Metrics) TokenCacheEvent(e oauth2.CacheEvent) {
	switch e {
	case oauth2.CacheHit:
		m.cacheHit.Inc()
	case oauth2.CacheMiss:
		m.cacheMiss.Inc()
	case oauth2.CacheInvalidation:
		m.invalidations.Inc()
	}
}

// AttemptEnded implements oauth2.AttemptObserver.
func (m *Metrics) AttemptEnded(door oauth2.Entry, out oauth2.AttemptOutcome) {
	m.attempts.WithLabelValues(string(door), string(out)).Inc()
}

// Verifier returns v counting each check by system type and outcome
// (hostcheck.Outcome); nil stays nil (no checks configured).
func (m *Metrics) Verifier(v hostcheck.Verifier) hostcheck.Verifier {
	if v == nil {
		return nil
	}
	return countedVerifier{next: v, checks: m.hostChecks}
}

type countedVerifier struct {
	next   hostcheck.Verifier
	checks *prometheus.CounterVec
}

// Verify implements hostcheck.Verifier.
func (c countedVerifier) Verify(ctx context.Context, t hostcheck.Target, cred credentials.Credential) error {
	err := c.next.Verify(ctx, t, cred)
	c.checks.WithLabelValues(systemType(t.SystemType), hostcheck.Outcome(err)).Inc()
	return err
}

// systemType bounds the label to names a system type can have (the
// Systems service validates the type before any check).
func systemType(s string) string {
	if s == "" || len(s) > 32 {
		return "other"
	}
	return s
}

func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// statusLabel avoids strconv for the usual statuses.
func statusLabel(s int) string {
	switch s {
	case http.StatusOK:
		return "200"
	case http.StatusCreated:
		return "201"
	case http.StatusBadRequest:
		return "400"
	case http.StatusUnauthorized:
		return "401"
	case http.StatusForbidden:
		return "403"
	case http.StatusNotFound:
		return "404"
	}
	return strconv.Itoa(s)
}
