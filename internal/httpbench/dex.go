package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Dex is not served by the Go module proxy at a current version (only
// v2.13.0+incompatible, from 2018), so the comparison runs only when a
// Dex binary is given (-dex or TAPIS_BENCH_DEX); scripts/test passes it
// when the variable is set.

const (
	dexUser     = "grantbench" // + the client's number: Dex keeps one refresh token per user and client
	dexDomain   = "@example.org"
	dexConns    = 4
	dexPassword = "grant-bench-password"
	dexClient   = "bench-client"
	dexSecret   = "bench-client-secret-0123456789"
)

// measureDex runs the password grant and the refresh grant, over HTTP with
// the same wire (form body, client secret in HTTP Basic, scope openid) at
// our RFC 6749 endpoint and at a Dex process, both on PostgreSQL (Dex's
// memory and SQLite storages deadlock on a refresh in the Dex tree
// measured, ab64ed77: the rotation reads the offline session inside its
// own transaction; static passwords at the same bcrypt cost, a static
// client), in alternation. Both
// answer a signed access token and a refresh token (ours a signed JWT, Dex's
// an opaque stored value); Dex adds a signed id_token, ours does so on the
// code flow only.
func measureDex(ctx context.Context, o options, t *table, dexBin string) error {
	dir, err := os.MkdirTemp("", "httpbench-dex-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	in, err := start(ctx, "postgres", dir)
	if err != nil {
		return err
	}
	defer in.close()
	db, schema, dropDB, err := dexDatabase(ctx)
	if err != nil {
		return fmt.Errorf("dex database: %w", err)
	}
	defer dropDB()
	for w := range dexConns {
		if err := in.srv.Tokens().Accounts.Set(ctx, "dev", dexUser+strconv.Itoa(w), tenancy.AccountUser, dexPassword); err != nil {
			return err
		}
	}
	owner := tenancy.Principal{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser,
		TokenTenantID: "dev", TokenUsername: "testuser1"}
	if _, _, err := in.srv.OAuth2().CreateClient(ctx, owner, oauth2.NewClient{ClientID: dexClient, ClientKey: dexSecret,
		CallbackURL: "http://127.0.0.1/cb"}); err != nil {
		return err
	}
	dex, stop, err := startDex(ctx, dexBin, dir, db, schema)
	if err != nil {
		return fmt.Errorf("dex: %w", err)
	}
	defer stop()

	ours := grantTarget{token: in.base + "/v3/oauth2/token", scope: "openid"}
	theirs := grantTarget{token: dex + "/token", domain: dexDomain, scope: "openid offline_access"}
	const conns = dexConns
	d := max(o.duration, 2*time.Second)
	sub, base, err := paired(ctx, func(d time.Duration) (result, error) { return ours.run(ctx, conns, d, false) },
		func(d time.Duration) (result, error) { return theirs.run(ctx, conns, d, false) }, d, o.rounds)
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("password grant over HTTP (RFC endpoint, client secret, openid), bcrypt cost %d, c=%d", bcrypt.DefaultCost, conns),
		fmt.Sprintf("%.1f grants/s", sub.rps()), fmt.Sprintf("Dex: %.1f/s", base.rps()),
		fmt.Sprintf("%.2fx", sub.rps()/base.rps()), "≥ 1.0x Dex")
	sub, base, err = paired(ctx, func(d time.Duration) (result, error) { return ours.run(ctx, conns, d, true) },
		func(d time.Duration) (result, error) { return theirs.run(ctx, conns, d, true) }, d, o.rounds)
	if err != nil {
		return err
	}
	t.add(fmt.Sprintf("refresh grant over HTTP (rotating refresh tokens), c=%d", conns),
		fmt.Sprintf("%.1f grants/s", sub.rps()), fmt.Sprintf("Dex: %.1f/s", base.rps()),
		fmt.Sprintf("%.2fx", sub.rps()/base.rps()), "keep (2.8x Dex before)")
	return nil
}

// grantTarget is one token endpoint and how its user is named there.
type grantTarget struct {
	token, domain, scope string
}

// run is a closed loop of conns clients for d: password grants, or (with
// refresh) refresh grants, each client presenting the refresh token its
// previous answer gave (both servers rotate them). Client w signs in as
// user w. The first password grant of each client is not counted.
func (g grantTarget) run(ctx context.Context, conns int, d time.Duration, refresh bool) (result, error) {
	c := client(conns)
	defer c.CloseIdleConnections()
	password := func(w int) url.Values {
		return url.Values{"grant_type": {"password"}, "username": {dexUser + strconv.Itoa(w) + g.domain},
			"password": {dexPassword}, "scope": {g.scope}}
	}
	tokens := make([]string, conns)
	for w := range conns {
		rt, err := g.grant(ctx, c, password(w))
		if err != nil {
			return result{}, err
		}
		tokens[w] = rt
	}
	var (
		count atomic.Int64
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				form := password(w)
				if refresh {
					form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tokens[w]}}
				}
				rt, err := g.grant(ctx, c, form)
				if err != nil {
					mu.Lock()
					first = cmp.Or(first, err)
					mu.Unlock()
					return
				}
				tokens[w] = rt
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	if first != nil {
		return result{}, first
	}
	return result{n: count.Load(), elapsed: time.Since(start)}, nil
}

// grant posts one token request and returns the refresh token answered; an
// answer without an access or a refresh token is an error.
func (g grantTarget) grant(ctx context.Context, c *http.Client, form url.Values) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.token, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(dexClient, dexSecret)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	var tok struct {
		Access  string `json:"access_token"`
		Refresh string `json:"refresh_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &tok) != nil || tok.Access == "" || tok.Refresh == "" {
		return "", fmt.Errorf("%s %s: status %d: %.300s", form.Get("grant_type"), g.token, resp.StatusCode, body)
	}
	return tok.Refresh, nil
}

// startDex runs bin serve with PostgreSQL storage in schema of db, the static passwords of
// the dexConns users at bcrypt.DefaultCost and the static client, on a free loopback
// port, and returns its issuer once its discovery answers.
func startDex(ctx context.Context, bin, dir string, db *url.URL, schema string) (issuer string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	hash, err := bcrypt.GenerateFromPassword([]byte(dexPassword), bcrypt.DefaultCost)
	if err != nil {
		return "", nil, err
	}
	issuer = "http://" + addr + "/dex"
	config := fmt.Sprintf(`issuer: %s
storage:
  type: postgres
  config:
    host: %s
    port: %s
    database: %s
    user: %s
    password: %q
    ssl:
      mode: disable
web:
  http: %s
logger:
  level: error
oauth2:
  skipApprovalScreen: true
  passwordConnector: local
enablePasswordDB: true
staticClients:
  - id: %s
    secret: %s
    name: bench
    redirectURIs: ["http://127.0.0.1/cb"]
staticPasswords:
`, issuer, db.Hostname(), db.Port(), strings.TrimPrefix(db.Path, "/"), db.User.Username(), dbPassword(db), addr, dexClient, dexSecret)
	for w := range dexConns {
		config += fmt.Sprintf("  - email: %q\n    hash: %q\n    username: %s\n    userID: \"0d6f6c2a-6a43-4c52-9a3c-0c7e7b7f1d1%d\"\n",
			dexUser+strconv.Itoa(w)+dexDomain, hash, dexUser+strconv.Itoa(w), w)
	}
	file := filepath.Join(dir, "dex.yaml")
	if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, bin, "serve", file)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	deadline := time.Now().Add(30 * time.Second)
	probe := &http.Client{Timeout: 2 * time.Second}
	for {
		resp, err := probe.Get(issuer + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return issuer, stop, nil
			}
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("not serving after 30 s: %.500s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// dexDatabase creates a schema of its own for Dex in the database of
// TAPIS_TEST_POSTGRES_DSN (Dex takes it from PGOPTIONS) and returns the
// database URL, the schema and how to drop it.
func dexDatabase(ctx context.Context) (*url.URL, string, func(), error) {
	dsn := os.Getenv("TAPIS_TEST_POSTGRES_DSN")
	if dsn == "" {
		return nil, "", nil, errors.New("TAPIS_TEST_POSTGRES_DSN not set: the Dex comparison runs both servers on PostgreSQL")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, "", nil, errors.New("TAPIS_TEST_POSTGRES_DSN is not a URL")
	}
	admin, err := bunstore.Open(ctx, dsn)
	if err != nil {
		return nil, "", nil, err
	}
	schema := fmt.Sprintf("dexbench_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.DB().ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		return nil, "", nil, err
	}
	drop := func() {
		_, _ = admin.DB().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	}
	return u, schema, drop, nil
}

func dbPassword(u *url.URL) string {
	p, _ := u.User.Password()
	return p
}
