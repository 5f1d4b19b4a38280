package httpapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/tenancy"
)

// lockedBuffer is a log sink safe for concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// After a scenario touching every kind of secret with debug logging on, no
// test secret appears in the logs, in any response body (other than the
// one-time client key and the files service's credential read), in error
// strings, or in the raw bytes of the SQLite database (reference R7).
func TestNoSecretReachesLogsBodiesOrDisk(t *testing.T) {
	logs := &lockedBuffer{}
	dir := t.TempDir()
	env := testenv.SQLiteAt(t, filepath.Join(dir, "tapis.db"), func(c *tapis.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	ctx := context.Background()
	const (
		userPW       = "Us3r-pw-never-shown-7f3a"
		wrongPW      = "Wr0ng-pw-never-shown-91c2"
		clientKey    = "Cl1ent-key-never-shown-5d8e"
		credPassword = "Cr3d-pw-never-shown-0b4f"
		accessSecret = "Acc3ss-secret-never-shown-c6a1"
		impersSecret = "Imp3rs-secret-never-shown-2e9d"
	)
	privateKey := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAAnever-shown-key-material\n-----END OPENSSH PRIVATE KEY-----"
	secrets := []string{userPW, wrongPW, clientKey, credPassword, accessSecret, impersSecret, "never-shown-key-material", testenv.ServicePassword}
	require.NoError(t, env.Server.Tokens().Accounts.Set(ctx, "dev", "secretuser", tenancy.AccountUser, userPW))

	var bodies []string
	do := func(r testenv.Request, allowed bool) testenv.Response {
		resp := env.Do(t, r)
		if !allowed {
			bodies = append(bodies, string(resp.Raw))
		}
		return resp
	}
	tok := env.UserToken(t, "dev", "secretuser")
	auth := map[string]string{"X-Tapis-Token": tok}
	// Tokens: password grants, right and wrong, with and without a client.
	do(testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Body: map[string]any{"grant_type": "password", "username": "secretuser", "password": userPW}}, false)
	do(testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Body: map[string]any{"grant_type": "password", "username": "secretuser", "password": wrongPW}}, false)
	do(testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", testenv.ServicePassword), Body: serviceBody("tokens")}, false)
	do(testenv.Request{Method: "POST", Path: "/v3/tokens", Headers: basic("tokens", wrongPW), Body: serviceBody("tokens")}, false)
	c := do(testenv.Request{Method: "POST", Path: "/v3/oauth2/clients", Headers: auth, Body: map[string]any{"client_id": "leakcheck", "client_key": clientKey, "callback_url": testCallback}}, true)
	require.Equal(t, 201, c.Code, "body: %s", c.Raw)
	do(testenv.Request{Method: "GET", Path: "/v3/oauth2/clients/leakcheck", Headers: auth}, false)
	do(testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic("leakcheck", clientKey), Body: map[string]any{"grant_type": "password", "username": "secretuser", "password": userPW}}, false)
	do(testenv.Request{Method: "POST", Path: "/v3/oauth2/tokens", Headers: basic("leakcheck", wrongPW), Body: map[string]any{"grant_type": "password", "username": "secretuser", "password": userPW}}, false)
	do(formRequest("/v3/oauth2/token", map[string][]string{"grant_type": {"password"}, "username": {"secretuser"}, "password": {wrongPW}, "client_id": {"leakcheck"}, "client_secret": {wrongPW}}, nil), false)
	// Tenant config secrets (admins only, write-only).
	admin := map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")}
	do(testenv.Request{Method: "PUT", Path: "/v3/oauth2/admin/config", Headers: admin, Body: map[string]any{"impers_oauth_client_secret": impersSecret, "impersadmin_password": impersSecret}}, false)
	do(testenv.Request{Method: "GET", Path: "/v3/oauth2/admin/config", Headers: admin}, false)
	// System credentials: at create, per user, refused ones, and a service read.
	s := linuxSystem("leaky")
	s["effectiveUserId"], s["defaultAuthnMethod"] = "hpc", "PKI_KEYS"
	s["authnCredential"] = map[string]any{"privateKey": privateKey, "publicKey": "ssh-ed25519 AAAA", "password": credPassword}
	do(testenv.Request{Method: "POST", Path: "/v3/systems?skipCredentialCheck=true", Headers: auth, Body: s}, false)
	do(testenv.Request{Method: "POST", Path: "/v3/systems", Headers: auth, Body: s}, false) // exists: 409
	s3 := map[string]any{"id": "bucket1", "systemType": "S3", "host": "s3.example.org", "defaultAuthnMethod": "ACCESS_KEY", "canExec": false,
		"bucketName": "b", "effectiveUserId": "svc", "authnCredential": map[string]any{"accessKey": "AK", "accessSecret": accessSecret}}
	do(testenv.Request{Method: "POST", Path: "/v3/systems", Headers: auth, Body: s3}, false) // no host checks: 501
	do(testenv.Request{Method: "POST", Path: "/v3/systems/credential/leaky/user/hpc?skipCredentialCheck=true", Headers: auth,
		Body: map[string]any{"password": credPassword, "accessKey": "only-half"}}, false) // half a pair: 400
	do(testenv.Request{Method: "PUT", Path: "/v3/systems/leaky?skipCredentialCheck=true", Headers: auth,
		Body: map[string]any{"host": "h2", "defaultAuthnMethod": "PASSWORD", "authnCredential": map[string]any{"password": credPassword}}}, false)
	do(testenv.Request{Method: "GET", Path: "/v3/systems/leaky/history", Headers: auth}, false)
	do(testenv.Request{Method: "GET", Path: "/v3/systems/leaky?returnCredentials=true", Headers: auth}, false)
	read := do(testenv.Request{Method: "GET", Path: "/v3/systems/credential/leaky/user/hpc",
		Headers: map[string]string{"X-Tapis-Token": env.ServiceToken(t, "files"), "X-Tapis-Tenant": "dev", "X-Tapis-User": "secretuser"}}, true)
	require.Equal(t, 200, read.Code, "the allowed service read works: %s", read.Raw)
	require.Contains(t, string(read.Raw), credPassword)

	require.NoError(t, env.Server.Close())
	raw := readAll(t, dir)
	for _, secret := range secrets {
		assert.NotContains(t, logs.String(), secret, "logs")
		for _, b := range bodies {
			assert.NotContains(t, b, secret, "a response body")
		}
		assert.False(t, bytes.Contains(raw, []byte(secret)), "the database files hold %q in clear", secret)
	}
	assert.Contains(t, logs.String(), "level=DEBUG", "debug logging was on")
}

// readAll concatenates the database file and its WAL/SHM companions.
func readAll(t *testing.T, dir string) []byte {
	t.Helper()
	var out []byte
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "tapis.db") {
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			require.NoError(t, err)
			out = append(out, b...)
		}
	}
	require.NotEmpty(t, out)
	return out
}
