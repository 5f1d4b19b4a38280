package main

import (
	"encoding/base64"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/tenancy"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseOptionsDefaultsAndEnv(t *testing.T) {
	o, err := parseOptions(nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:8080", o.addr)
	assert.Equal(t, "sqlite:tapis-data/tapis.db", o.db)
	assert.Equal(t, filepath.Join("tapis-data", "kek"), o.kekFile)
	assert.Equal(t, "", o.defaultTenant, "chosen at start from the registry (chooseDefaultTenant)")
	assert.Equal(t, slog.LevelInfo, o.level)
	assert.False(t, o.dev)

	env := envOf(map[string]string{"TAPIS_ADDR": "0.0.0.0:9000", "TAPIS_DATA": "/srv/tapis", "TAPIS_DEV": "true",
		"TAPIS_DEFAULT_TENANT": "acme", "TAPIS_LOG_LEVEL": "debug", "TAPIS_SITE": "tacc", "TAPIS_KEK_FILE": "/etc/kek"})
	o, err = parseOptions([]string{"-addr", "127.0.0.1:1234", "-site", ""}, env, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:1234", o.addr, "flag wins over env")
	assert.Equal(t, "", o.site, "an explicit empty flag wins over env")
	assert.Equal(t, "sqlite:/srv/tapis/tapis.db", o.db)
	assert.Equal(t, "/etc/kek", o.kekFile)
	assert.True(t, o.dev)
	assert.Equal(t, "acme", o.defaultTenant)
	assert.Equal(t, slog.LevelDebug, o.level)

	_, err = parseOptions(nil, envOf(map[string]string{"TAPIS_DEV": "maybe"}), io.Discard)
	assert.ErrorContains(t, err, "TAPIS_DEV")
	_, err = parseOptions([]string{"-log-level", "verbose"}, envOf(nil), io.Discard)
	assert.ErrorContains(t, err, "-log-level")
}

func TestLoadKEK(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	o, err := parseOptions([]string{"-data", dir}, envOf(nil), io.Discard)
	require.NoError(t, err)
	kek, err := loadKEK(o, envOf(nil), log, nil)
	require.NoError(t, err)
	assert.Len(t, kek, kekSize)
	st, err := os.Stat(filepath.Join(dir, "kek"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	again, err := loadKEK(o, envOf(nil), log, nil)
	require.NoError(t, err)
	assert.Equal(t, kek, again, "the file is reused")

	inline := make([]byte, kekSize)
	inline[0] = 7
	env := envOf(map[string]string{"TAPIS_KEK": base64.StdEncoding.EncodeToString(inline)})
	got, err := loadKEK(o, env, log, nil)
	require.NoError(t, err)
	assert.Equal(t, inline, got, "TAPIS_KEK replaces the default file")

	_, err = loadKEK(o, envOf(map[string]string{"TAPIS_KEK": "c2hvcnQ="}), log, nil)
	assert.ErrorContains(t, err, "want 32")
	_, err = loadKEK(o, envOf(map[string]string{"TAPIS_KEK": "x", "TAPIS_KEK_FILE": "/k"}), log, nil)
	assert.ErrorContains(t, err, "set only one")
}

func TestLoadSeedYAMLAndJSON(t *testing.T) {
	dir := t.TempDir()
	yml := filepath.Join(dir, "seed.yaml")
	require.NoError(t, os.WriteFile(yml, []byte(`
owners:
  - {name: Ops, email: ops@example.org, institution: Example}
sites:
  - site_id: main
    base_url: https://tapis.example.org
    primary: true
    services: [tenants, tokens]
    site_admin_tenant_id: admin
tenants:
  - tenant_id: admin
    site_id: main
    base_url: https://admin.tapis.example.org
    owner: ops@example.org
accounts:
  - {tenant_id: admin, username: tenants, account_type: service, password: s3cret-s3cret}
`), 0o600))
	seed, err := loadSeed(yml)
	require.NoError(t, err)
	require.Len(t, seed.Sites, 1)
	assert.Equal(t, "main", seed.Sites[0].SiteID)
	assert.True(t, seed.Sites[0].Primary)
	assert.Equal(t, []string{"tenants", "tokens"}, seed.Sites[0].Services)
	require.Len(t, seed.Tenants, 1)
	assert.Equal(t, "https://admin.tapis.example.org", seed.Tenants[0].BaseURL)
	require.Len(t, seed.Accounts, 1)
	assert.Equal(t, tenancy.AccountService, seed.Accounts[0].AccountType)
	assert.Equal(t, "ops@example.org", seed.Owners[0].Email)

	js := filepath.Join(dir, "seed.json")
	require.NoError(t, os.WriteFile(js, []byte(`{"sites":[{"site_id":"main","primary":true}]}`), 0o600))
	seed, err = loadSeed(js)
	require.NoError(t, err)
	assert.Equal(t, "main", seed.Sites[0].SiteID)

	require.NoError(t, os.WriteFile(js, []byte(`{"sites":[{"siteid":"main"}]}`), 0o600))
	_, err = loadSeed(js)
	assert.ErrorContains(t, err, "siteid", "unknown fields are refused")
	txt := filepath.Join(dir, "seed.txt")
	require.NoError(t, os.WriteFile(txt, []byte(`{}`), 0o600))
	_, err = loadSeed(txt)
	assert.ErrorContains(t, err, "extension")
}
