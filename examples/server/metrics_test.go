package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

func TestMetricsAddrOption(t *testing.T) {
	o, err := parseOptions(nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "", o.metricsAddr, "off by default")
	ln, err := listenMetrics(o)
	require.NoError(t, err)
	assert.Nil(t, ln, "no listener when off")

	o, err = parseOptions(nil, envOf(map[string]string{"TAPIS_METRICS_ADDR": "127.0.0.1:0"}), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:0", o.metricsAddr, "TAPIS_METRICS_ADDR")
	ln, err = listenMetrics(o)
	require.NoError(t, err)
	require.NotNil(t, ln)
	require.NoError(t, ln.Close())

	o, err = parseOptions([]string{"-addr", "127.0.0.1:9000", "-metrics-addr", "127.0.0.1:9000"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	_, err = listenMetrics(o)
	assert.ErrorContains(t, err, "-metrics-addr must differ from -addr")
	o.metricsAddr = "no-port"
	_, err = listenMetrics(o)
	assert.ErrorContains(t, err, "-metrics-addr no-port")
}

// get answers status, headers and body of a GET.
func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, raw
}

// The process as deployed (deploy/kubernetes passes -metrics-addr): the
// probes on the API's listener, /metrics on its own, parsed as Prometheus
// parses it, with counts that move with the requests.
func TestServerServesProbesAndMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	mport := testenv.FreePort(t)
	metricsURL := fmt.Sprintf("http://127.0.0.1:%d/metrics", mport)
	p := startServer(t, bin, "-dev", "-data", t.TempDir(), "-metrics-addr", fmt.Sprintf("127.0.0.1:%d", mport))
	require.Eventually(t, func() bool { return strings.Contains(p.Stdout(), "Metrics on "+metricsURL+"\n") },
		10*time.Second, 10*time.Millisecond, "stdout so far:\n%s", p.Stdout())

	for path, want := range map[string]string{
		"/livez":  `{"status":"ok","checks":{}}`,
		"/readyz": `{"status":"ok","checks":{"database":"ok","kek":"ok"}}`,
	} {
		code, hdr, raw := get(t, p.base+path)
		assert.Equal(t, http.StatusOK, code, "%s: %s", path, raw)
		assert.JSONEq(t, want, string(raw), path)
		assert.Equal(t, "no-store", hdr.Get("Cache-Control"), path)
		assert.Equal(t, "application/json", hdr.Get("Content-Type"), path)
	}
	code, _, _ := get(t, p.base+"/metrics")
	assert.Equal(t, http.StatusNotFound, code, "metrics are not on the API's listener")
	code, _, _ = get(t, strings.TrimSuffix(metricsURL, "/metrics")+"/v3/sites")
	assert.Equal(t, http.StatusNotFound, code, "the API is not on the metrics listener")

	scrape := func() testenv.Metrics {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, metricsURL, nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "text/plain;version=0.0.4")
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		return testenv.ParseMetrics(t, resp.Body)
	}
	sites := map[string]string{"operation": "list_sites", "method": "GET", "status": "200"}
	failed := map[string]string{"door": "password", "outcome": "failure"}
	before := scrape()

	status, env := p.call(http.MethodGet, "/v3/sites", "", "", nil, nil)
	require.Equal(t, http.StatusOK, status, env.Message)
	body, err := json.Marshal(map[string]string{"grant_type": "password", "username": "testuser3", "password": "wrong"})
	require.NoError(t, err)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Post(p.base+"/v3/oauth2/tokens", "application/json", strings.NewReader(string(body)))
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "a wrong password")

	status, _ = p.mint("tokens", passwordOf(t, p.Stdout(), "tokens"))
	require.Equal(t, http.StatusCreated, status)

	after := scrape()
	assert.Equal(t, before.Get("tapis_http_requests_total", sites)+1, after.Get("tapis_http_requests_total", sites), "the GET is counted under its operation")
	assert.Equal(t, before.Get("tapis_login_attempts_total", failed)+1, after.Get("tapis_login_attempts_total", failed), "one wrong password, one failure")
	minted := map[string]string{"kind": "access", "account_type": "service", "grant": "tokens_api"}
	assert.Equal(t, before.Get("tapis_tokens_minted_total", minted)+1, after.Get("tapis_tokens_minted_total", minted), "one service token")
	lat, ok := after.Value("tapis_http_request_duration_seconds", map[string]string{"operation": "list_sites", "method": "GET"})
	assert.True(t, ok && lat >= 1, "the GET's latency is observed")

	// Every family an operator's dashboards name, with its labels.
	for name, labels := range map[string][]string{
		"tapis_http_requests_total":             {"method", "operation", "status"},
		"tapis_http_request_duration_seconds":   {"method", "operation"},
		"tapis_tokens_minted_total":             {"account_type", "grant", "kind"},
		"tapis_login_attempts_total":            {"door", "outcome"},
		"tapis_token_cache_lookups_total":       {"result"},
		"tapis_token_cache_invalidations_total": nil,
		"go_sql_open_connections":               {"db_name"}, // the database pool
		"go_sql_wait_count_total":               {"db_name"},
		"go_goroutines":                         nil, // the Go runtime
		"process_resident_memory_bytes":         nil, // the process
		"promhttp_metric_handler_errors_total":  {"cause"},
	} {
		require.Contains(t, after, name, "family %s is exposed", name)
		assert.Equal(t, labels, after.LabelNames(name), "labels of %s", name)
	}
	_, ok = after.Value("go_sql_max_open_connections", map[string]string{"db_name": "tapis"})
	assert.True(t, ok, "the pool of the server's database, by name")
	p.stop()
}
