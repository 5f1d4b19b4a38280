// Package sshcheck checks LINUX systems over SSH and SFTP
// (golang.org/x/crypto/ssh, github.com/pkg/sftp): a credential is good
// when it logs in and rootDir can be stat'ed over SFTP. It also evaluates
// HOST_EVAL($VAR) by running `echo $VAR` over the same kind of login.
//
// Every check runs under a hostcheck.Policy: the policy's dialer (so the
// SSRF guard applies to the address actually connected to), a deadline on
// each protocol exchange (a peer that accepts TCP and then stays silent
// fails after HandshakeTimeout), a bound on the whole check and a
// per-tenant concurrency cap. Host keys are pinned per system: the first
// successful login records the key the host presented (trust on first use),
// later a different key fails with hostcheck.ErrHostKeyMismatch before any
// credential is sent.
//
// Errors wrap the hostcheck failure classes with a message a user can act
// on; they never contain a password or key.
package sshcheck

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
)

// Authentication methods a Checker can check (Target.AuthnMethod).
const (
	Password = "PASSWORD"
	PKIKeys  = "PKI_KEYS"
)

// maxEvalOutput bounds what EvalEnv reads from a host (a hostile host could
// send without end).
const maxEvalOutput = 64 << 10

// Checker implements hostcheck.Verifier and hostcheck.Evaluator over SSH.
// It is safe for concurrent use.
type Checker struct {
	keys   hostcheck.HostKeys
	policy hostcheck.Policy
	guard  *hostcheck.Guarded
}

var (
	_ hostcheck.Verifier  = (*Checker)(nil)
	_ hostcheck.Evaluator = (*Checker)(nil)
)

// New returns a Checker that pins host keys in keys and runs every check
// under policy (its zero fields take the hostcheck defaults). Its Verify
// and EvalEnv already run under policy.Guard (deadline, SSRF guard,
// per-tenant cap); guarding it again, say in a guarded Mux, costs only a
// second concurrency slot (the host is still resolved once). It panics if
// keys is nil.
func New(keys hostcheck.HostKeys, policy hostcheck.Policy) *Checker {
	if keys == nil {
		panic("sshcheck.New: nil HostKeys")
	}
	c := &Checker{keys: keys, policy: policy.WithDefaults()}
	c.guard = c.policy.GuardBoth(unguarded{c}, unguarded{c})
	return c
}

// Verify logs in to t.Host as t.LoginUser with the credential of
// t.AuthnMethod (PASSWORD or PKI_KEYS) and stats t.RootDir over SFTP
// (skipped when RootDir is empty). The host key is pinned on the first
// successful login (a target without SystemID has nowhere to pin it and is
// checked without pinning).
func (c *Checker) Verify(ctx context.Context, t hostcheck.Target, cred credentials.Credential) error {
	return c.guard.Verify(ctx, t, cred)
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// EvalEnv logs in as Verify does and returns the standard output of
// `echo $name` (at most 64 KiB, untrimmed: the caller keeps the last line,
// since a login banner may come first). name must match
// [A-Za-z_][A-Za-z0-9_]*.
func (c *Checker) EvalEnv(ctx context.Context, t hostcheck.Target, cred credentials.Credential, name string) (string, error) {
	if !envName.MatchString(name) {
		return "", fmt.Errorf("%w: %q is not an environment variable name (letters, digits and _, not starting with a digit)", credentials.ErrInvalid, name)
	}
	return c.guard.EvalEnv(ctx, t, cred, name)
}

// unguarded is the check itself; Checker runs it under the policy's Guard.
type unguarded struct{ c *Checker }

func (u unguarded) Verify(ctx context.Context, t hostcheck.Target, cred credentials.Credential) error {
	l, err := u.c.login(ctx, t, cred)
	if err != nil {
		return err
	}
	defer l.close()
	if t.RootDir == "" {
		return nil
	}
	return l.statRootDir(ctx, t.RootDir)
}

func (u unguarded) EvalEnv(ctx context.Context, t hostcheck.Target, cred credentials.Credential, name string) (string, error) {
	l, err := u.c.login(ctx, t, cred)
	if err != nil {
		return "", err
	}
	defer l.close()
	return l.echo(ctx, name)
}

// conn is one logged-in SSH connection of a check.
type conn struct {
	policy hostcheck.Policy
	addr   string
	user   string
	net    net.Conn
	client *ssh.Client
	stop   func() bool // stops closing net when ctx ends
}

func (l *conn) close() {
	l.client.Close()
	l.net.Close()
	l.stop()
}

// login dials t, checks the host key, logs in and pins the key on first use.
func (c *Checker) login(ctx context.Context, t hostcheck.Target, cred credentials.Credential) (*conn, error) {
	user := t.LoginUser
	if user == "" {
		user = cred.LoginUser
	}
	if user == "" {
		return nil, fmt.Errorf("%w: no login user: the system has no effectiveUserId and the credential no loginUser", hostcheck.ErrBadCredential)
	}
	auth, err := authMethods(t.AuthnMethod, cred)
	if err != nil {
		return nil, err
	}
	hk, err := c.pinned(ctx, t)
	if err != nil {
		return nil, err
	}
	port := t.Port
	if port <= 0 {
		port = 22
	}
	addr := net.JoinHostPort(hostcheck.HostName(t.Host), strconv.Itoa(port))
	nc, err := c.policy.Dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	// ssh.NewClientConn ignores contexts: a cancelled check closes the
	// connection, and each exchange runs under a connection deadline.
	stop := context.AfterFunc(ctx, func() { nc.Close() })
	deadline := c.phase(ctx, nc)
	cfg := &ssh.ClientConfig{
		User:              user,
		Auth:              auth,
		HostKeyCallback:   hk.callback,
		HostKeyAlgorithms: hk.algorithms(),
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, addr, cfg)
	if err != nil {
		nc.Close()
		stop()
		return nil, c.handshakeError(ctx, deadline, err, hk, t, addr, user)
	}
	l := &conn{policy: c.policy, addr: addr, user: user, net: nc, client: ssh.NewClient(sc, chans, reqs), stop: stop}
	if hk.seen != nil && t.SystemID != "" {
		key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(hk.seen)))
		if err := c.keys.PinHostKey(ctx, t.Tenant, t.SystemID, key); err != nil {
			l.close()
			return nil, fmt.Errorf("sshcheck: recording the host key of system %s: %w", t.SystemID, err)
		}
	}
	return l, nil
}

// phase gives the next protocol exchange HandshakeTimeout (never past the
// check's own deadline) and returns the deadline set.
func (c *Checker) phase(ctx context.Context, nc net.Conn) time.Time {
	return phase(ctx, c.policy, nc)
}

func phase(ctx context.Context, p hostcheck.Policy, nc net.Conn) time.Time {
	d := time.Now().Add(p.HandshakeTimeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		d = cd
	}
	_ = nc.SetDeadline(d)
	return d
}

func timedOut(deadline time.Time, err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() || !time.Now().Before(deadline)
}

func (c *Checker) handshakeError(ctx context.Context, deadline time.Time, err error, hk *hostKeys, t hostcheck.Target, addr, user string) error {
	switch {
	case hk.mismatch != nil:
		return fmt.Errorf("%w: %s presented the %s host key %s, but system %s pinned the %s key %s. "+
			"If the host was re-keyed on purpose, an administrator must clear the pinned key; otherwise the connection may be intercepted",
			hostcheck.ErrHostKeyMismatch, addr, hk.mismatch.Type(), ssh.FingerprintSHA256(hk.mismatch), t.SystemID, hk.pinned.Type(), ssh.FingerprintSHA256(hk.pinned))
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case timedOut(deadline, err) || ctx.Err() != nil:
		if hk.called {
			return fmt.Errorf("%w: %s did not complete the login of user %q within %s", hostcheck.ErrTimeout, addr, user, c.policy.HandshakeTimeout)
		}
		return fmt.Errorf("%w: %s accepted the connection but did not complete the SSH handshake within %s (is an SSH server listening on that port?)", hostcheck.ErrTimeout, addr, c.policy.HandshakeTimeout)
	case strings.Contains(err.Error(), "unable to authenticate"):
		what := "password"
		if t.AuthnMethod == PKIKeys {
			what = "key (is its public key in the user's authorized_keys?)"
		}
		return fmt.Errorf("%w: %s refused the login of user %q with the given %s; check the login user and the credential", hostcheck.ErrBadCredential, addr, user, what)
	case !hk.called:
		return fmt.Errorf("%w: %s did not complete an SSH handshake (is an SSH server listening on that port?): %v", hostcheck.ErrUnreachable, addr, err)
	default:
		return fmt.Errorf("%w: the SSH login to %s as %q failed: %v", hostcheck.ErrUnreachable, addr, user, err)
	}
}

// statRootDir stats dir over SFTP.
func (l *conn) statRootDir(ctx context.Context, dir string) error {
	deadline := phase(ctx, l.policy, l.net)
	sc, err := sftp.NewClient(l.client)
	if err != nil {
		return l.exchangeError(ctx, deadline, "starting SFTP", err)
	}
	// Close the SSH connection before the SFTP client: sftp's Close waits
	// for the subsystem to exit, which a stalled server never does.
	defer sc.Close()
	defer l.client.Close()
	fi, err := sc.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: %s does not exist on %s (for user %q); create it or correct the system's rootDir", hostcheck.ErrRootDirMissing, dir, l.addr, l.user)
	case errors.Is(err, os.ErrPermission):
		return fmt.Errorf("%w: user %q may not read %s on %s (permission denied)", hostcheck.ErrRootDirMissing, l.user, dir, l.addr)
	case err != nil:
		return l.exchangeError(ctx, deadline, "reading rootDir "+dir, err)
	case !fi.IsDir():
		return fmt.Errorf("%w: %s on %s is a file, not a directory", hostcheck.ErrRootDirMissing, dir, l.addr)
	}
	return nil
}

// echo runs `echo $name` and returns its standard output.
func (l *conn) echo(ctx context.Context, name string) (string, error) {
	deadline := phase(ctx, l.policy, l.net)
	s, err := l.client.NewSession()
	if err != nil {
		return "", l.exchangeError(ctx, deadline, "opening a session", err)
	}
	defer s.Close()
	var out, stderr limitedBuffer
	out.max, stderr.max = maxEvalOutput, 4<<10
	s.Stdout, s.Stderr = &out, &stderr
	if err := s.Run("echo $" + name); err != nil {
		var exit *ssh.ExitError
		if errors.As(err, &exit) {
			return "", fmt.Errorf("%w: `echo $%s` failed on %s (exit status %d): %s", hostcheck.ErrUnreachable, name, l.addr, exit.ExitStatus(), strings.TrimSpace(stderr.String()))
		}
		return "", l.exchangeError(ctx, deadline, "running `echo $"+name+"`", err)
	}
	return out.String(), nil
}

func (l *conn) exchangeError(ctx context.Context, deadline time.Time, what string, err error) error {
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		return ctx.Err()
	case timedOut(deadline, err) || ctx.Err() != nil:
		return fmt.Errorf("%w: user %q logged in to %s, but %s did not finish within %s", hostcheck.ErrTimeout, l.user, l.addr, what, l.policy.HandshakeTimeout)
	default:
		return fmt.Errorf("%w: user %q logged in to %s, but %s failed: %v", hostcheck.ErrUnreachable, l.user, l.addr, what, err)
	}
}

// limitedBuffer keeps the first max bytes written and drops the rest.
type limitedBuffer struct {
	bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

var _ io.Writer = (*limitedBuffer)(nil)
