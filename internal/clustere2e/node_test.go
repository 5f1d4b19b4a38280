package clustere2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// node is one examples/server process; start runs it again with the same
// flags (the same port included) after a kill.
type node struct {
	t    *testing.T
	name string
	bin  string
	args []string
	base string // http://127.0.0.1:PORT

	probe atomic.Value // string: the readiness path that answered 200

	stdout testenv.Output
	stderr testenv.Output

	mu     sync.Mutex // guards the current run below
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// newNode prepares a process on a free port; flags follow -addr.
func newNode(t *testing.T, name, bin string, flags ...string) *node {
	t.Helper()
	port := testenv.FreePort(t)
	n := &node{t: t, name: name, bin: bin, base: fmt.Sprintf("http://127.0.0.1:%d", port),
		args: append([]string{"-addr", fmt.Sprintf("127.0.0.1:%d", port)}, flags...)}
	t.Cleanup(func() {
		n.kill()
		if t.Failed() {
			t.Logf("%s %v\nstdout:\n%s\nstderr (last 4 kB):\n%s", n.name, n.args, n.Stdout(), tail(n.Stderr(), 4096))
		}
	})
	return n
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// Stdout is what the process (all its runs) printed so far.
func (n *node) Stdout() string { return n.stdout.String() }

// Stderr is what the process (all its runs) logged so far.
func (n *node) Stderr() string { return n.stderr.String() }

// start runs the process; it does not wait for readiness.
func (n *node) start() {
	n.t.Helper()
	cmd := exec.Command(n.bin, n.args...)
	for _, kv := range os.Environ() { // the test's environment must not configure the server
		if !strings.HasPrefix(kv, "TAPIS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Stdout = &n.stdout
	cmd.Stderr = &n.stderr
	require.NoError(n.t, cmd.Start())
	exited := make(chan struct{})
	n.mu.Lock()
	n.cmd, n.exited, n.err = cmd, exited, nil
	n.mu.Unlock()
	go func() {
		err := cmd.Wait()
		n.mu.Lock()
		n.err = err
		n.mu.Unlock()
		close(exited)
	}()
}

// running returns the current run's process and its exit channel.
func (n *node) running() (*exec.Cmd, chan struct{}) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd, n.exited
}

// kill sends SIGKILL and waits for the exit (nothing if not running).
func (n *node) kill() {
	cmd, exited := n.running()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// exitCode is the exit code of the last run, -1 while it runs.
func (n *node) exitCode() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	select {
	case <-n.exited:
		return n.cmd.ProcessState.ExitCode()
	default:
		return -1
	}
}

// errReadyTimeout says a process neither exited nor became ready.
var errReadyTimeout = errors.New("not ready in time")

// waitReady polls /readyz (/v3/tokens/ready where /readyz is not served)
// until it answers 200. It returns the exit error if the process ended first.
func (n *node) waitReady(timeout time.Duration) error {
	_, exited := n.running()
	client := &http.Client{Timeout: 2 * time.Second}
	probe := "/readyz"
	deadline := time.Now().Add(timeout)
	for {
		select {
		case <-exited:
			n.mu.Lock()
			defer n.mu.Unlock()
			return fmt.Errorf("%s exited: %v", n.name, n.err)
		default:
		}
		resp, err := client.Get(n.base + probe)
		if err == nil {
			_ = resp.Body.Close()
			switch {
			case resp.StatusCode == http.StatusOK:
				n.probe.Store(probe)
				return nil
			case resp.StatusCode == http.StatusNotFound && probe == "/readyz":
				probe = "/v3/tokens/ready"
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %w after %v (probe %s, last error %v)", n.name, errReadyTimeout, timeout, probe, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mustStart starts the process and waits until it is ready.
func (n *node) mustStart() {
	n.t.Helper()
	n.start()
	require.NoError(n.t, n.waitReady(45*time.Second), "stderr:\n%s", tail(n.Stderr(), 4096))
}

// proxyErrorHeader marks the proxy's own 502: the backend could not be
// reached or dropped the connection.
const proxyErrorHeader = "X-Cluster-Proxy-Error"

// connError is a request the proxy could not complete with a backend.
type connError struct {
	Backend int
	At      time.Time
	Err     string
}

// rrProxy sends each request to the next backend in turn and records the
// connection errors per backend.
type rrProxy struct {
	srv     *httptest.Server
	next    atomic.Uint64
	proxies []*httputil.ReverseProxy
	sent    []atomic.Int64

	mu     sync.Mutex
	errors []connError
}

func newProxy(t *testing.T, backends []*node) *rrProxy {
	t.Helper()
	p := &rrProxy{sent: make([]atomic.Int64, len(backends))}
	transport := &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
		ResponseHeaderTimeout: 20 * time.Second,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       30 * time.Second,
	}
	for i, b := range backends {
		target, err := url.Parse(b.base)
		require.NoError(t, err)
		rp := &httputil.ReverseProxy{
			Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target); r.SetXForwarded() },
			Transport: transport,
			ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
				p.mu.Lock()
				p.errors = append(p.errors, connError{Backend: i, At: time.Now(), Err: err.Error()})
				p.mu.Unlock()
				w.Header().Set(proxyErrorHeader, b.name)
				w.WriteHeader(http.StatusBadGateway)
			},
		}
		p.proxies = append(p.proxies, rp)
	}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int((p.next.Add(1) - 1) % uint64(len(p.proxies)))
		p.sent[i].Add(1)
		p.proxies[i].ServeHTTP(w, r)
	}))
	t.Cleanup(func() { p.srv.Close(); transport.CloseIdleConnections() })
	return p
}

// connErrors returns a copy of the recorded connection errors.
func (p *rrProxy) connErrors() []connError {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]connError(nil), p.errors...)
}

// reply is one HTTP answer, or the transport error of a request.
type reply struct {
	Code       int
	Header     http.Header
	Raw        []byte
	Err        error
	ProxyError bool // the proxy's own 502 (backend unreachable)
}

// Message is the envelope's message.
func (r reply) Message() string {
	var env struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(r.Raw, &env)
	return env.Message
}

// Result decodes the envelope's result into out.
func (r reply) Result(out any) error {
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(r.Raw, &env); err != nil {
		return fmt.Errorf("envelope %q: %w", tail(string(r.Raw), 300), err)
	}
	return json.Unmarshal(env.Result, out)
}

func (r reply) String() string {
	if r.Err != nil {
		return "error " + r.Err.Error()
	}
	return fmt.Sprintf("%d %s", r.Code, tail(string(r.Raw), 300))
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// call sends a JSON request (body nil: none) with an optional token.
func call(ctx context.Context, method, u, token string, body any) reply {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return reply{Err: err}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return reply{Err: err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Tapis-Token", token)
	}
	return send(req)
}

func send(req *http.Request) reply {
	resp, err := httpClient.Do(req)
	if err != nil {
		return reply{Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return reply{Code: resp.StatusCode, Header: resp.Header, Raw: raw, Err: err,
		ProxyError: resp.Header.Get(proxyErrorHeader) != ""}
}
