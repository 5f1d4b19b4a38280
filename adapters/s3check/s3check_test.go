package s3check

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
)

// No test in this package runs in parallel: the stalled-peer tests count
// goroutines.

func target(endpoint, bucket, rootDir string) hostcheck.Target {
	return hostcheck.Target{
		Tenant: "dev", SystemID: "s3-test", SystemType: "S3", AuthnMethod: "ACCESS_KEY",
		Host: endpoint, BucketName: bucket, RootDir: rootDir,
	}
}

func accessKey(key, secret string) credentials.Credential {
	return credentials.Credential{AccessKey: key, AccessSecret: secret}
}

// requireClass checks the failure class and that the message leaks neither
// the secret nor the access key.
func requireClass(t *testing.T, err, class error, cred credentials.Credential) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, class, "message: %s", err)
	if cred.AccessSecret != "" {
		assert.NotContains(t, err.Error(), cred.AccessSecret)
	}
	if cred.AccessKey != "" {
		assert.NotContains(t, err.Error(), cred.AccessKey)
	}
	t.Logf("%v", err)
}

// fastChecker has short timeouts so a broken case cannot hang the suite.
func fastChecker() *Checker {
	return New(Options{DialTimeout: 2 * time.Second, TLSHandshakeTimeout: 2 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second, Timeout: 10 * time.Second})
}

func TestFakeS3(t *testing.T) {
	ep := newFakeS3(t)
	good := accessKey(fakeKey, fakeSecret)
	c := fastChecker()
	ctx := context.Background()

	t.Run("good key, rootDir with an object", func(t *testing.T) {
		require.NoError(t, c.Verify(ctx, target(ep, fakeBucket, "/data"), good))
	})
	t.Run("good key, bucket root", func(t *testing.T) {
		require.NoError(t, c.Verify(ctx, target(ep, fakeBucket, "/"), good))
		require.NoError(t, c.Verify(ctx, target(ep, fakeBucket, ""), good))
	})
	t.Run("good key, rootDir prefix without objects is not an error", func(t *testing.T) {
		require.NoError(t, c.Verify(ctx, target(ep, fakeBucket, "/no/such/prefix"), good))
	})
	t.Run("host without scheme, port from the system", func(t *testing.T) {
		host, port := splitEndpoint(t, ep)
		tg := target("http://"+host, fakeBucket, "/data")
		tg.Port = port
		require.NoError(t, c.Verify(ctx, tg, good))
	})
	t.Run("bad secret", func(t *testing.T) {
		cred := accessKey(fakeKey, "wrong-secret-Ux81bq")
		err := c.Verify(ctx, target(ep, fakeBucket, "/data"), cred)
		requireClass(t, err, hostcheck.ErrBadCredential, cred)
		assert.Contains(t, err.Error(), "SignatureDoesNotMatch")
		assert.NotContains(t, err.Error(), fakeSecret)
	})
	t.Run("unknown access key", func(t *testing.T) {
		cred := accessKey("NOSUCHACCESSKEY99", fakeSecret)
		err := c.Verify(ctx, target(ep, fakeBucket, "/data"), cred)
		requireClass(t, err, hostcheck.ErrBadCredential, cred)
		assert.Contains(t, err.Error(), "InvalidAccessKeyId")
	})
	t.Run("missing bucket", func(t *testing.T) {
		err := c.Verify(ctx, target(ep, "no-such-bucket", "/data"), good)
		requireClass(t, err, hostcheck.ErrRootDirMissing, good)
		assert.Contains(t, err.Error(), `S3 bucket "no-such-bucket" does not exist on `+ep)
	})
	t.Run("invalid bucket name", func(t *testing.T) {
		err := c.Verify(ctx, target(ep, "", "/data"), good)
		requireClass(t, err, hostcheck.ErrRootDirMissing, good)
		assert.Contains(t, err.Error(), "no bucketName")
		for _, name := range []string{"x", "bad..bucket", "-bad-"} {
			err := c.Verify(ctx, target(ep, name, "/data"), good)
			requireClass(t, err, hostcheck.ErrRootDirMissing, good)
			assert.Contains(t, err.Error(), "is not a valid S3 bucket name")
		}
	})
	t.Run("no secret is refused, never sent anonymously", func(t *testing.T) {
		err := c.Verify(ctx, target(ep, fakeBucket, "/data"), accessKey(fakeKey, ""))
		requireClass(t, err, hostcheck.ErrBadCredential, good)
		err = c.Verify(ctx, target(ep, fakeBucket, "/data"), credentials.Credential{Password: "x"})
		requireClass(t, err, hostcheck.ErrBadCredential, good)
	})
	t.Run("wrong type or method", func(t *testing.T) {
		tg := target(ep, fakeBucket, "/data")
		tg.SystemType = "LINUX"
		requireClass(t, c.Verify(ctx, tg, good), hostcheck.ErrUnsupported, good)
		tg = target(ep, fakeBucket, "/data")
		tg.AuthnMethod = "PASSWORD"
		requireClass(t, c.Verify(ctx, tg, good), hostcheck.ErrUnsupported, good)
	})
	t.Run("through a Mux", func(t *testing.T) {
		m := hostcheck.Mux{"S3": c}
		require.NoError(t, m.Verify(ctx, target(ep, fakeBucket, "/data"), good))
	})
	t.Run("https to an http server", func(t *testing.T) {
		host, port := splitEndpoint(t, ep)
		tg := target(host, fakeBucket, "/data") // no scheme: https
		tg.Port = port
		requireClass(t, c.Verify(ctx, tg, good), hostcheck.ErrUnreachable, good)
	})
}

func TestNotS3(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html>bad gateway</html>"))
	}))
	defer srv.Close()
	cred := accessKey(fakeKey, fakeSecret)
	err := fastChecker().Verify(context.Background(), target(srv.URL, fakeBucket, "/"), cred)
	requireClass(t, err, hostcheck.ErrUnreachable, cred)
	assert.Contains(t, err.Error(), "(HTTP 502)")
}

// A web server that is not S3 answers 404 with HTML: minio-go calls that
// NoSuchBucket, the check does not.
func TestNotS3NotFound(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	cred := accessKey(fakeKey, fakeSecret)
	err := fastChecker().Verify(context.Background(), target(srv.URL, fakeBucket, "/"), cred)
	requireClass(t, err, hostcheck.ErrUnreachable, cred)
	assert.NotErrorIs(t, err, hostcheck.ErrRootDirMissing)
	assert.Contains(t, err.Error(), "did not answer as an S3 service")
}

func TestConnectionRefused(t *testing.T) {
	addr := closedPort(t)
	cred := accessKey(fakeKey, fakeSecret)
	start := time.Now()
	err := fastChecker().Verify(context.Background(), target("http://"+addr, fakeBucket, "/"), cred)
	requireClass(t, err, hostcheck.ErrUnreachable, cred)
	assert.Contains(t, err.Error(), "refused the connection")
	assert.Less(t, time.Since(start), time.Second, "no retries on a refused connection")
}

func TestUnresolvableHost(t *testing.T) {
	cred := accessKey(fakeKey, fakeSecret)
	err := fastChecker().Verify(context.Background(), target("http://no-such-host.invalid", fakeBucket, "/"), cred)
	requireClass(t, err, hostcheck.ErrUnreachable, cred)
}

func TestDialerVerdictKept(t *testing.T) {
	guard := errors.New("169.254.169.254 is a metadata address")
	c := New(Options{DialContext: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.Join(hostcheck.ErrForbiddenAddress, guard)
	}})
	cred := accessKey(fakeKey, fakeSecret)
	err := c.Verify(context.Background(), target("http://169.254.169.254", fakeBucket, "/"), cred)
	requireClass(t, err, hostcheck.ErrForbiddenAddress, cred)
	assert.NotErrorIs(t, err, hostcheck.ErrUnreachable)
	assert.Contains(t, err.Error(), "metadata address")
	assert.NotContains(t, err.Error(), "\n")
}

func TestCallerCancel(t *testing.T) {
	addr := stalledListener(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	err := fastChecker().Verify(ctx, target("http://"+addr, fakeBucket, "/"), accessKey(fakeKey, fakeSecret))
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, hostcheck.ErrTimeout)
}

// A peer that accepts TCP and never answers fails within the timeout +10%,
// whichever timeout bounds the stall, and leaves no goroutine behind.
func TestStalledPeer(t *testing.T) {
	const limit = time.Second
	const long = time.Minute
	cases := []struct {
		name   string
		scheme string
		opts   Options
	}{
		{"whole-check timeout", "http", Options{Timeout: limit, ResponseHeaderTimeout: long, TLSHandshakeTimeout: long, DialTimeout: long}},
		{"response header timeout", "http", Options{ResponseHeaderTimeout: limit, Timeout: long}},
		{"TLS handshake timeout", "https", Options{TLSHandshakeTimeout: limit, Timeout: long}},
		{"dial timeout of a custom dialer", "http", Options{DialTimeout: limit, Timeout: long,
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				<-ctx.Done() // a dialer that never connects on its own
				return nil, ctx.Err()
			}}},
	}
	cred := accessKey(fakeKey, fakeSecret)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			addr := stalledListenerNoCleanup(t)
			c := New(tc.opts)

			start := time.Now()
			err := c.Verify(context.Background(), target(tc.scheme+"://"+addr.String(), fakeBucket, "/"), cred)
			elapsed := time.Since(start)

			requireClass(t, err, hostcheck.ErrTimeout, cred)
			assert.GreaterOrEqual(t, elapsed, limit*9/10, "the bounding timer fired early")
			assert.Less(t, elapsed, limit*11/10, "stall not bounded by the timeout +10%%")
			t.Logf("failed after %v", elapsed)

			addr.Close()
			requireNoLeak(t, before)
		})
	}
}

// requireNoLeak waits (up to 5 s) for the goroutine count to fall back to
// before, then fails with the stacks left over.
func requireNoLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			buf = buf[:runtime.Stack(buf, true)]
			t.Fatalf("goroutines: %d before, %d after:\n%s", before, runtime.NumGoroutine(), buf)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stalled is a TCP listener that accepts and never answers.
type stalled struct {
	ln    net.Listener
	mu    sync.Mutex
	conns []net.Conn
	done  chan struct{}
}

func (s *stalled) String() string { return s.ln.Addr().String() }

// Close stops accepting, drops the held connections and waits for the
// accept loop to end.
func (s *stalled) Close() {
	_ = s.ln.Close()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}

func stalledListenerNoCleanup(t *testing.T) *stalled {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &stalled{ln: ln, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}()
	return s
}

func stalledListener(t *testing.T) string {
	s := stalledListenerNoCleanup(t)
	t.Cleanup(s.Close)
	return s.String()
}

// closedPort returns 127.0.0.1:port where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

func splitEndpoint(t *testing.T, ep string) (string, int) {
	t.Helper()
	u, err := parseEndpoint(ep, 0)
	require.NoError(t, err)
	host, port, err := net.SplitHostPort(u.url.Host)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return host, p
}

func TestParseEndpoint(t *testing.T) {
	ok := []struct {
		host string
		port int
		want string
	}{
		{"s3.example.org", 0, "https://s3.example.org"},
		{"s3.example.org", 9000, "https://s3.example.org:9000"},
		{"s3.example.org:8443", 0, "https://s3.example.org:8443"},
		{"s3.example.org:8443", 9443, "https://s3.example.org:9443"},
		{"http://127.0.0.1:9000", 0, "http://127.0.0.1:9000"},
		{"http://127.0.0.1", 9000, "http://127.0.0.1:9000"},
		{"HTTPS://s3.example.org/", 0, "https://s3.example.org"},
		{" https://s3.example.org ", 0, "https://s3.example.org"},
		{"http://[::1]:9000", 0, "http://[::1]:9000"},
		{"::1", 9000, "https://[::1]:9000"},
		{"http://[::1]", 9000, "http://[::1]:9000"},
	}
	for _, tc := range ok {
		ep, err := parseEndpoint(tc.host, tc.port)
		if assert.NoError(t, err, tc.host) {
			assert.Equal(t, tc.want, ep.String(), "%s port %d", tc.host, tc.port)
		}
	}
	bad := []struct {
		host string
		port int
	}{
		{"", 0}, {"ftp://s3.example.org", 0}, {"https://s3.example.org/bucket", 0},
		{"https://user:pw@s3.example.org", 0}, {"https://s3.example.org?x=1", 0},
		{"https://s3.example.org", 70000}, {"https://s3.example.org:99999", 0}, {"http://:9000", 0},
	}
	for _, tc := range bad {
		_, err := parseEndpoint(tc.host, tc.port)
		assert.Error(t, err, "%q port %d", tc.host, tc.port)
	}
	// through Verify: ErrUnreachable, the secret never in the message
	cred := accessKey(fakeKey, fakeSecret)
	err := New(Options{}).Verify(context.Background(), target("ftp://s3.example.org", fakeBucket, "/"), cred)
	requireClass(t, err, hostcheck.ErrUnreachable, cred)
	assert.True(t, strings.Contains(err.Error(), "http or https"), err.Error())
}

func TestDialerTimeoutClassKept(t *testing.T) {
	c := New(Options{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
		return nil, fmt.Errorf("%w: could not connect to %s within 1s", hostcheck.ErrTimeout, addr)
	}})
	cred := accessKey(fakeKey, fakeSecret)
	err := c.Verify(context.Background(), target("http://192.0.2.1:9000", fakeBucket, "/"), cred)
	requireClass(t, err, hostcheck.ErrTimeout, cred)
	assert.NotErrorIs(t, err, hostcheck.ErrUnreachable)
}

// The policy plugs in through Options.DialContext and Guard.
func TestUnderPolicy(t *testing.T) {
	ep := newFakeS3(t)
	good := accessKey(fakeKey, fakeSecret)
	ctx := context.Background()

	allow := hostcheck.Policy{AllowPrivate: true, CheckTimeout: 5 * time.Second}
	v := allow.Guard(New(Options{DialContext: allow.Dial}))
	require.NoError(t, v.Verify(ctx, target(ep, fakeBucket, "/data"), good))
	requireClass(t, v.Verify(ctx, target(ep, fakeBucket, "/data"), accessKey(fakeKey, "wrong-secret-x")),
		hostcheck.ErrBadCredential, good)

	strict := hostcheck.Policy{CheckTimeout: 5 * time.Second} // loopback refused
	v = strict.Guard(New(Options{DialContext: strict.Dial}))
	requireClass(t, v.Verify(ctx, target(ep, fakeBucket, "/data"), good), hostcheck.ErrForbiddenAddress, good)
	// the dialer itself refuses too, when the guard is bypassed
	requireClass(t, New(Options{DialContext: strict.Dial}).Verify(ctx, target(ep, fakeBucket, "/data"), good),
		hostcheck.ErrForbiddenAddress, good)
}
