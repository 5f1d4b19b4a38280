package httpapi_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/adapters/sshcheck"
	"github.com/tapis-go/tapis/hostcheck"
	"github.com/tapis-go/tapis/internal/testenv"
)

// sshFixture reads the KEY: VALUE lines scripts/sshd-start.sh writes.
func sshFixture(t *testing.T) map[string]string {
	t.Helper()
	if os.Getenv("TAPIS_TEST_SSH_ADDR") == "" {
		t.Skip("TAPIS_TEST_SSH_ADDR not set: start sshd with scripts/sshd-start.sh and export TAPIS_TEST_SSH_ADDR and TAPIS_TEST_SSH_DIR")
	}
	dir := os.Getenv("TAPIS_TEST_SSH_DIR")
	if dir == "" {
		dir = "/tmp/tapis-sshd"
	}
	f, err := os.Open(filepath.Join(dir, "fixture"))
	require.NoError(t, err)
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ": "); ok {
			out[k] = v
		}
	}
	return out
}

// Systems with credentials checked against a real OpenSSH sshd, HOST_EVAL
// evaluated over the same login, and the host key pinned on first use.
func TestSystemCredentialsAgainstRealSSHD(t *testing.T) {
	fx := sshFixture(t)
	st := memory.New()
	checker := sshcheck.New(st, hostcheck.Policy{AllowPrivate: true})
	env := testenv.NewWithStore(t, st, st, func(c *tapis.Config) {
		c.HostVerifier, c.HostEvaluator = hostcheck.Mux{"LINUX": checker}, checker
	})
	host, port, ok := strings.Cut(fx["SSH_ADDR"], ":")
	require.True(t, ok)
	key, err := os.ReadFile(fx["SSH_KEY_ED25519"])
	require.NoError(t, err)
	pub, err := os.ReadFile(fx["SSH_KEY_ED25519"] + ".pub")
	require.NoError(t, err)
	scratch := strings.TrimPrefix(fx["SSH_ENV"], "TAPIS_TEST_SCRATCH=")
	sys := func(id, method string, cred map[string]any) map[string]any {
		return map[string]any{"id": id, "systemType": "LINUX", "host": host, "port": atoi(t, port), "defaultAuthnMethod": method,
			"canExec": false, "effectiveUserId": fx["SSH_USER"], "rootDir": "HOST_EVAL($TAPIS_TEST_SCRATCH)", "authnCredential": cred}
	}
	r := sysDo(t, env, "testuser1", "POST", "/v3/systems", sys("ssh1", "PKI_KEYS", map[string]any{"privateKey": string(key), "publicKey": string(pub)}))
	require.Equal(t, 201, r.Code, "OpenSSH ed25519 key checked, HOST_EVAL evaluated: %s", r.Raw)
	g := sysDo(t, env, "testuser1", "GET", "/v3/systems/ssh1", nil)
	assert.Equal(t, scratch, g.Result()["rootDir"], "HOST_EVAL($TAPIS_TEST_SCRATCH) read on the host")
	pinned, err := st.HostKey(context.Background(), "dev", "ssh1")
	require.NoError(t, err)
	assert.NotEmpty(t, pinned, "host key pinned on first use")

	bad := sysDo(t, env, "testuser1", "POST", "/v3/systems", sys("ssh2", "PASSWORD", map[string]any{"password": "not-the-password"}))
	assert.Equal(t, 400, bad.Code, "body: %s", bad.Raw)
	assert.Contains(t, bad.Message(), "SYSAPI_CRED_VALID_FAIL")
	assert.NotContains(t, string(bad.Raw), "not-the-password")
	assert.Equal(t, 404, sysDo(t, env, "testuser1", "GET", "/v3/systems/ssh2", nil).Code, "nothing created")

	set := sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/ssh1/user/"+fx["SSH_USER"],
		map[string]any{"privateKey": string(key), "publicKey": string(pub), "password": fx["SSH_PASSWORD"]})
	require.Equal(t, 200, set.Code, "checked with the system's method (PKI_KEYS): %s", set.Raw)
	chk := sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/ssh1/user/"+fx["SSH_USER"]+"/check?authnMethod=PASSWORD", nil)
	assert.Equal(t, 200, chk.Code, "body: %s", chk.Raw)

	require.NoError(t, st.DeleteHostKey(context.Background(), "dev", "ssh1"))
	other, _, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherKey, err := ssh.NewPublicKey(other)
	require.NoError(t, err)
	require.NoError(t, st.PinHostKey(context.Background(), "dev", "ssh1", strings.TrimSpace(string(ssh.MarshalAuthorizedKey(otherKey)))))
	chk = sysDo(t, env, "testuser1", "POST", "/v3/systems/credential/ssh1/user/"+fx["SSH_USER"]+"/check?authnMethod=PASSWORD", nil)
	assert.Equal(t, 400, chk.Code)
	assert.Contains(t, chk.Message(), "host key", "a changed host key is a distinct, hard failure")
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		require.True(t, c >= '0' && c <= '9', s)
		n = n*10 + int(c-'0')
	}
	return n
}
