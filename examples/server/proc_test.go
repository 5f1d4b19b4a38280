package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/serverbin"
	"github.com/tapis-go/tapis/internal/testenv"
)

// serverProc is a started server binary.
type serverProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:PORT
	stdout testenv.Output
	stderr testenv.Output
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

func (p *serverProc) Stdout() string { return p.stdout.String() }

func (p *serverProc) Stderr() string { return p.stderr.String() }

// buildServer compiles the server into a temporary directory once per test,
// as deploy/Containerfile does (serverbin).
func buildServer(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	root, err := serverbin.ModuleRoot(ctx)
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "tapis-server")
	require.NoError(t, serverbin.Build(ctx, root, bin))
	return bin
}

// startServer runs the binary with the given flags and waits (at most 30s)
// until /v3/tokens/ready answers 200. The process is killed at cleanup.
func startServer(t *testing.T, bin string, args ...string) *serverProc {
	t.Helper()
	return startServerAt(t, bin, testenv.FreePort(t), args...)
}

// startServerAt is startServer on a given port.
func startServerAt(t *testing.T, bin string, port int, args ...string) *serverProc {
	t.Helper()
	p := launchServerAt(t, bin, port, args...)
	p.waitReady()
	return p
}

// launchServer runs the binary with the given flags on a free port, without
// waiting for it. The process is killed at cleanup.
func launchServer(t *testing.T, bin string, args ...string) *serverProc {
	t.Helper()
	return launchServerAt(t, bin, testenv.FreePort(t), args...)
}

// launchServerAt is launchServer on a given port.
func launchServerAt(t *testing.T, bin string, port int, args ...string) *serverProc {
	t.Helper()
	args = append([]string{"-addr", fmt.Sprintf("127.0.0.1:%d", port)}, args...)
	p := &serverProc{t: t, cmd: exec.Command(bin, args...), base: fmt.Sprintf("http://127.0.0.1:%d", port),
		exited: make(chan struct{})}
	for _, kv := range os.Environ() { // the test's environment must not configure the server
		if !strings.HasPrefix(kv, "TAPIS_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	require.NoError(t, p.cmd.Start())
	go func() { p.err = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("server %v\nstdout:\n%s\nstderr:\n%s", args, p.Stdout(), p.Stderr())
		}
	})
	return p
}

// waitReady waits (at most 30s) until /v3/tokens/ready answers 200 and the
// listening line is printed; it fails the test if the process exits first.
func (p *serverProc) waitReady() {
	t := p.t
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-p.exited:
			t.Fatalf("server exited before it was ready: %v\nstdout:\n%s\nstderr:\n%s", p.err, p.Stdout(), p.Stderr())
		default:
		}
		resp, err := client.Get(p.base + "/v3/tokens/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server not ready after 30s (last error %v)", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The child's stdout reaches us through a pipe copied by another
	// goroutine, which may lag behind the HTTP answer on a loaded machine.
	require.Eventually(t, func() bool { return strings.Contains(p.Stdout(), "Tapis listening on "+p.base+"\n") },
		10*time.Second, 10*time.Millisecond, "stdout so far:\n%s", p.Stdout())
}

// stop sends SIGINT and expects a clean exit within 15s.
func (p *serverProc) stop() {
	p.t.Helper()
	require.NoError(p.t, p.cmd.Process.Signal(os.Interrupt))
	select {
	case <-p.exited:
		require.NoError(p.t, p.err, "exit after SIGINT")
	case <-time.After(15 * time.Second):
		p.t.Fatal("server did not stop within 15s of SIGINT")
	}
}

type envelope struct {
	Status  string          `json:"status"`
	Message string          `json:"message"`
	Result  json.RawMessage `json:"result"`
}

// call sends a request and decodes the envelope; result is decoded into out
// when out is not nil.
func (p *serverProc) call(method, path, basicUser, basicPass string, body any, out any) (int, envelope) {
	p.t.Helper()
	return p.send(method, path, body, out, 10*time.Second, func(req *http.Request) {
		if basicUser != "" {
			req.SetBasicAuth(basicUser, basicPass)
		}
	})
}

// send sends a request (JSON body when body is not nil) after prepare
// adjusted it, waits up to timeout for the answer, and decodes the
// envelope; result is decoded into out when out is not nil and the status
// is a success.
func (p *serverProc) send(method, path string, body, out any, timeout time.Duration, prepare func(*http.Request)) (int, envelope) {
	p.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(p.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	require.NoError(p.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	prepare(req)
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	require.NoError(p.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(p.t, err)
	var env envelope
	require.NoError(p.t, json.Unmarshal(raw, &env), "%s %s: body %s", method, path, raw)
	if out != nil && resp.StatusCode < 300 {
		require.NoError(p.t, json.Unmarshal(env.Result, out), "%s %s: result %s", method, path, env.Result)
	}
	return resp.StatusCode, env
}

type tokenResult struct {
	AccessToken struct {
		AccessToken string `json:"access_token"`
	} `json:"access_token"`
}

// mint asks for a service token of user@admin with HTTP Basic credentials.
func (p *serverProc) mint(user, password string) (int, tokenResult) {
	p.t.Helper()
	var tok tokenResult
	status, _ := p.call(http.MethodPost, "/v3/tokens", user, password, map[string]any{"account_type": "service",
		"token_tenant_id": "admin", "token_username": user, "target_site_id": "local"}, &tok)
	return status, tok
}

type siteResult struct {
	SiteID  string `json:"site_id"`
	Primary bool   `json:"primary"`
}

type tenantResult struct {
	TenantID  string `json:"tenant_id"`
	PublicKey string `json:"public_key"`
}

func tenantIDs(t *testing.T, p *serverProc) []string {
	t.Helper()
	var tenants []tenantResult
	status, env := p.call(http.MethodGet, "/v3/tenants", "", "", nil, &tenants)
	require.Equal(t, http.StatusOK, status, env.Message)
	ids := []string{}
	for _, tn := range tenants {
		ids = append(ids, tn.TenantID)
	}
	return ids
}

// passwordOf returns the password of the first curl printed for user.
func passwordOf(t *testing.T, stdout, user string) string {
	t.Helper()
	m := regexp.MustCompile(`curl -s -u ` + user + `:(\S+) `).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no curl for %s in stdout:\n%s", user, stdout)
	return m[1]
}
