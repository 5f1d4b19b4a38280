package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

// runToExit runs the server binary, which must exit by itself within 30s,
// and returns its exit code and output.
func runToExit(t *testing.T, bin string, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	for _, kv := range os.Environ() { // the test's environment must not configure the server
		if !strings.HasPrefix(kv, "TAPIS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "the server did not exit by itself\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), stdout.String(), stderr.String()
	}
	require.NoError(t, err)
	return 0, stdout.String(), stderr.String()
}

// TestTakenPortFailsBeforeCreatingAnything: a server started on a port in
// use exits with an error naming the address, and leaves no data
// directory, KEK file or database behind (a new user who retries on
// another port starts clean).
func TestTakenPortFailsBeforeCreatingAnything(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	addr := taken.Addr().String()
	dir := t.TempDir()

	data := filepath.Join(dir, "tapis-data")
	code, stdout, stderr := runToExit(t, bin, "-addr", addr, "-data", data, "-dev")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "-addr "+addr, "the error names the flag and the address")
	assert.Contains(t, stderr, "address already in use")
	assert.NotContains(t, stdout, "Tapis listening")
	assert.NotContains(t, stdout, "Development fixtures", "nothing was seeded")
	_, err = os.Stat(data)
	assert.True(t, errors.Is(err, os.ErrNotExist), "no data directory was created: %v", err)

	// With an explicit database and KEK file, neither file appears either.
	kek, db := filepath.Join(dir, "kek"), filepath.Join(dir, "tapis.db")
	code, _, stderr = runToExit(t, bin, "-addr", addr, "-kek-file", kek, "-db", "sqlite:"+db)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "address already in use")
	for _, f := range []string{kek, db} {
		_, err = os.Stat(f)
		assert.True(t, errors.Is(err, os.ErrNotExist), "%s was not created: %v", f, err)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 0, "nothing at all was created in %s", dir)
}

// TestDefaultTenantWithoutDev: without -dev the listener's default tenant
// is one that exists (the bootstrapped admin tenant), so the pages and
// metadata of the listener's own address answer instead of "Tenant dev not
// found"; a -default-tenant that does not exist stops the start with the
// tenants there are.
func TestDefaultTenantWithoutDev(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	data := t.TempDir()

	p := startServer(t, bin, "-data", data)
	// The line follows "Tapis listening on", which startServer waited for;
	// the pipe may deliver it a moment later on a loaded machine.
	assert.Eventually(t, func() bool { return strings.Contains(p.Stdout(), `act for tenant "admin"`) },
		10*time.Second, 10*time.Millisecond, "the start says which tenant the address serves: %s", p.Stdout())
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(p.base + "/v3/oauth2/.well-known/oauth-authorization-server")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the listener's tenant exists")
	p.stop()

	code, _, stderr := runToExit(t, bin, "-addr", fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t)), "-data", data, "-default-tenant", "nosuch")
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "-default-tenant nosuch: no such tenant in the registry (tenants: admin)")
}
