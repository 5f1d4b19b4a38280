package metrics_test

import (
	"encoding/base64"
	"net"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/adapters/sshcheck"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/metrics"
)

// The families and their label names: what dashboards and alerts name.
var families = map[string][]string{
	"tapis_http_requests_total":             {"method", "operation", "status"},
	"tapis_http_request_duration_seconds":   {"method", "operation"},
	"tapis_tokens_minted_total":             {"account_type", "grant", "kind"},
	"tapis_login_attempts_total":            {"door", "outcome"},
	"tapis_token_cache_lookups_total":       {"result"},
	"tapis_token_cache_invalidations_total": nil,
	"tapis_host_checks_total":               {"outcome", "system_type"},
}

func basic(user, pw string) map[string]string {
	return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}
}

// closedPort is a loopback port nothing listens on (connect is refused).
func closedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

type lbl = map[string]string

// A Server with a registry counts what an operator watches: each action
// below moves its own series by exactly one, scraped and parsed as a
// Prometheus server would.
func TestServerCountsWhatAnOperatorWatches(t *testing.T) {
	reg := prometheus.NewRegistry()
	st := memory.New()
	frozen := time.Now()
	env := testenv.NewWithStore(t, st, st, func(c *tapis.Config) {
		c.Metrics = reg
		c.MaxLoginFailures = 1 // the second wrong password of an account waits
		c.Now = func() time.Time { return frozen }
		ssh := sshcheck.New(st, hostcheck.Policy{AllowPrivate: true})
		c.HostVerifier = hostcheck.Mux{"LINUX": ssh}
	})
	scrape := func() testenv.Metrics {
		return testenv.ScrapeHandler(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	// step runs act and asserts that exactly the given series moved by one.
	step := func(name string, act func(), moved map[string][]lbl) {
		t.Helper()
		before := scrape()
		act()
		after := scrape()
		for fam, series := range moved {
			for _, s := range series {
				assert.Equal(t, before.Get(fam, s)+1, after.Get(fam, s), "%s: %s%v moves by one", name, fam, s)
			}
		}
	}

	step("a GET of an operation", func() {
		r := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/sites"})
		require.Equal(t, 200, r.Code)
	}, map[string][]lbl{
		"tapis_http_requests_total":           {{"operation": "list_sites", "method": "GET", "status": "200"}},
		"tapis_http_request_duration_seconds": {{"operation": "list_sites", "method": "GET"}},
	})
	step("an unknown path and an unknown method", func() {
		require.Equal(t, 404, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/nothing-here"}).Code)
		require.Equal(t, 405, env.Do(t, testenv.Request{Method: "BREW", Path: "/v3/sites"}).Code)
	}, map[string][]lbl{
		"tapis_http_requests_total": {
			{"operation": "unmatched", "method": "GET", "status": "404"},
			{"operation": "unmatched", "method": "OTHER", "status": "405"}, // no series per invented method
		},
	})
	step("a handler that is no operation and the probes", func() {
		r := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/oauth2/jwks"})
		require.Equal(t, 200, r.Code, "%s", r.Raw)
		require.Equal(t, 200, env.Do(t, testenv.Request{Method: "GET", Path: "/readyz"}).Code)
	}, map[string][]lbl{
		"tapis_http_requests_total": {
			{"operation": "/v3/oauth2/jwks", "method": "GET", "status": "200"},
			{"operation": "/readyz", "method": "GET", "status": "200"},
		},
	})
	step("a good password", func() {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens",
			Body: map[string]any{"grant_type": "password", "username": "testuser2", "password": "testuser2"}})
		require.Equal(t, 201, r.Code, "%s", r.Raw)
	}, map[string][]lbl{
		"tapis_login_attempts_total": {{"door": "password", "outcome": "success"}},
		"tapis_tokens_minted_total":  {{"kind": "access", "account_type": "user", "grant": "password"}},
		"tapis_http_requests_total":  {{"operation": "authenticator_create_token", "method": "POST", "status": "201"}},
	})
	wrong := testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens",
		Body: map[string]any{"grant_type": "password", "username": "testuser3", "password": "wrong"}}
	step("a wrong password", func() {
		require.Equal(t, 400, env.Do(t, wrong).Code)
	}, map[string][]lbl{"tapis_login_attempts_total": {{"door": "password", "outcome": "failure"}}})
	step("a second wrong password must wait", func() {
		require.Equal(t, 429, env.Do(t, wrong).Code)
	}, map[string][]lbl{
		"tapis_login_attempts_total": {{"door": "password", "outcome": "limited"}},
		"tapis_http_requests_total":  {{"operation": "authenticator_create_token", "method": "POST", "status": "429"}},
	})
	svc := testenv.Request{Method: "POST", Path: "/v3/tokens",
		Body: map[string]any{"account_type": "service", "token_tenant_id": "admin", "token_username": "tokens", "target_site_id": "local"}}
	step("a service's password", func() {
		r := svc
		r.Headers = basic("tokens", testenv.ServicePassword)
		require.Equal(t, 201, env.Do(t, r).Code)
	}, map[string][]lbl{
		"tapis_login_attempts_total": {{"door": "service_password", "outcome": "success"}},
		"tapis_tokens_minted_total":  {{"kind": "access", "account_type": "service", "grant": "tokens_api"}},
	})
	step("a service's wrong password", func() {
		r := svc
		r.Headers = basic("tokens", "wrong")
		require.Equal(t, 401, env.Do(t, r).Code)
	}, map[string][]lbl{"tapis_login_attempts_total": {{"door": "service_password", "outcome": "failure"}}})
	step("a wrong client secret", func() {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic("no-such-client", "key"),
			Body: map[string]any{"grant_type": "password", "username": "testuser4", "password": "testuser4"}})
		require.Equal(t, 400, r.Code, "%s", r.Raw)
	}, map[string][]lbl{"tapis_login_attempts_total": {{"door": "client_secret", "outcome": "failure"}}})
	step("device codes past the address's allowance", func() {
		codes := 0
		for range 6 { // 5 * MaxLoginFailures free
			if env.Do(t, testenv.Request{Method: "POST", Path: "/v3/oauth2/device/code", Body: map[string]any{"client_id": "no-such-client"}}).Code == 429 {
				codes++
			}
		}
		require.Equal(t, 1, codes, "the sixth request waits")
	}, map[string][]lbl{"tapis_login_attempts_total": {{"door": "device_code", "outcome": "limited"}}})

	tok := env.UserToken(t, "dev", "testuser1")
	get := testenv.Request{Method: "GET", Path: "/v3/systems", Headers: map[string]string{"X-Tapis-Token": tok}}
	step("a token seen for the first time", func() {
		require.Equal(t, 200, env.Do(t, get).Code)
	}, map[string][]lbl{"tapis_token_cache_lookups_total": {{"result": "miss"}},
		"tapis_http_requests_total": {{"operation": "getSystems", "method": "GET", "status": "200"}}})
	step("the same token again", func() {
		require.Equal(t, 200, env.Do(t, get).Code)
	}, map[string][]lbl{"tapis_token_cache_lookups_total": {{"result": "hit"}}})
	step("a revocation", func() {
		require.Equal(t, 200, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tokens/revoke", Body: map[string]any{"token": tok}}).Code)
	}, map[string][]lbl{"tapis_token_cache_invalidations_total": {{}}})
	assert.Equal(t, 401, env.Do(t, get).Code, "the revoked token is refused, not served from the cache")

	step("a credential checked against a host that does not answer", func() {
		r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/systems", Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")},
			Body: map[string]any{"id": "unreachable1", "systemType": "LINUX", "host": "127.0.0.1", "port": closedPort(t),
				"defaultAuthnMethod": "PASSWORD", "canExec": false, "rootDir": "/tmp", "effectiveUserId": "someone", "authnCredential": map[string]any{"password": "pw"}}})
		require.Equal(t, 400, r.Code, "%s", r.Raw)
		assert.Contains(t, string(r.Raw), "SYSAPI_CRED_VALID_FAIL", "refused by the check")
	}, map[string][]lbl{"tapis_host_checks_total": {{"system_type": "LINUX", "outcome": "unreachable"}}})

	m := scrape()
	for name, labels := range families {
		require.Contains(t, m, name, "family %s is exposed", name)
		assert.Equal(t, labels, m.LabelNames(name), "labels of %s", name)
	}
	assert.Equal(t, "HISTOGRAM", m["tapis_http_request_duration_seconds"].GetType().String())
	for _, s := range m["tapis_http_requests_total"].GetMetric() {
		for _, l := range s.GetLabel() {
			assert.NotContains(t, l.GetValue(), "testuser", "no account name in a label")
			assert.NotContains(t, l.GetValue(), "unreachable1", "no system id in a label")
		}
	}
}

// Without Config.Metrics nothing is counted anywhere: the global registry
// stays free of our families (a library must not register there).
func TestNoRegistererNoMetrics(t *testing.T) {
	env := testenv.New(t)
	require.Equal(t, 200, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/sites"}).Code)
	fams, err := prometheus.DefaultGatherer.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		assert.NotContains(t, f.GetName(), "tapis_", "nothing registered globally")
	}
}

// Two Servers on one registry would report each other's counts: the
// second is refused with an error naming the setting.
func TestOneRegistryPerServer(t *testing.T) {
	reg := prometheus.NewRegistry()
	testenv.New(t, func(c *tapis.Config) { c.Metrics = reg })
	st := memory.New()
	_, err := tapis.New(tapis.Config{Store: st, KEK: make([]byte, 32), Metrics: reg})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Config.Metrics")
	// Told apart by a prefix, they can share it.
	srv, err := tapis.New(tapis.Config{Store: st, KEK: make([]byte, 32),
		Metrics: prometheus.WrapRegistererWithPrefix("second_", reg)})
	require.NoError(t, err)
	fams, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, f := range fams {
		names[f.GetName()] = true
	}
	assert.True(t, names["tapis_login_attempts_total"] && names["second_tapis_login_attempts_total"], "%v", names)
	require.NoError(t, srv.Close())
	fams, err = reg.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		assert.NotContains(t, f.GetName(), "second_", "a closed Server's families are gone")
	}

	// A closed Server leaves the registry to the next one.
	own := prometheus.NewRegistry()
	first, err := tapis.New(tapis.Config{Store: st, KEK: make([]byte, 32), Metrics: own})
	require.NoError(t, err)
	require.NoError(t, first.Close())
	next, err := tapis.New(tapis.Config{Store: st, KEK: make([]byte, 32), Metrics: own})
	require.NoError(t, err, "the closed Server unregistered its families")
	require.NoError(t, next.Close())
}

// A client's invented method or a status outside the usual set never adds
// unbounded series; a verifier left out stays out.
func TestLabelsAreBounded(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := metrics.New()
	require.NoError(t, m.Register(reg))
	for _, method := range []string{"BREW", "PROPFIND", "get", "X-ANYTHING"} {
		m.ObserveRequest("unmatched", method, 405, time.Millisecond)
	}
	m.ObserveRequest("list_sites", "GET", 503, time.Millisecond)
	got := testenv.ScrapeHandler(t, promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	assert.Equal(t, 4.0, got.Get("tapis_http_requests_total", lbl{"operation": "unmatched", "method": "OTHER", "status": "405"}))
	assert.Len(t, got["tapis_http_requests_total"].GetMetric(), 2)
	assert.Equal(t, 1.0, got.Get("tapis_http_requests_total", lbl{"operation": "list_sites", "method": "GET", "status": "503"}))
	assert.Nil(t, m.Verifier(nil), "no checks configured: still none (Systems answers 501)")

	assert.Error(t, metrics.New().Register(nil))
	assert.Error(t, m.Register(reg), "registered already")
}

// The overhead of the request middleware, beside the same GET without
// metrics in the same run (b.Run "bare" is the baseline).
func BenchmarkRequestMetrics(b *testing.B) {
	for _, tc := range []struct {
		name string
		opt  func(*tapis.Config)
	}{
		{"bare", func(*tapis.Config) {}},
		{"metrics", func(c *tapis.Config) { c.Metrics = prometheus.NewRegistry() }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			// Each its own Server, gone before the next starts (b.Loop
			// runs this function once): neither measures the other's heap.
			env := testenv.New(b, tc.opt)
			req := testenv.Request{Method: "GET", Path: "/v3/sites"}
			runtime.GC()
			for b.Loop() {
				if env.Do(b, req).Code != http.StatusOK {
					b.Fatal("GET /v3/sites failed")
				}
			}
		})
	}
}

// What the middleware adds to a request, alone: one ObserveRequest (a
// counter and a histogram, each found by its labels).
func BenchmarkObserveRequest(b *testing.B) {
	m := metrics.New()
	for b.Loop() {
		m.ObserveRequest("getSystem", "GET", 200, 3*time.Millisecond)
	}
}
