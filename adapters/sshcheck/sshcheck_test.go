package sshcheck_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/tapis-go/tapis/adapters/sshcheck"
	"github.com/tapis-go/tapis/adapters/sshcheck/sshchecktest"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/hostcheck/hostchecktest"
)

const (
	testUser     = "tapisuser"
	testPassword = "In-Process-Pass-7301"
)

// fixture is an in-process server with the test user, its rootDir and
// every authorized test key.
type fixture struct {
	srv     *sshchecktest.Server
	keys    map[string]testKey
	rootDir string
	hk      *hostchecktest.HostKeys
}

func newFixture(t *testing.T, opts sshchecktest.Options) *fixture {
	t.Helper()
	keys := testKeys(t)
	var authorized []ssh.PublicKey
	for name, k := range keys {
		if name != "unauthorized-rsa" {
			authorized = append(authorized, k.public)
		}
	}
	opts.Users = map[string]sshchecktest.User{testUser: {Password: testPassword, AuthorizedKeys: authorized}}
	if opts.Env == nil {
		opts.Env = map[string]string{"SCRATCH": "/scratch/tapisuser", "HOME": "/home/tapisuser"}
	}
	return &fixture{srv: sshchecktest.NewServer(t, opts), keys: keys, rootDir: t.TempDir(), hk: hostchecktest.NewHostKeys()}
}

// target is a PASSWORD target on the fixture's server.
func (f *fixture) target(t *testing.T) hostcheck.Target {
	host, port, err := net.SplitHostPort(f.srv.Addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	return hostcheck.Target{
		Tenant: "dev", SystemID: "sys-" + strings.ReplaceAll(t.Name(), "/", "-"), SystemType: "LINUX",
		AuthnMethod: sshcheck.Password, Host: host, Port: p, LoginUser: testUser, RootDir: f.rootDir,
	}
}

// testPolicy allows loopback (the test servers) with short timeouts.
func testPolicy() hostcheck.Policy {
	return hostcheck.Policy{AllowPrivate: true, ConnectTimeout: 2 * time.Second, HandshakeTimeout: 5 * time.Second, CheckTimeout: 10 * time.Second}
}

func (f *fixture) checker(p hostcheck.Policy) *sshcheck.Checker { return sshcheck.New(f.hk, p) }

func keyTarget(t hostcheck.Target) hostcheck.Target {
	t.AuthnMethod = sshcheck.PKIKeys
	return t
}

func TestVerifyGoodCredentials(t *testing.T) {
	f := newFixture(t, sshchecktest.Options{})
	c := f.checker(testPolicy())
	ctx := context.Background()
	base := f.target(t)

	require.NoError(t, c.Verify(ctx, base, credentials.Credential{Password: testPassword}), "password")

	escaped := func(s string) string { return strings.ReplaceAll(s, "\n", `\n`) }
	for _, name := range []string{"rsa-pkcs1", "rsa-pkcs8", "rsa-openssh", "ecdsa-sec1", "ecdsa-pkcs8", "ecdsa-openssh", "ed25519-openssh", "ed25519-pkcs8"} {
		k := f.keys[name]
		require.NoError(t, c.Verify(ctx, keyTarget(base), credentials.Credential{PrivateKey: k.private, PublicKey: k.authorized()}), name)
		require.NoError(t, c.Verify(ctx, keyTarget(base), credentials.Credential{PrivateKey: escaped(k.private), PublicKey: k.authorized()}), name+" with escaped newlines")
	}

	// the login user may come from the credential
	noUser := base
	noUser.LoginUser = ""
	require.NoError(t, c.Verify(ctx, noUser, credentials.Credential{LoginUser: testUser, Password: testPassword}))

	// without a rootDir the check is the login alone
	noRoot := base
	noRoot.RootDir = ""
	require.NoError(t, c.Verify(ctx, noRoot, credentials.Credential{Password: testPassword}))
}

// failure is one bad check and what it must answer.
type failure struct {
	name   string
	target func(hostcheck.Target) hostcheck.Target
	cred   credentials.Credential
	want   error
	inMsg  string
}

func TestVerifyFailuresAreClassified(t *testing.T) {
	f := newFixture(t, sshchecktest.Options{})
	c := f.checker(testPolicy())
	ctx := context.Background()
	same := func(t hostcheck.Target) hostcheck.Target { return t }
	file := filepath.Join(f.rootDir, "a-file")
	require.NoError(t, os.WriteFile(file, []byte("x"), 0o600))
	k := f.keys["ed25519-openssh"]
	other := f.keys["unauthorized-rsa"]

	cases := []failure{
		{"wrong password", same, credentials.Credential{Password: "Wrong-Pass-0000"}, hostcheck.ErrBadCredential, `refused the login of user "tapisuser" with the given password`},
		{"unknown user", func(t hostcheck.Target) hostcheck.Target { t.LoginUser = "nobody"; return t }, credentials.Credential{Password: testPassword}, hostcheck.ErrBadCredential, `user "nobody"`},
		{"wrong key", keyTarget, credentials.Credential{PrivateKey: other.private}, hostcheck.ErrBadCredential, "authorized_keys"},
		{"unknown user with a key", func(t hostcheck.Target) hostcheck.Target { t = keyTarget(t); t.LoginUser = "nobody"; return t }, credentials.Credential{PrivateKey: k.private}, hostcheck.ErrBadCredential, `user "nobody"`},
		{"no password", same, credentials.Credential{PrivateKey: k.private}, hostcheck.ErrBadCredential, "has no password"},
		{"no key", keyTarget, credentials.Credential{Password: testPassword}, hostcheck.ErrBadCredential, "has no privateKey"},
		{"unreadable key", keyTarget, credentials.Credential{PrivateKey: "-----BEGIN RSA PRIVATE KEY-----\nnot base64\n-----END RSA PRIVATE KEY-----"}, hostcheck.ErrBadCredential, "could not be read"},
		{"public key of another pair", keyTarget, credentials.Credential{PrivateKey: k.private, PublicKey: other.authorized()}, hostcheck.ErrBadCredential, "not the public half"},
		{"no login user", func(t hostcheck.Target) hostcheck.Target { t.LoginUser = ""; return t }, credentials.Credential{Password: testPassword}, hostcheck.ErrBadCredential, "no login user"},
		{"rootDir missing", func(t hostcheck.Target) hostcheck.Target { t.RootDir += "/missing"; return t }, credentials.Credential{Password: testPassword}, hostcheck.ErrRootDirMissing, f.rootDir + "/missing does not exist"},
		{"rootDir is a file", func(t hostcheck.Target) hostcheck.Target { t.RootDir = file; return t }, credentials.Credential{Password: testPassword}, hostcheck.ErrRootDirMissing, "is a file, not a directory"},
		{"access key method", func(t hostcheck.Target) hostcheck.Target { t.AuthnMethod = "ACCESS_KEY"; return t }, credentials.Credential{AccessKey: "AKIA-TEST", AccessSecret: "S3-Secret-Never-Shown"}, hostcheck.ErrUnsupported, "not ACCESS_KEY"},
		{"closed port", func(t hostcheck.Target) hostcheck.Target { t.Port = closedPort(t); return t }, credentials.Credential{Password: testPassword}, hostcheck.ErrUnreachable, "refused the connection"},
		{"unknown host name", func(t hostcheck.Target) hostcheck.Target { t.Host = "no-such-host.invalid"; return t }, credentials.Credential{Password: testPassword}, hostcheck.ErrUnreachable, "does not exist"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := c.Verify(ctx, tc.target(f.target(t)), tc.cred)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.inMsg)
			assertNoSecret(t, err, tc.cred)
		})
	}
	assert.Equal(t, 2, f.hk.Pins(), "only the two checks that logged in (rootDir failures) pinned a key")
}

// closedPort returns a loopback port nobody listens on.
func closedPort(t hostcheck.Target) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer ln.Close()
	_ = t
	return ln.Addr().(*net.TCPAddr).Port
}

// assertNoSecret checks that no secret of cred shows in err.
func assertNoSecret(t *testing.T, err error, cred credentials.Credential) {
	t.Helper()
	for _, s := range []string{cred.Password, cred.AccessSecret} {
		if s != "" {
			assert.NotContains(t, err.Error(), s)
		}
	}
	for _, line := range strings.Split(cred.PrivateKey, "\n") {
		if len(line) > 16 && !strings.HasPrefix(line, "-----") {
			assert.NotContains(t, err.Error(), line[:16])
		}
	}
}

func TestHostKeyPinning(t *testing.T) {
	f := newFixture(t, sshchecktest.Options{})
	c := f.checker(testPolicy())
	ctx := context.Background()
	tgt := f.target(t)
	good := credentials.Credential{Password: testPassword}

	// a failed login pins nothing
	require.ErrorIs(t, c.Verify(ctx, tgt, credentials.Credential{Password: "Wrong-Pass-0000"}), hostcheck.ErrBadCredential)
	assert.Zero(t, f.hk.Pins())

	// trust on first use: the first successful login records the key
	require.NoError(t, c.Verify(ctx, tgt, good))
	assert.Equal(t, 1, f.hk.Pins())
	pinned, err := f.hk.HostKey(ctx, tgt.Tenant, tgt.SystemID)
	require.NoError(t, err)
	assert.Equal(t, f.srv.HostKey(), pinned)

	// the same key again: no new pin
	require.NoError(t, c.Verify(ctx, tgt, good))
	assert.Equal(t, 1, f.hk.Pins())

	// the host changes its key: hard, distinct failure, before any
	// credential reaches the host
	f.srv.SetHostKeys(sshchecktest.NewHostKey(t))
	attempts := f.srv.AuthAttempts()
	err = c.Verify(ctx, tgt, good)
	require.ErrorIs(t, err, hostcheck.ErrHostKeyMismatch)
	assert.NotErrorIs(t, err, hostcheck.ErrBadCredential)
	assert.Contains(t, err.Error(), "SHA256:")
	assert.Contains(t, err.Error(), "clear the pinned key")
	assert.Equal(t, attempts, f.srv.AuthAttempts(), "no credential sent to a host whose key changed")
	_, err = c.EvalEnv(ctx, tgt, good, "HOME")
	require.ErrorIs(t, err, hostcheck.ErrHostKeyMismatch)
	assert.Equal(t, 1, f.hk.Pins(), "a mismatch never re-pins")
	again, _ := f.hk.HostKey(ctx, tgt.Tenant, tgt.SystemID)
	assert.Equal(t, pinned, again)

	// pins are per system: another system on the same host pins afresh
	other := tgt
	other.SystemID += "-other"
	require.NoError(t, c.Verify(ctx, other, good))
	assert.Equal(t, 2, f.hk.Pins())
}

func TestHostKeyPinnedAmongSeveral(t *testing.T) {
	// a host with an ed25519 and an RSA key: whichever is pinned is the one
	// asked for (else the host presents its preferred key and the check
	// fails as a mismatch)
	rsaHost, err := ssh.ParsePrivateKey([]byte(testKeys(t)["rsa-pkcs1"].private))
	require.NoError(t, err)
	edHost := sshchecktest.NewHostKey(t)
	for _, pin := range []ssh.Signer{rsaHost, edHost} {
		f := newFixture(t, sshchecktest.Options{HostKeys: []ssh.Signer{edHost, rsaHost}})
		tgt := f.target(t)
		f.hk.Set(tgt.Tenant, tgt.SystemID, string(ssh.MarshalAuthorizedKey(pin.PublicKey())))
		require.NoError(t, f.checker(testPolicy()).Verify(context.Background(), tgt, credentials.Credential{Password: testPassword}), pin.PublicKey().Type())
		assert.Zero(t, f.hk.Pins())
	}
}

func TestEvalEnv(t *testing.T) {
	f := newFixture(t, sshchecktest.Options{})
	c := f.checker(testPolicy())
	ctx := context.Background()
	tgt := f.target(t)

	out, err := c.EvalEnv(ctx, tgt, credentials.Credential{Password: testPassword}, "SCRATCH")
	require.NoError(t, err)
	assert.Equal(t, "/scratch/tapisuser\n", out)

	out, err = c.EvalEnv(ctx, keyTarget(tgt), credentials.Credential{PrivateKey: f.keys["ed25519-openssh"].private}, "HOME")
	require.NoError(t, err)
	assert.Equal(t, "/home/tapisuser\n", out)

	out, err = c.EvalEnv(ctx, tgt, credentials.Credential{Password: testPassword}, "MY_MISSING_VAR")
	require.NoError(t, err)
	assert.Equal(t, "\n", out, "an unset variable is an empty line; the caller applies the default")

	for _, bad := range []string{"", "0SCRATCH", "$HOME", "HOME;id", "A B", "HOME)"} {
		_, err = c.EvalEnv(ctx, tgt, credentials.Credential{Password: testPassword}, bad)
		require.ErrorIs(t, err, credentials.ErrInvalid, bad)
	}

	_, err = c.EvalEnv(ctx, tgt, credentials.Credential{Password: "Wrong-Pass-0000"}, "HOME")
	require.ErrorIs(t, err, hostcheck.ErrBadCredential)
	assert.NotContains(t, err.Error(), "Wrong-Pass-0000")
}

func TestForbiddenAddressesAreNeverDialled(t *testing.T) {
	f := newFixture(t, sshchecktest.Options{})
	p := testPolicy()
	p.AllowPrivate = false
	c := f.checker(p)
	attempts := f.srv.AuthAttempts()
	err := c.Verify(context.Background(), f.target(t), credentials.Credential{Password: testPassword})
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
	assert.Contains(t, err.Error(), "127.0.0.1 is a loopback address")
	assert.Equal(t, attempts, f.srv.AuthAttempts())

	tgt := f.target(t)
	tgt.Host = "169.254.169.254"
	_, err = f.checker(testPolicy()).EvalEnv(context.Background(), tgt, credentials.Credential{Password: testPassword}, "HOME")
	require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
}

// assertWithin checks a failure's duration: not before the timeout that
// should cause it (minus a little), and within that timeout +10%.
func assertWithin(t *testing.T, elapsed, timeout time.Duration) {
	t.Helper()
	t.Logf("failed after %s (timeout %s, bound %s)", elapsed.Round(time.Millisecond), timeout, timeout+timeout/10)
	assert.Greater(t, elapsed, timeout*9/10, "failed before the timeout: something else went wrong")
	assert.LessOrEqual(t, elapsed, timeout+timeout/10, "not within the timeout +10%")
}

const stallTimeout = 2 * time.Second

func TestStalledPeerFailsWithinTheHandshakeTimeout(t *testing.T) {
	t.Parallel()
	addr := hostchecktest.StalledListener(t)
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	pol := testPolicy()
	pol.HandshakeTimeout = stallTimeout
	c := sshcheck.New(hostchecktest.NewHostKeys(), pol)
	tgt := hostcheck.Target{Tenant: "dev", SystemID: "stalled", AuthnMethod: sshcheck.Password, Host: host, Port: p, LoginUser: testUser, RootDir: "/"}

	start := time.Now()
	err := c.Verify(context.Background(), tgt, credentials.Credential{Password: testPassword})
	assertWithin(t, time.Since(start), stallTimeout)
	require.ErrorIs(t, err, hostcheck.ErrTimeout)
	assert.Contains(t, err.Error(), "accepted the connection but did not complete the SSH handshake within 2s")

	start = time.Now()
	_, err = c.EvalEnv(context.Background(), tgt, credentials.Credential{Password: testPassword}, "HOME")
	assertWithin(t, time.Since(start), stallTimeout)
	require.ErrorIs(t, err, hostcheck.ErrTimeout)
}

func TestStalledSFTPFailsWithinTheHandshakeTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshchecktest.Options{StallSFTP: true})
	pol := testPolicy()
	pol.HandshakeTimeout = stallTimeout
	c := f.checker(pol)
	start := time.Now()
	err := c.Verify(context.Background(), f.target(t), credentials.Credential{Password: testPassword})
	// the bound includes the login before the stalled exchange
	assertWithin(t, time.Since(start), stallTimeout)
	require.ErrorIs(t, err, hostcheck.ErrTimeout)
	assert.Contains(t, err.Error(), "starting SFTP did not finish within 2s")
}

func TestStalledSFTPFailsWithinTheCheckTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshchecktest.Options{StallSFTP: true})
	pol := testPolicy()
	pol.HandshakeTimeout = time.Minute
	pol.CheckTimeout = stallTimeout
	c := f.checker(pol)
	start := time.Now()
	err := c.Verify(context.Background(), f.target(t), credentials.Credential{Password: testPassword})
	assertWithin(t, time.Since(start), stallTimeout)
	require.ErrorIs(t, err, hostcheck.ErrTimeout)
}

func TestStalledCommandFailsWithinTheHandshakeTimeout(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sshchecktest.Options{StallExec: true})
	pol := testPolicy()
	pol.HandshakeTimeout = stallTimeout
	c := f.checker(pol)
	start := time.Now()
	_, err := c.EvalEnv(context.Background(), f.target(t), credentials.Credential{Password: testPassword}, "HOME")
	assertWithin(t, time.Since(start), stallTimeout)
	require.ErrorIs(t, err, hostcheck.ErrTimeout)
	assert.Contains(t, err.Error(), "running `echo $HOME` did not finish")
}

func TestCancelEndsACheckAtOnce(t *testing.T) {
	t.Parallel()
	addr := hostchecktest.StalledListener(t)
	host, port, _ := net.SplitHostPort(addr)
	p, _ := strconv.Atoi(port)
	c := sshcheck.New(hostchecktest.NewHostKeys(), testPolicy())
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := c.Verify(ctx, hostcheck.Target{Host: host, Port: p, AuthnMethod: sshcheck.Password, LoginUser: testUser}, credentials.Credential{Password: testPassword})
	require.ErrorIs(t, err, context.Canceled)
	assert.Less(t, time.Since(start), time.Second)
}

// TestNoGoroutineLeak runs every kind of check, passing and failing, and
// then expects the goroutine count back where it started (the servers'
// per-connection goroutines end when the client closes its side).
func TestNoGoroutineLeak(t *testing.T) {
	good := newFixture(t, sshchecktest.Options{})
	stallSFTP := newFixture(t, sshchecktest.Options{StallSFTP: true})
	stallExec := newFixture(t, sshchecktest.Options{StallExec: true})
	stalled := hostchecktest.StalledListener(t)
	sHost, sPort, _ := net.SplitHostPort(stalled)
	sp, _ := strconv.Atoi(sPort)
	pol := testPolicy()
	pol.HandshakeTimeout = 300 * time.Millisecond
	ctx := context.Background()
	pw := credentials.Credential{Password: testPassword}

	run := func() {
		c := good.checker(pol)
		tgt := good.target(t)
		_ = c.Verify(ctx, tgt, pw)
		_ = c.Verify(ctx, keyTarget(tgt), credentials.Credential{PrivateKey: good.keys["rsa-pkcs1"].private})
		_ = c.Verify(ctx, tgt, credentials.Credential{Password: "Wrong-Pass-0000"})
		_ = c.Verify(ctx, keyTarget(tgt), credentials.Credential{PrivateKey: good.keys["unauthorized-rsa"].private})
		missing := tgt
		missing.RootDir += "/missing"
		_ = c.Verify(ctx, missing, pw)
		_, _ = c.EvalEnv(ctx, tgt, pw, "HOME")
		good.srv.SetHostKeys(sshchecktest.NewHostKey(t))
		_ = c.Verify(ctx, tgt, pw) // host key changed
		_ = stallSFTP.checker(pol).Verify(ctx, stallSFTP.target(t), pw)
		_, _ = stallExec.checker(pol).EvalEnv(ctx, stallExec.target(t), pw, "HOME")
		_ = c.Verify(ctx, hostcheck.Target{Host: sHost, Port: sp, AuthnMethod: sshcheck.Password, LoginUser: testUser}, pw)
		cctx, cancel := context.WithCancel(ctx)
		time.AfterFunc(50*time.Millisecond, cancel)
		_ = c.Verify(cctx, hostcheck.Target{Host: sHost, Port: sp, AuthnMethod: sshcheck.Password, LoginUser: testUser}, pw)
	}
	run() // warm up: lazily started runtime and library goroutines
	before := settled(t)
	for range 3 {
		run()
	}
	after := settled(t)
	t.Logf("goroutines before %d, after %d", len(before), len(after))
	if len(after) > len(before) {
		t.Errorf("goroutines left behind:\n%s", strings.Join(after, "\n\n"))
	}
}

// settled waits (up to 5 s) until no goroutine runs SSH or SFTP code, then
// returns the goroutines; it fails the test if some never end.
func settled(t *testing.T) []string {
	t.Helper()
	var busy []string
	for deadline := time.Now().Add(5 * time.Second); ; {
		all := goroutines()
		busy = busy[:0]
		for _, g := range all {
			if strings.Contains(g, "golang.org/x/crypto/ssh") || strings.Contains(g, "github.com/pkg/sftp") ||
				strings.Contains(g, "adapters/sshcheck.") || strings.Contains(g, "tapis/hostcheck.") {
				busy = append(busy, g)
			}
		}
		if len(busy) == 0 {
			return all
		}
		if time.Now().After(deadline) {
			t.Fatalf("SSH/SFTP goroutines still running after 5s:\n%s", strings.Join(busy, "\n\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// goroutines returns the stacks of the program's goroutines but the
// caller's (call it from the test's goroutine). Counting
// stacks, not runtime.NumGoroutine, leaves out the runtime's own
// finalizer and cleanup goroutines, which NumGoroutine counts while they
// run.
func goroutines() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(string(buf[:n]), "\n\n")[1:] // [0] is the caller
		}
		buf = make([]byte, 2*len(buf))
	}
}
