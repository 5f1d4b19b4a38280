package testenv

import (
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// Metrics are the families of one scrape in the Prometheus text format,
// by name, as a Prometheus server parses them (expfmt).
type Metrics map[string]*dto.MetricFamily

// ParseMetrics parses a scrape; a malformed exposition fails the test.
func ParseMetrics(t testing.TB, r io.Reader) Metrics {
	t.Helper()
	p := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := p.TextToMetricFamilies(r)
	require.NoError(t, err, "the exposition parses")
	return fams
}

// ScrapeHandler GETs /metrics from h (promhttp's handler) as a Prometheus
// server without protobuf would, and parses the answer.
func ScrapeHandler(t testing.TB, h http.Handler) Metrics {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, "%s", rec.Body)
	return ParseMetrics(t, rec.Body)
}

// Value is the sample of family name whose labels are exactly labels: a
// counter's or gauge's value, a histogram's count. ok is false when the
// family or the sample is absent.
func (m Metrics) Value(name string, labels map[string]string) (v float64, ok bool) {
	f := m[name]
	if f == nil {
		return 0, false
	}
	for _, s := range f.GetMetric() {
		got := map[string]string{}
		for _, l := range s.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if !maps.Equal(got, labels) {
			continue
		}
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			return s.GetCounter().GetValue(), true
		case dto.MetricType_GAUGE:
			return s.GetGauge().GetValue(), true
		case dto.MetricType_HISTOGRAM:
			return float64(s.GetHistogram().GetSampleCount()), true
		default:
			return s.GetUntyped().GetValue(), true
		}
	}
	return 0, false
}

// Get is Value that reads an absent sample as zero (a counter not yet
// incremented).
func (m Metrics) Get(name string, labels map[string]string) float64 {
	v, _ := m.Value(name, labels)
	return v
}

// LabelNames are the sorted label names of family name's samples (each
// name once); nil when the family is absent.
func (m Metrics) LabelNames(name string) []string {
	f := m[name]
	if f == nil {
		return nil
	}
	seen := map[string]bool{}
	for _, s := range f.GetMetric() {
		for _, l := range s.GetLabel() {
			seen[l.GetName()] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}
