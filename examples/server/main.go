// Command server runs the Tapis core services (sites, tenants, tokens) as
// one stand-alone HTTP server, storing everything in SQLite (default) or
// PostgreSQL.
//
//	go run ./examples/server              # 127.0.0.1:8080, SQLite in ./tapis-data
//	go run ./examples/server -dev         # plus development fixtures, printed at start
//	go run ./examples/server -config seed.yaml
//	go run ./examples/server -db 'postgres://tapis:secret@localhost:5432/tapis?sslmode=disable'
//	go run ./examples/server -h           # every flag
//
// Every flag has an environment equivalent, TAPIS_ + the flag name in upper
// case with '-' as '_' (TAPIS_ADDR, TAPIS_DATA, TAPIS_DB, TAPIS_DEV,
// TAPIS_CONFIG, TAPIS_KEK_FILE, TAPIS_SITE, TAPIS_DEFAULT_TENANT,
// TAPIS_LOG_LEVEL, TAPIS_METRICS_ADDR, TAPIS_TRUSTED_PROXIES); a flag on the command line wins
// over its variable.
//
// The listener answers the probes GET /livez (the process serves) and
// /readyz (the database answers; 503 naming the failing check otherwise),
// outside the Tapis envelope. -metrics-addr (off by default) opens a
// second listener serving Prometheus metrics at /metrics: requests by
// operation and status with latencies, tokens minted, login failures and
// 429s, the token cache, host checks, the database pool, the Go runtime
// and the process.
//
// -site ID -primary URL runs the server as an associate site of the
// primary at URL (README "Sites"): its registry is a copy of the
// primary's, kept in its own database; registry writes and the services
// its site record does not list are forwarded to the primary.
//
// -globus-client-id (TAPIS_GLOBUS_CLIENT_ID), the id of a native app
// registered with Globus Auth, enables Globus credentials for GLOBUS
// systems; the -globus-*-url flags point at other Globus endpoints (tests).
//
// Users log in against their tenant's LDAP server when the tenant's record
// names a user_ldap_connection_id (the bind password of that LDAP object's
// bind_credential comes from TAPIS_LDAP_BIND_<NAME>), else against the
// built-in users (-dev users, the config file's accounts).
//
// The key-encryption key (KEK) sealing the tenants' signing keys is read
// from -kek-file (default <data>/kek, created 0600 with a random key when
// absent and the database holds nothing sealed yet) or, base64-encoded,
// from TAPIS_KEK. Back it up with the database. A KEK that does not open the
// database's sealed data (its KEK canary) refuses to start.
//
// Several instances may share one PostgreSQL database (give each the same
// KEK): they start one at a time (the first bootstraps, the others wait and
// find it done), one runs each round of housekeeping, and each drops what
// it caches of a change another made within a second.
//
// On an empty registry, started without -dev and -config, the server
// bootstraps the primary site "local", its admin tenant "admin" and the
// service account tenants@admin, and prints that account's random password
// once, with a curl command minting a first service token:
//
//	curl -s -u tenants:PASSWORD -H 'Content-Type: application/json' \
//	  -d '{"account_type":"service","token_tenant_id":"admin","token_username":"tenants","target_site_id":"local"}' \
//	  http://127.0.0.1:8080/v3/tokens
//
// -dev seeds the development fixtures instead (tenants admin and dev, users
// testuser1..testuser5 and testadmin with their name as password, and admin
// service accounts with passwords drawn anew at every start, all printed).
// Never use -dev for a real deployment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/adapters/ldapauth"
	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/oauth2"
)

func main() {
	os.Exit(realMain())
}

func realMain() int {
	err := run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, "tapis server:", err)
		return 1
	}
	return 0
}

// run starts the server and blocks until SIGINT or SIGTERM, then shuts down.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) (err error) {
	o, err := parseOptions(args, getenv, stderr)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: o.level}))
	slog.SetDefault(log)

	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()

	// Read everything that can be wrong before touching the database.
	var fileSeed *devseed.Seed
	if o.configFile != "" {
		seed, err := loadSeed(o.configFile)
		if err != nil {
			return fmt.Errorf("-config: %w", err)
		}
		fileSeed = &seed
	}
	// Take the port first: a port in use fails before a data directory,
	// a KEK or a database is created.
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return fmt.Errorf("-addr %s: %w", o.addr, err)
	}
	defer ln.Close() // after a start; Shutdown closed it already after serving
	tcp, _ := ln.Addr().(*net.TCPAddr)
	if tcp == nil {
		return fmt.Errorf("-addr %s: not a TCP address", o.addr)
	}
	shown := displayAddr(tcp)
	metricsLn, err := listenMetrics(o)
	if err != nil {
		return err
	}
	if metricsLn != nil {
		defer metricsLn.Close()
	}

	if o.dbDefaulted || o.kekFileDefaulted {
		if err := os.MkdirAll(o.data, 0o700); err != nil {
			return fmt.Errorf("data directory: %w", err)
		}
	}
	globus, err := globusClient(o.globus, o.allowPrivateHosts)
	if err != nil {
		return err
	}

	store, err := bunstore.Open(ctx, o.db)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, store.Close()) }()
	// The first start on an empty database (migrations, a new KEK, the KEK
	// canary, the bootstrap or -dev seed) runs alone: the other instances
	// starting on it wait here, then find it done.
	unlockStart, err := lockStart(ctx, store, log)
	if err != nil {
		return err
	}
	defer unlockStart() // once started, it is released before serving
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	log.Info("database ready", "db", redactDSN(o.db))
	kek, err := loadKEK(o, getenv, log, func() error { return refuseNewKEK(ctx, store, o) })
	if err != nil {
		return err
	}
	previousKEKs, err := loadPreviousKEKs(o, getenv)
	if err != nil {
		return err
	}
	if o.associate.primary != "" {
		err = associateDefaultTenant(ctx, store, o)
	} else {
		err = chooseDefaultTenant(ctx, store, o, fileSeed)
	}
	if err != nil {
		return err
	}

	var directory ldapauth.Registry = store
	late := &lateRegistry{}
	if o.associate.primary != "" {
		directory = late // the tenants and LDAP objects are in the mirror
	}
	ldap, err := ldapAuthenticator(directory, getenv)
	if err != nil {
		return err
	}
	verifier, evaluator := hostChecks(store, o.allowPrivateHosts)
	var reg *prometheus.Registry
	var metricsReg prometheus.Registerer // nil (off) unless -metrics-addr
	if metricsLn != nil {
		if reg, err = newRegistry(store.DB().DB); err != nil {
			return err
		}
		metricsReg = reg
	}
	srv, err := tapis.New(tapis.Config{
		// Every part in the database, the limiter's counters included: every
		// process on it counts the same failures.
		Store:          store,
		KEK:            kek,
		PreviousKEKs:   previousKEKs,
		SiteID:         o.site,
		Primary:        o.associate.config(),
		DefaultTenant:  o.defaultTenant,
		Authenticators: []oauth2.Authenticator{ldap}, // then the built-in users
		HostVerifier:   verifier,
		HostEvaluator:  evaluator,
		Globus:         globus,
		TrustedProxies: o.trustedProxies,
		Metrics:        metricsReg,
		Logger:         log,
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, srv.Close()) }()
	if err := srv.CheckKEK(ctx); err != nil {
		return err
	}
	if len(previousKEKs) > 0 {
		// Still under the start lock: one instance at a time re-seals.
		n, err := srv.RewrapSecrets(ctx)
		if err != nil {
			return fmt.Errorf("re-seal with the KEK what the previous KEKs sealed: %w", err)
		}
		log.Info("re-sealed with the KEK what previous KEKs sealed; drop -previous-kek-files once every instance runs with this KEK",
			"values", n)
	}
	late.svc = srv.Tenancy()
	handler := srv.Handler()

	if o.associate.primary != "" {
		syncAssociate(ctx, srv, o.data, stdout, log)
	}
	if err := seedRegistry(ctx, srv, o, fileSeed, fmt.Sprintf("localhost:%d", tcp.Port), shown, stdout, log); err != nil {
		return err
	}
	unlockStart()

	hs := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Printed before serving (the port is bound already), so whoever sees a
	// first answer has seen these lines.
	fmt.Fprintf(stdout, "Tapis listening on http://%s\n", shown)
	fmt.Fprintf(stdout, "Requests whose Host names no tenant's base URL act for tenant %q (-default-tenant).\n", o.defaultTenant)
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	log.Info("listening", "addr", ln.Addr().String(), "site", o.site, "default_tenant", o.defaultTenant)
	var ms *http.Server
	metricsServed := make(chan error, 1)
	if metricsLn != nil {
		ms = metricsServer(reg, log)
		fmt.Fprintf(stdout, "Metrics on http://%s%s\n", metricsLn.Addr(), metricsPath)
		go func() { metricsServed <- ms.Serve(metricsLn) }()
		log.Info("serving metrics", "addr", metricsLn.Addr().String(), "path", metricsPath)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case err := <-metricsServed:
		_ = hs.Close()
		return fmt.Errorf("serve metrics: %w", err)
	case <-ctx.Done():
	}
	stopSignals() // a second signal ends the process at once
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		log.Warn("graceful shutdown incomplete; closing open connections", "err", err)
	}
	_ = hs.Close()
	if ms != nil {
		_ = ms.Close() // a scrape in progress is lost; the next one goes to another instance
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// displayAddr is the listen address as a client would use it: an
// unspecified host (0.0.0.0, ::) becomes localhost.
func displayAddr(a *net.TCPAddr) string {
	if a.IP == nil || a.IP.IsUnspecified() {
		return fmt.Sprintf("localhost:%d", a.Port)
	}
	return a.String()
}

// redactDSN hides the password of a PostgreSQL DSN for logging.
func redactDSN(dsn string) string {
	if strings.HasPrefix(dsn, "sqlite:") || strings.HasPrefix(dsn, "file:") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable DSN)"
	}
	return u.Redacted()
}
