package main

import (
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsPath is where the metrics listener serves the registry.
const metricsPath = "/metrics"

// newRegistry is the server's own registry (never Prometheus' global one):
// the Go runtime, this process, and the database pool of db; tapis.New
// adds the server's families to it.
func newRegistry(db *sql.DB) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	var errs []error
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "tapis"),
	} {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return reg, nil
}

// metricsServer serves reg at /metrics only, on its own listener (so that
// the API's port never exposes it), with the same timeouts as the API.
func metricsServer(reg *prometheus.Registry, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET "+metricsPath, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:            reg, // counts its own errors
		ErrorLog:            slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		Timeout:             10 * time.Second,
		MaxRequestsInFlight: 4,
	}))
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// listenMetrics binds -metrics-addr, or returns nil when it is off.
func listenMetrics(o *options) (net.Listener, error) {
	if o.metricsAddr == "" {
		return nil, nil
	}
	if o.metricsAddr == o.addr && !strings.HasSuffix(o.addr, ":0") {
		return nil, errors.New("-metrics-addr must differ from -addr: metrics have their own listener")
	}
	ln, err := net.Listen("tcp", o.metricsAddr)
	if err != nil {
		return nil, fmt.Errorf("-metrics-addr %s: %w", o.metricsAddr, err)
	}
	return ln, nil
}
