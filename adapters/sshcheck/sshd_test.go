package sshcheck_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/tapis-go/tapis/adapters/sshcheck"
	"github.com/tapis-go/tapis/adapters/sshcheck/sshchecktest"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/hostcheck/hostchecktest"
)

// sshd is the real OpenSSH server scripts/sshd-start.sh starts.
type sshd struct {
	host     string
	port     int
	dir      string
	fixture  map[string]string // the script's KEY: VALUE lines
	hostKeys []string          // the server's host keys, authorized_keys format
}

// realSSHD returns the server named by TAPIS_TEST_SSH_ADDR, its files in
// TAPIS_TEST_SSH_DIR (default /tmp/tapis-sshd), or skips the test.
func realSSHD(t *testing.T) *sshd {
	t.Helper()
	addr := os.Getenv("TAPIS_TEST_SSH_ADDR")
	if addr == "" {
		t.Skip("TAPIS_TEST_SSH_ADDR is not set: start a real sshd with scripts/sshd-start.sh and export TAPIS_TEST_SSH_ADDR (and TAPIS_TEST_SSH_DIR if not /tmp/tapis-sshd)")
	}
	dir := os.Getenv("TAPIS_TEST_SSH_DIR")
	if dir == "" {
		dir = "/tmp/tapis-sshd"
	}
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	s := &sshd{host: host, port: p, dir: dir, fixture: map[string]string{}}

	f, err := os.Open(filepath.Join(dir, "fixture"))
	require.NoError(t, err, "scripts/sshd-start.sh writes %s/fixture", dir)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok {
			s.fixture[k] = v
		}
	}
	require.NoError(t, sc.Err())
	for _, k := range []string{"SSH_USER", "SSH_PASSWORD", "SSH_KEY_ED25519", "SSH_KEY_RSA", "SSH_KEY_ECDSA", "SSH_ROOT_DIR", "SSH_ENV"} {
		require.NotEmpty(t, s.fixture[k], "%s in %s/fixture", k, dir)
	}
	pubs, err := filepath.Glob(filepath.Join(dir, "ssh_host_*_key.pub"))
	require.NoError(t, err)
	for _, p := range pubs {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		s.hostKeys = append(s.hostKeys, strings.TrimSpace(string(b)))
	}
	require.NotEmpty(t, s.hostKeys)
	return s
}

func (s *sshd) key(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(s.fixture[name])
	require.NoError(t, err)
	return string(b)
}

func (s *sshd) target(t *testing.T, method string) hostcheck.Target {
	return hostcheck.Target{
		Tenant: "dev", SystemID: "real-" + strings.ReplaceAll(t.Name(), "/", "-"), SystemType: "LINUX",
		AuthnMethod: method, Host: s.host, Port: s.port, LoginUser: s.fixture["SSH_USER"], RootDir: s.fixture["SSH_ROOT_DIR"],
	}
}

// sameKey reports whether two authorized_keys lines hold the same key
// (comments aside).
func sameKey(t *testing.T, a, b string) bool {
	ka, _, _, _, err := ssh.ParseAuthorizedKey([]byte(a))
	require.NoError(t, err)
	kb, _, _, _, err := ssh.ParseAuthorizedKey([]byte(b))
	require.NoError(t, err)
	return string(ka.Marshal()) == string(kb.Marshal())
}

func TestRealSSHD(t *testing.T) {
	s := realSSHD(t)
	ctx := context.Background()
	password := credentials.Credential{Password: s.fixture["SSH_PASSWORD"]}
	newChecker := func() (*sshcheck.Checker, *hostchecktest.HostKeys) {
		hk := hostchecktest.NewHostKeys()
		return sshcheck.New(hk, testPolicy()), hk
	}

	t.Run("password", func(t *testing.T) {
		c, hk := newChecker()
		tgt := s.target(t, sshcheck.Password)
		require.NoError(t, c.Verify(ctx, tgt, password))
		// trust on first use recorded one of the server's host keys
		require.Equal(t, 1, hk.Pins())
		pinned, _ := hk.HostKey(ctx, tgt.Tenant, tgt.SystemID)
		found := false
		for _, k := range s.hostKeys {
			found = found || sameKey(t, k, pinned)
		}
		assert.True(t, found, "pinned %q is one of the server's host keys", pinned)
		require.NoError(t, c.Verify(ctx, tgt, password), "second check against the pinned key")
		assert.Equal(t, 1, hk.Pins())
	})

	for _, k := range []struct{ name, file string }{
		{"PEM RSA (PKCS#1)", "SSH_KEY_RSA"},
		{"OpenSSH ed25519", "SSH_KEY_ED25519"},
		{"PKCS#8 ECDSA", "SSH_KEY_ECDSA"},
	} {
		t.Run(k.name, func(t *testing.T) {
			c, _ := newChecker()
			text := s.key(t, k.file)
			require.NoError(t, c.Verify(ctx, s.target(t, sshcheck.PKIKeys), credentials.Credential{PrivateKey: text}))
			escaped := strings.ReplaceAll(strings.TrimSpace(text), "\n", `\n`)
			require.NoError(t, c.Verify(ctx, s.target(t, sshcheck.PKIKeys), credentials.Credential{PrivateKey: escaped}), "escaped newlines")
		})
	}

	t.Run("wrong password", func(t *testing.T) {
		c, hk := newChecker()
		err := c.Verify(ctx, s.target(t, sshcheck.Password), credentials.Credential{Password: "Wrong-Pass-0000"})
		require.ErrorIs(t, err, hostcheck.ErrBadCredential)
		assert.NotContains(t, err.Error(), "Wrong-Pass-0000")
		assert.Zero(t, hk.Pins(), "a failed login pins nothing")
	})

	t.Run("wrong key", func(t *testing.T) {
		c, _ := newChecker()
		err := c.Verify(ctx, s.target(t, sshcheck.PKIKeys), credentials.Credential{PrivateKey: testKeys(t)["unauthorized-rsa"].private})
		require.ErrorIs(t, err, hostcheck.ErrBadCredential)
		assert.Contains(t, err.Error(), "authorized_keys")
	})

	t.Run("unknown user", func(t *testing.T) {
		c, _ := newChecker()
		tgt := s.target(t, sshcheck.Password)
		tgt.LoginUser = "tapis-no-such-user"
		err := c.Verify(ctx, tgt, password)
		require.ErrorIs(t, err, hostcheck.ErrBadCredential)
		assert.Contains(t, err.Error(), `"tapis-no-such-user"`)
		tgt.AuthnMethod = sshcheck.PKIKeys
		err = c.Verify(ctx, tgt, credentials.Credential{PrivateKey: s.key(t, "SSH_KEY_ED25519")})
		require.ErrorIs(t, err, hostcheck.ErrBadCredential)
	})

	t.Run("rootDir missing", func(t *testing.T) {
		c, _ := newChecker()
		tgt := s.target(t, sshcheck.Password)
		tgt.RootDir += "/no/such/dir"
		err := c.Verify(ctx, tgt, password)
		require.ErrorIs(t, err, hostcheck.ErrRootDirMissing)
		assert.Contains(t, err.Error(), tgt.RootDir+" does not exist")
	})

	t.Run("host key changed", func(t *testing.T) {
		c, hk := newChecker()
		tgt := s.target(t, sshcheck.Password)
		hk.Set(tgt.Tenant, tgt.SystemID, string(ssh.MarshalAuthorizedKey(sshchecktest.NewHostKey(t).PublicKey())))
		err := c.Verify(ctx, tgt, password)
		require.ErrorIs(t, err, hostcheck.ErrHostKeyMismatch)
		assert.Contains(t, err.Error(), "SHA256:")
		_, err = c.EvalEnv(ctx, tgt, password, "HOME")
		require.ErrorIs(t, err, hostcheck.ErrHostKeyMismatch)
		assert.Zero(t, hk.Pins())
	})

	t.Run("each pinned host key type", func(t *testing.T) {
		// the server holds ed25519, ECDSA and RSA keys; whichever is pinned
		// must be the one negotiated
		for _, key := range s.hostKeys {
			c, hk := newChecker()
			tgt := s.target(t, sshcheck.Password)
			hk.Set(tgt.Tenant, tgt.SystemID, key)
			require.NoError(t, c.Verify(ctx, tgt, password), strings.Fields(key)[0])
		}
	})

	t.Run("HOST_EVAL", func(t *testing.T) {
		c, _ := newChecker()
		name, value, ok := strings.Cut(s.fixture["SSH_ENV"], "=")
		require.True(t, ok)
		tgt := s.target(t, sshcheck.Password)

		out, err := c.EvalEnv(ctx, tgt, password, name)
		require.NoError(t, err)
		assert.Equal(t, value, strings.TrimSpace(out), "a variable from the user's ~/.ssh/environment")

		out, err = c.EvalEnv(ctx, s.target(t, sshcheck.PKIKeys), credentials.Credential{PrivateKey: s.key(t, "SSH_KEY_ED25519")}, "HOME")
		require.NoError(t, err)
		assert.Equal(t, filepath.Dir(s.fixture["SSH_ROOT_DIR"]), strings.TrimSpace(out))

		out, err = c.EvalEnv(ctx, tgt, password, "TAPIS_MY_MISSING_VAR")
		require.NoError(t, err)
		assert.Empty(t, strings.TrimSpace(out))

		_, err = c.EvalEnv(ctx, tgt, credentials.Credential{Password: "Wrong-Pass-0000"}, name)
		require.ErrorIs(t, err, hostcheck.ErrBadCredential)

		// the evaluated directory exists and passes a check as rootDir
		tgt.RootDir = value
		require.NoError(t, c.Verify(ctx, tgt, password))
	})

	t.Run("private addresses refused unless allowed", func(t *testing.T) {
		p := testPolicy()
		p.AllowPrivate = false
		err := sshcheck.New(hostchecktest.NewHostKeys(), p).Verify(ctx, s.target(t, sshcheck.Password), password)
		require.ErrorIs(t, err, hostcheck.ErrForbiddenAddress)
	})
}
