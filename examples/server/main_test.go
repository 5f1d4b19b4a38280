// End-to-end tests of the server binary: built with go build, run on a free
// port against a temporary data directory, and probed over HTTP.
package main

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerDevAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	data := t.TempDir()

	dev := startServer(t, bin, "-dev", "-data", data)
	var sites []siteResult
	status, env := dev.call(http.MethodGet, "/v3/sites", "", "", nil, &sites)
	require.Equal(t, http.StatusOK, status, env.Message)
	assert.Equal(t, "success", env.Status)
	assert.Equal(t, []siteResult{{SiteID: "local", Primary: true}}, sites)

	assert.ElementsMatch(t, []string{"admin", "dev"}, tenantIDs(t, dev))

	var tenant tenantResult
	status, env = dev.call(http.MethodGet, "/v3/tenants/dev", "", "", nil, &tenant)
	require.Equal(t, http.StatusOK, status, env.Message)
	assert.Equal(t, "dev", tenant.TenantID)
	assert.Contains(t, tenant.PublicKey, "PUBLIC KEY")

	out := dev.Stdout()
	for _, u := range []string{"testuser1", "testuser5", "testadmin"} {
		assert.Contains(t, out, u)
	}
	pw := passwordOf(t, out, "tokens")
	status, tok := dev.mint("tokens", pw)
	require.Equal(t, http.StatusCreated, status)
	assert.NotEmpty(t, tok.AccessToken.AccessToken)
	status, _ = dev.mint("tokens", pw+"x")
	assert.Equal(t, http.StatusUnauthorized, status, "a wrong password must not mint")
	dev.stop()

	// Same data directory, no flags: the data is kept and nothing is bootstrapped.
	again := startServer(t, bin, "-data", data)
	status, env = again.call(http.MethodGet, "/v3/tenants/dev", "", "", nil, &tenant)
	require.Equal(t, http.StatusOK, status, env.Message)
	assert.Equal(t, "dev", tenant.TenantID)
	assert.ElementsMatch(t, []string{"admin", "dev"}, tenantIDs(t, again))
	out = again.Stdout()
	assert.NotContains(t, out, "Bootstrapped")
	assert.NotContains(t, out, "curl")
	// The account and the sealed signing keys (same KEK file) survived.
	status, tok = again.mint("tokens", pw)
	require.Equal(t, http.StatusCreated, status)
	assert.NotEmpty(t, tok.AccessToken.AccessToken)
	again.stop()
}

func TestServerBootstrapsEmptyRegistry(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	data := filepath.Join(t.TempDir(), "data")

	p := startServer(t, bin, "-data", data)
	out := p.Stdout()
	assert.Contains(t, out, "shown only now")
	pw := passwordOf(t, out, "tenants")
	assert.Contains(t, out, "password: "+pw+"\n")
	assert.Len(t, pw, 24)

	status, tok := p.mint("tenants", pw)
	require.Equal(t, http.StatusCreated, status)
	assert.NotEmpty(t, tok.AccessToken.AccessToken)
	status, _ = p.mint("tenants", "tenants")
	assert.Equal(t, http.StatusUnauthorized, status, "the bootstrap password must not be guessable")

	var sites []siteResult
	status, _ = p.call(http.MethodGet, "/v3/sites", "", "", nil, &sites)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, []siteResult{{SiteID: "local", Primary: true}}, sites)
	assert.Equal(t, []string{"admin"}, tenantIDs(t, p))

	st, err := os.Stat(data)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm(), "data directory mode")
	st, err = os.Stat(filepath.Join(data, "kek"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "KEK file mode")
	p.stop()

	// A restart does not bootstrap again: the first password still works.
	q := startServer(t, bin, "-data", data)
	assert.NotContains(t, q.Stdout(), "Bootstrapped")
	status, _ = q.mint("tenants", pw)
	assert.Equal(t, http.StatusCreated, status)
	q.stop()
}
