package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/devseed"
	"github.com/tapis-go/tapis/httpapi"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// benchUser owns a quarter of the loaded systems and makes every
// authenticated call.
const benchUser = "testuser1"

// instance is the real server on one store, on a loopback listener.
type instance struct {
	backend string
	store   *bunstore.Store
	srv     *tapis.Server
	http    *http.Server
	base    string // http://127.0.0.1:PORT
	token   string // benchUser's access token
	cleanup []func()

	// Bulk loading: the columns and values of a system created through the
	// API, cloned with varied attributes.
	columns []string
	values  []any
	loaded  int
	rng     *rand.Rand
	owned   []string // ids of systems benchUser owns, in load order
}

// start opens the store (a fresh SQLite file, or a fresh schema of the
// PostgreSQL database of TAPIS_TEST_POSTGRES_DSN), seeds the -dev fixtures
// and serves tapis.Server.Handler on 127.0.0.1.
func start(ctx context.Context, backend, dir string) (*instance, error) {
	in := &instance{backend: backend, rng: rand.New(rand.NewPCG(16, 2026))}
	ok := false
	defer func() {
		if !ok {
			in.close()
		}
	}()
	var dsn string
	switch backend {
	case "sqlite":
		dsn = "sqlite:" + filepath.Join(dir, "tapis.db")
	case "postgres":
		var err error
		if dsn, err = pgSchema(ctx, in); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown backend %q (sqlite or postgres)", backend)
	}
	st, err := bunstore.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	in.store = st
	in.cleanup = append(in.cleanup, func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	in.base = "http://" + ln.Addr().String()
	srv, err := tapis.New(tapis.Config{Store: st, KEK: seal.NewKey(),
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err != nil {
		_ = ln.Close()
		return nil, err
	}
	in.srv = srv
	in.cleanup = append(in.cleanup, func() { _ = srv.Close() })
	if err := devseed.Apply(ctx, srv, devseed.Dev(ln.Addr().String(), map[string]string{})); err != nil {
		_ = ln.Close()
		return nil, err
	}
	in.http = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = in.http.Serve(ln) }()
	in.cleanup = append(in.cleanup, func() { _ = in.http.Close() })
	pair, err := srv.Tokens().Mint(ctx, oauth2.MintRequest{TenantID: "dev", Username: benchUser,
		AccountType: tenancy.AccountUser, AccessTTL: time.Hour})
	if err != nil {
		return nil, err
	}
	in.token = pair.Access.Raw
	if err := in.template(ctx); err != nil {
		return nil, fmt.Errorf("template system: %w", err)
	}
	ok = true
	return in, nil
}

// pgSchema creates a schema of its own in the database of
// TAPIS_TEST_POSTGRES_DSN (dropped by close) and returns the DSN using it.
func pgSchema(ctx context.Context, in *instance) (string, error) {
	dsn := os.Getenv("TAPIS_TEST_POSTGRES_DSN")
	if dsn == "" {
		return "", errors.New("TAPIS_TEST_POSTGRES_DSN not set: the postgres backend needs it")
	}
	admin, err := bunstore.Open(ctx, dsn)
	if err != nil {
		return "", err
	}
	schema := fmt.Sprintf("httpbench_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.DB().ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		return "", err
	}
	in.cleanup = append(in.cleanup, func() {
		_, _ = admin.DB().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		return "", errors.New("TAPIS_TEST_POSTGRES_DSN is not a URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// close stops the server and removes what start created, last first.
func (in *instance) close() {
	for i := len(in.cleanup) - 1; i >= 0; i-- {
		in.cleanup[i]()
	}
	in.cleanup = nil
}

// auth is the header set of benchUser's calls.
func (in *instance) auth() map[string]string {
	return map[string]string{httpapi.HeaderToken: in.token}
}

// templateSystem is the system every loaded one is cloned from: a LINUX
// host with a dynamic effectiveUserId, as most Tapis systems are.
var templateSystem = map[string]any{
	"id": "template", "description": "benchmark template", "systemType": "LINUX", "host": "node1.example.org",
	"defaultAuthnMethod": "PKI_KEYS", "effectiveUserId": "${apiUserId}", "rootDir": "/home/${apiUserId}",
	"canExec": false, "port": 22, "tags": []string{"gpu", "ml"}, "notes": map[string]any{"purpose": "benchmark"},
}

// template creates templateSystem through the API and keeps its stored row.
func (in *instance) template(ctx context.Context) error {
	body, _ := json.Marshal(templateSystem)
	h := in.auth()
	h["Content-Type"] = "application/json"
	status, _, b, err := fetch(ctx, in.base, request{method: http.MethodPost, path: "/v3/systems", body: body, headers: h})
	if err != nil {
		return err
	}
	if status != http.StatusCreated {
		return fmt.Errorf("POST /v3/systems: %d %s", status, b)
	}
	rows, err := in.store.DB().DB.QueryContext(ctx, "SELECT * FROM systems WHERE tenant = 'dev' AND id = 'template'")
	if err != nil {
		return err
	}
	defer rows.Close()
	if in.columns, err = rows.Columns(); err != nil {
		return err
	}
	if !rows.Next() {
		return errors.New("the template system is not in the systems table")
	}
	in.values = make([]any, len(in.columns))
	ptrs := make([]any, len(in.columns))
	for i := range in.values {
		ptrs[i] = &in.values[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return err
	}
	return rows.Err()
}

// The distribution of the loaded systems (see the README's benchmark
// section): benchUser owns a quarter, half are LINUX, three quarters are
// enabled, hosts are node0..node4.example.org, so the search
// (systemType.eq.LINUX)~(enabled.eq.true)~(host.like.node1*) matches about
// 1.9% of the tenant and fills a page of 100 already at 10k systems.
var (
	loadTypes = []string{"LINUX", "LINUX", "LINUX", "S3", "IRODS", "GLOBUS"}
	loadTags  = []string{`[]`, `["gpu"]`, `["gpu","ml"]`, `["storage"]`, `["ml"]`}
	loadPorts = []int64{22, 22, 2222, 443, 8080}
)

// loadSystems adds n systems to tenant dev, cloned from the template, in
// transactions of multi-row INSERTs.
func (in *instance) loadSystems(ctx context.Context, n int) error {
	db := in.store.DB().DB
	col := map[string]int{}
	for i, c := range in.columns {
		col[c] = i
	}
	for _, c := range []string{"id", "owner", "host", "system_type", "enabled", "port", "tags", "uuid", "description"} {
		if _, ok := col[c]; !ok {
			return fmt.Errorf("systems has no column %s", c)
		}
	}
	const batch = 400
	for done := 0; done < n; {
		size := min(batch, n-done)
		var sb strings.Builder
		args := make([]any, 0, size*len(in.columns))
		sb.WriteString("INSERT INTO systems (" + strings.Join(in.columns, ", ") + ") VALUES ")
		for r := range size {
			k := in.loaded + done + r
			vals := append([]any(nil), in.values...)
			id := fmt.Sprintf("sys-%06d", k)
			owner := fmt.Sprintf("user%02d", in.rng.IntN(30))
			if in.rng.IntN(4) == 0 {
				owner = benchUser
				in.owned = append(in.owned, id)
			}
			vals[col["id"]] = id
			vals[col["owner"]] = owner
			vals[col["host"]] = fmt.Sprintf("node%d.example.org", in.rng.IntN(5))
			vals[col["system_type"]] = loadTypes[in.rng.IntN(len(loadTypes))]
			vals[col["enabled"]] = in.rng.IntN(4) != 0
			vals[col["port"]] = loadPorts[in.rng.IntN(len(loadPorts))]
			vals[col["tags"]] = loadTags[in.rng.IntN(len(loadTags))]
			vals[col["uuid"]] = fmt.Sprintf("00000000-0000-4000-8000-%012d", k)
			vals[col["description"]] = "system " + id
			if r > 0 {
				sb.WriteString(", ")
			}
			sb.WriteByte('(')
			for j := range vals {
				if j > 0 {
					sb.WriteString(", ")
				}
				if in.backend == "postgres" {
					fmt.Fprintf(&sb, "$%d", len(args)+1)
				} else {
					sb.WriteByte('?')
				}
				args = append(args, vals[j])
			}
			sb.WriteByte(')')
		}
		if err := inTx(ctx, db, func(tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, sb.String(), args...)
			return err
		}); err != nil {
			return fmt.Errorf("load systems: %w", err)
		}
		done += size
	}
	in.loaded += n
	if in.backend == "postgres" {
		// What autovacuum does a little later: fresh statistics.
		_, err := db.ExecContext(ctx, "ANALYZE systems")
		return err
	}
	if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return err
	}
	// What the server's housekeeping does every ten minutes.
	return in.store.Optimize(ctx)
}

func inTx(ctx context.Context, db *sql.DB, fn func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// bare serves body with contentType for every request, on its own
// loopback listener: the baseline of the HTTP rows.
func bare(contentType string, body []byte) (base string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	hs := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		_, _ = w.Write(body)
	})}
	go func() { _ = hs.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = hs.Close() }, nil
}
