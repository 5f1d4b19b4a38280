package hostcheck_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/hostcheck/hostchecktest"
)

func TestCheckAddr(t *testing.T) {
	cases := []struct {
		ip          string
		public      bool // allowed without AllowPrivate
		private     bool // allowed only with AllowPrivate
		wantInError string
	}{
		{ip: "8.8.8.8", public: true},
		{ip: "2001:4860:4860::8888", public: true},
		{ip: "129.114.4.1", public: true},
		// never, whatever the operator allows
		{ip: "169.254.169.254", wantInError: "cloud metadata"},
		{ip: "::ffff:169.254.169.254", wantInError: "cloud metadata"},
		{ip: "fd00:ec2::254", wantInError: "cloud metadata"},
		{ip: "100.100.100.200", wantInError: "cloud metadata"},
		{ip: "64:ff9b::a9fe:a9fe", wantInError: "cloud metadata"}, // NAT64 of 169.254.169.254
		{ip: "169.254.1.2", wantInError: "link-local"},
		{ip: "fe80::1", wantInError: "link-local"},
		{ip: "fe80::1%eth0", wantInError: "link-local"},
		{ip: "0.0.0.0", wantInError: "unspecified"},
		{ip: "0.1.2.3", wantInError: "unspecified"},
		{ip: "::", wantInError: "unspecified"},
		{ip: "224.0.0.1", wantInError: "multicast"},
		{ip: "ff02::1", wantInError: "multicast"},
		{ip: "255.255.255.255", wantInError: "broadcast"},
		{ip: "240.0.0.1", wantInError: "reserved"},
		// only when the operator allows private addresses
		{ip: "127.0.0.1", private: true, wantInError: "loopback"},
		{ip: "127.8.9.10", private: true, wantInError: "loopback"},
		{ip: "::1", private: true, wantInError: "loopback"},
		{ip: "::ffff:127.0.0.1", private: true, wantInError: "loopback"},
		{ip: "10.1.2.3", private: true, wantInError: "private"},
		{ip: "172.16.0.1", private: true, wantInError: "private"},
		{ip: "172.31.255.254", private: true, wantInError: "private"},
		{ip: "192.168.1.1", private: true, wantInError: "private"},
		{ip: "fd12:3456::1", private: true, wantInError: "private"},
		{ip: "100.64.0.1", private: true, wantInError: "carrier-grade NAT"},
		{ip: "64:ff9b::a00:1", private: true, wantInError: "private"}, // NAT64 of 10.0.0.1
		{ip: "172.32.0.1", public: true},
	}
	strict := hostcheck.Policy{}
	lenient := hostcheck.Policy{AllowPrivate: true}
	for _, c := range cases {
		t.Run(c.ip, func(t *testing.T) {
			ip := netip.MustParseAddr(c.ip)
			err := strict.CheckAddr(ip)
			if c.public {
				assert.NoError(t, err)
			} else {
				require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
				assert.Contains(t, err.Error(), c.wantInError)
				assert.Contains(t, err.Error(), ip.String())
			}
			err = lenient.CheckAddr(ip)
			if c.public || c.private {
				assert.NoError(t, err, "allowed with AllowPrivate")
			} else {
				require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress, "refused even with AllowPrivate")
				assert.Contains(t, err.Error(), "never connect")
			}
		})
	}
}

func TestHostName(t *testing.T) {
	for in, want := range map[string]string{
		"login.example.org":           "login.example.org",
		" login.example.org ":         "login.example.org",
		"login.example.org:22":        "login.example.org",
		"10.0.0.1":                    "10.0.0.1",
		"fe80::1":                     "fe80::1",
		"[fe80::1]":                   "fe80::1",
		"[fe80::1]:22":                "fe80::1",
		"https://s3.example.org":      "s3.example.org",
		"http://169.254.169.254:80/x": "169.254.169.254",
	} {
		assert.Equal(t, want, hostcheck.HostName(in), in)
	}
}

func TestResolve(t *testing.T) {
	ctx := context.Background()
	p := hostcheck.Policy{Resolver: hostchecktest.Resolver{
		"public.test":  {netip.MustParseAddr("129.114.4.1")},
		"mixed.test":   {netip.MustParseAddr("129.114.4.1"), netip.MustParseAddr("169.254.169.254")},
		"private.test": {netip.MustParseAddr("10.0.0.7")},
		"empty.test":   {},
	}}

	addrs, err := p.Resolve(ctx, "public.test")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("129.114.4.1")}, addrs)

	_, err = p.Resolve(ctx, "mixed.test")
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress, "one forbidden address refuses the name")
	assert.Contains(t, err.Error(), `host "mixed.test" resolves to 169.254.169.254, which is a cloud metadata address`)

	_, err = p.Resolve(ctx, "private.test")
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
	assert.Contains(t, err.Error(), "only when the server's operator allows them")
	p.AllowPrivate = true
	_, err = p.Resolve(ctx, "private.test")
	require.NoError(t, err)

	_, err = p.Resolve(ctx, "missing.test")
	require.ErrorIs(t, err, hostcheck.ErrUnreachable)
	assert.Contains(t, err.Error(), `"missing.test" does not exist`)

	_, err = p.Resolve(ctx, "empty.test")
	require.ErrorIs(t, err, hostcheck.ErrUnreachable)

	_, err = p.Resolve(ctx, "")
	require.ErrorIs(t, err, hostcheck.ErrUnreachable)
	assert.Contains(t, err.Error(), "no host")

	// literal addresses are checked without a lookup
	_, err = p.Resolve(ctx, "169.254.169.254")
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
	assert.Contains(t, err.Error(), "169.254.169.254 is a cloud metadata address")
}

// verifierFunc is a Verifier (and Evaluator) from a function.
type verifierFunc func(ctx context.Context, t hostcheck.Target) error

func (f verifierFunc) Verify(ctx context.Context, t hostcheck.Target, _ credentials.Credential) error {
	return f(ctx, t)
}

type evaluatorFunc func(ctx context.Context, t hostcheck.Target, name string) (string, error)

func (f evaluatorFunc) EvalEnv(ctx context.Context, t hostcheck.Target, _ credentials.Credential, name string) (string, error) {
	return f(ctx, t, name)
}

func TestGuardRefusesForbiddenAddressesBeforeTheCheck(t *testing.T) {
	var called atomic.Int32
	inner := verifierFunc(func(context.Context, hostcheck.Target) error { called.Add(1); return nil })
	p := hostcheck.Policy{Resolver: hostchecktest.Resolver{
		"metadata.test": {netip.MustParseAddr("169.254.169.254")},
		"lan.test":      {netip.MustParseAddr("192.168.0.10")},
		"public.test":   {netip.MustParseAddr("129.114.4.1")},
	}}
	g := p.Guard(inner)
	ctx := context.Background()
	for _, host := range []string{"metadata.test", "169.254.169.254", "fe80::1", "lan.test", "127.0.0.1", "0.0.0.0", "224.0.0.1"} {
		err := g.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: host}, credentials.Credential{})
		require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress, host)
	}
	assert.Zero(t, called.Load(), "the inner check never runs for a forbidden address")

	require.NoError(t, g.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: "public.test"}, credentials.Credential{}))
	assert.EqualValues(t, 1, called.Load())

	p.AllowPrivate = true
	g = p.Guard(inner)
	require.NoError(t, g.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: "lan.test"}, credentials.Credential{}))
	require.ErrorIs(t, g.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: "metadata.test"}, credentials.Credential{}), hostcheck.ErrForbiddenAddress)
}

func TestGuardServiceChecksTheServiceNotTheTarget(t *testing.T) {
	var seen []hostcheck.Target
	inner := verifierFunc(func(_ context.Context, tg hostcheck.Target) error { seen = append(seen, tg); return nil })
	p := hostcheck.Policy{Resolver: hostchecktest.Resolver{
		"transfer.test": {netip.MustParseAddr("129.114.4.2")},
		"internal.test": {netip.MustParseAddr("10.0.0.5")},
	}}
	// A Globus collection id is no host name: Guard would fail to resolve
	// it, GuardService never tries.
	collection := hostcheck.Target{Tenant: "dev", SystemType: "GLOBUS", Host: "7b6d1c36-0b54-4a3a-9f0a-5e3b1d2c9a10"}
	ctx := context.Background()
	require.Error(t, p.Guard(inner).Verify(ctx, collection, credentials.Credential{}), "Guard resolves the target's host")
	require.NoError(t, p.GuardService(inner, "https://transfer.test/v0.10/").Verify(ctx, collection, credentials.Credential{}))
	require.Len(t, seen, 1)
	assert.Equal(t, collection, seen[0], "the verifier gets the target as it is")

	for _, service := range []string{"https://internal.test/v0.10/", "http://127.0.0.1:8080/", "169.254.169.254:443"} {
		err := p.GuardService(inner, service).Verify(ctx, collection, credentials.Credential{})
		require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress, service)
	}
	// A target naming a forbidden address is no concern of a service check.
	require.NoError(t, p.GuardService(inner, "transfer.test:443").Verify(ctx,
		hostcheck.Target{Tenant: "dev", Host: "169.254.169.254"}, credentials.Credential{}))
	assert.Len(t, seen, 2, "the forbidden services never reached the verifier")
}

func TestGuardBoundsTheWholeCheck(t *testing.T) {
	const timeout = 300 * time.Millisecond
	hang := verifierFunc(func(ctx context.Context, _ hostcheck.Target) error {
		<-ctx.Done() // a check that only ends when its context does
		return errors.New("gave up: " + ctx.Err().Error())
	})
	g := hostcheck.Policy{CheckTimeout: timeout, AllowPrivate: true}.Guard(hang)
	start := time.Now()
	err := g.Verify(context.Background(), hostcheck.Target{Tenant: "dev", Host: "127.0.0.1"}, credentials.Credential{})
	elapsed := time.Since(start)
	require.ErrorIs(t, err, hostcheck.ErrTimeout, "an unclassified error after the deadline is a timeout")
	assert.Contains(t, err.Error(), "did not finish within 300ms")
	assert.Less(t, elapsed, timeout+timeout/10+50*time.Millisecond)

	// a caller's cancel is not the host's fault
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	err = g.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: "127.0.0.1"}, credentials.Credential{})
	require.Error(t, err)
	assert.NotErrorIs(t, err, hostcheck.ErrTimeout)
}

func TestGuardCapsConcurrentChecksPerTenant(t *testing.T) {
	const max = 2
	var (
		running, peak atomic.Int32
		release       = make(chan struct{})
		entered       = make(chan string, 16)
	)
	inner := verifierFunc(func(ctx context.Context, t hostcheck.Target) error {
		n := running.Add(1)
		defer running.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		entered <- t.Tenant
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	g := hostcheck.Policy{CheckTimeout: 5 * time.Second, MaxPerTenant: max, AllowPrivate: true}.Guard(inner)
	ctx := context.Background()
	dev := hostcheck.Target{Tenant: "dev", Host: "127.0.0.1"}

	// max checks of dev start; the next one waits
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range max + 3 {
		wg.Go(func() { errs <- g.Verify(ctx, dev, credentials.Credential{}) })
	}
	for range max {
		assert.Equal(t, "dev", <-entered)
	}
	select {
	case <-entered:
		t.Fatal("a check beyond the cap started")
	case <-time.After(100 * time.Millisecond):
	}

	// another tenant is not held up by dev
	wg.Go(func() {
		errs <- g.Verify(ctx, hostcheck.Target{Tenant: "admin", Host: "127.0.0.1"}, credentials.Credential{})
	})
	assert.Equal(t, "admin", <-entered)
	assert.EqualValues(t, max+1, peak.Load(), "dev never exceeded the cap (+1 for admin)")

	// a waiting check whose deadline passes fails with ErrTimeout and says why
	// (the check holding the slot ignores its deadline: the slot stays taken
	// until the check really returns)
	stubborn := verifierFunc(func(context.Context, hostcheck.Target) error {
		entered <- "stubborn"
		<-release
		return nil
	})
	short := hostcheck.Policy{CheckTimeout: 150 * time.Millisecond, MaxPerTenant: 1, AllowPrivate: true}.Guard(stubborn)
	wg.Go(func() { errs <- short.Verify(ctx, dev, credentials.Credential{}) })
	assert.Equal(t, "stubborn", <-entered)
	start := time.Now()
	err := short.Verify(ctx, dev, credentials.Credential{})
	require.ErrorIs(t, err, hostcheck.ErrTimeout)
	assert.Contains(t, err.Error(), `1 checks were already running for tenant "dev"`)
	assert.Less(t, time.Since(start), 300*time.Millisecond)

	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err, "the checks that waited for a slot ran")
	}
}

func TestGuardEvalEnv(t *testing.T) {
	ev := evaluatorFunc(func(_ context.Context, _ hostcheck.Target, name string) (string, error) {
		return "/scratch/" + name, nil
	})
	p := hostcheck.Policy{AllowPrivate: true}
	g := p.GuardEvaluator(ev)
	out, err := g.EvalEnv(context.Background(), hostcheck.Target{Host: "127.0.0.1"}, credentials.Credential{}, "SCRATCH")
	require.NoError(t, err)
	assert.Equal(t, "/scratch/SCRATCH", out)
	require.ErrorIs(t, g.Verify(context.Background(), hostcheck.Target{Host: "127.0.0.1"}, credentials.Credential{}), hostcheck.ErrUnsupported)

	_, err = g.EvalEnv(context.Background(), hostcheck.Target{Host: "169.254.169.254"}, credentials.Credential{}, "X")
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)

	v := p.Guard(verifierFunc(func(context.Context, hostcheck.Target) error { return nil }))
	_, err = v.EvalEnv(context.Background(), hostcheck.Target{Host: "127.0.0.1"}, credentials.Credential{}, "X")
	require.ErrorIs(t, err, hostcheck.ErrUnsupported)

	// A value that is both is guarded as what it is given as, never
	// discovered: Guard leaves its EvalEnv out, GuardBoth runs both.
	both := verifierEvaluator{verifierFunc(func(context.Context, hostcheck.Target) error { return nil }), ev}
	_, err = p.Guard(both).EvalEnv(context.Background(), hostcheck.Target{Host: "127.0.0.1"}, credentials.Credential{}, "X")
	require.ErrorIs(t, err, hostcheck.ErrUnsupported)
	require.ErrorIs(t, p.GuardEvaluator(both).Verify(context.Background(), hostcheck.Target{Host: "127.0.0.1"}, credentials.Credential{}),
		hostcheck.ErrUnsupported)
	g = p.GuardBoth(both, both)
	require.NoError(t, g.Verify(context.Background(), hostcheck.Target{Host: "127.0.0.1"}, credentials.Credential{}))
	out, err = g.EvalEnv(context.Background(), hostcheck.Target{Host: "127.0.0.1"}, credentials.Credential{}, "X")
	require.NoError(t, err)
	assert.Equal(t, "/scratch/X", out)
}

type verifierEvaluator struct {
	verifierFunc
	evaluatorFunc
}

// listen accepts on 127.0.0.1 and counts connections.
func listen(t *testing.T) (port string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	accepted = new(atomic.Int32)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close(); <-done })
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	return port, accepted
}

func TestDialConnectsToTheCheckedAddressOnly(t *testing.T) {
	port, accepted := listen(t)
	ctx := context.Background()

	// DNS rebinding: the first answer is allowed, later ones point at the
	// metadata service. The Guard's resolution is the one dialled.
	var lookups atomic.Int32
	rebinding := hostchecktest.ResolverFunc(func(context.Context, string, string) ([]netip.Addr, error) {
		if lookups.Add(1) == 1 {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return []netip.Addr{netip.MustParseAddr("169.254.169.254")}, nil
	})
	p := hostcheck.Policy{AllowPrivate: true, Resolver: rebinding}
	g := p.Guard(verifierFunc(func(ctx context.Context, t hostcheck.Target) error {
		c, err := p.Dial(ctx, "tcp", net.JoinHostPort(t.Host, port))
		if err != nil {
			return err
		}
		return c.Close()
	}))
	require.NoError(t, g.Verify(ctx, hostcheck.Target{Tenant: "dev", Host: "rebind.test"}, credentials.Credential{}))
	assert.EqualValues(t, 1, lookups.Load(), "resolved once per check")

	// a guarded verifier guarded again (a Mux of guarded adapters under a
	// Guard) still resolves once
	lookups.Store(0)
	require.NoError(t, p.Guard(g).Verify(ctx, hostcheck.Target{Tenant: "dev", Host: "rebind.test"}, credentials.Credential{}))
	assert.EqualValues(t, 1, lookups.Load(), "resolved once per check")

	// Dial on its own resolves and checks too
	lookups.Store(1)
	_, err := p.Dial(ctx, "tcp", net.JoinHostPort("rebind.test", port))
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
	assert.Contains(t, err.Error(), `host "rebind.test" resolves to 169.254.169.254`)

	// private addresses are dialled only when allowed
	_, err = hostcheck.Policy{}.Dial(ctx, "tcp", net.JoinHostPort("127.0.0.1", port))
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
	assert.Eventually(t, func() bool { return accepted.Load() == 2 }, time.Second, 10*time.Millisecond, "only the allowed dials connected")
	time.Sleep(50 * time.Millisecond)
	assert.EqualValues(t, 2, accepted.Load())
}

func TestDialErrors(t *testing.T) {
	ctx := context.Background()
	p := hostcheck.Policy{AllowPrivate: true}

	// a port nobody listens on
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	_, err = p.Dial(ctx, "tcp", addr)
	require.ErrorIs(t, err, hostcheck.ErrUnreachable)
	assert.Contains(t, err.Error(), addr+" refused the connection")

	_, err = p.Dial(ctx, "tcp", "no-port")
	require.ErrorIs(t, err, hostcheck.ErrUnreachable)

	_, err = hostcheck.Policy{Resolver: hostchecktest.Resolver{}}.Dial(ctx, "tcp", "nowhere.test:22")
	require.ErrorIs(t, err, hostcheck.ErrUnreachable)
	assert.True(t, strings.Contains(err.Error(), "does not exist"), err.Error())

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = p.Dial(cctx, "tcp", addr)
	require.ErrorIs(t, err, context.Canceled)
}

// Outcome gives each classified failure its fixed name, wrapped or not,
// and never the error's own text (an operator's label set stays bounded).
func TestOutcome(t *testing.T) {
	assert.Equal(t, "ok", hostcheck.Outcome(nil))
	for err, want := range map[error]string{
		hostcheck.ErrBadCredential:                             "bad_credential",
		hostcheck.ErrHostKeyMismatch:                           "host_key_mismatch",
		hostcheck.ErrUnreachable:                               "unreachable",
		hostcheck.ErrTimeout:                                   "timeout",
		hostcheck.ErrRootDirMissing:                            "rootdir_missing",
		hostcheck.ErrForbiddenAddress:                          "forbidden_address",
		hostcheck.ErrUnsupported:                               "unsupported",
		errors.New("ssh: handshake failed: secret-ish detail"): "error",
	} {
		assert.Equal(t, want, hostcheck.Outcome(err), "%v", err)
		assert.Equal(t, want, hostcheck.Outcome(fmt.Errorf("dial 10.0.0.1:22: %w", err)), "wrapped %v", err)
	}
}
