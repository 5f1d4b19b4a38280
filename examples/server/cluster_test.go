package main

import (
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/seal"
)

// kekFile writes a new random KEK to a 0600 file and returns its path.
func kekFile(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kek")
	require.NoError(t, os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(seal.NewKey())+"\n"), 0o600))
	return path
}

// databases are the DSNs of fresh databases several server processes
// share: one SQLite file always, a PostgreSQL schema when
// TAPIS_TEST_POSTGRES_DSN is set.
func databases(t *testing.T) map[string]func(t *testing.T) string {
	return map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "shared.db") },
		"postgres": func(t *testing.T) string { return testenv.PostgresSchemaDSN(t) },
	}
}

// TestConcurrentFirstStarts: four servers started at once on one empty
// database (each with its own data directory, one KEK) all start, one of
// them bootstraps (exactly one printed password), and that password works
// through every one of them.
func TestConcurrentFirstStarts(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db, kek := databases(t)[name](t), kekFile(t)
			procs := make([]*serverProc, 4)
			for i := range procs {
				procs[i] = launchServer(t, bin, "-db", db, "-kek-file", kek, "-data", filepath.Join(t.TempDir(), "data"))
			}
			var bootstrapped []*serverProc
			for _, p := range procs {
				p.waitReady()
				if strings.Contains(p.Stdout(), "Bootstrapped an empty registry") {
					bootstrapped = append(bootstrapped, p)
				}
			}
			require.Len(t, bootstrapped, 1, "exactly one start bootstraps")
			out := bootstrapped[0].Stdout()
			assert.Equal(t, 1, strings.Count(out, "shown only now"))
			pw := passwordOf(t, out, "tenants")
			for i, p := range procs {
				status, tok := p.mint("tenants", pw)
				assert.Equal(t, http.StatusCreated, status, "the printed password works through instance %d", i)
				assert.NotEmpty(t, tok.AccessToken.AccessToken)
				assert.Equal(t, []string{"admin"}, tenantIDs(t, p), "one registry, instance %d", i)
			}
		})
	}
}

// TestKEKGuard: a second start with another KEK refuses, naming both key ids
// and the fix; a start without a KEK on a database holding sealed data
// refuses, and makes up no KEK file.
func TestKEKGuard(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db, kek := databases(t)[name](t), kekFile(t)
			first := startServer(t, bin, "-db", db, "-kek-file", kek, "-data", filepath.Join(t.TempDir(), "data"))
			first.stop()

			other := kekFile(t)
			code, _, stderr := runToExit(t, bin, "-addr", "127.0.0.1:0", "-db", db, "-kek-file", other,
				"-data", filepath.Join(t.TempDir(), "data"))
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "the KEK does not open this store's sealed data")
			assert.Contains(t, stderr, "-kek-file or TAPIS_KEK", "names the fix")
			assert.Contains(t, stderr, "previous KEK", "names the other fix")
			raw, err := os.ReadFile(other)
			require.NoError(t, err)
			otherKEK, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
			require.NoError(t, err)
			assert.Contains(t, stderr, seal.KeyID(otherKEK), "names this instance's KEK id")
			assert.NotContains(t, stderr, strings.TrimSpace(string(raw)), "never the key")

			data := filepath.Join(t.TempDir(), "data")
			code, _, stderr = runToExit(t, bin, "-addr", "127.0.0.1:0", "-db", db, "-data", data)
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "holds data sealed with a KEK")
			assert.Contains(t, stderr, "-kek-file")
			_, err = os.Stat(filepath.Join(data, "kek"))
			assert.ErrorIs(t, err, os.ErrNotExist, "no KEK was made up")

			again := startServer(t, bin, "-db", db, "-kek-file", kek, "-data", filepath.Join(t.TempDir(), "data"))
			assert.NotContains(t, again.Stdout(), "Bootstrapped", "the right KEK still starts, without a second bootstrap")
			again.stop()
		})
	}
}

// TestKEKRotation: a database sealed with one KEK starts with a new KEK
// only beside the old one as a previous KEK; that start re-seals everything
// with the new KEK, so the next start needs the new KEK alone, and the
// signing keys still open (a token is minted with the password printed at
// the first start).
func TestKEKRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			db, old := databases(t)[name](t), kekFile(t)
			first := startServer(t, bin, "-db", db, "-kek-file", old, "-data", filepath.Join(t.TempDir(), "data"))
			pw := passwordOf(t, first.Stdout(), "tenants")
			first.stop()

			next := kekFile(t)
			code, _, stderr := runToExit(t, bin, "-addr", "127.0.0.1:0", "-db", db, "-kek-file", next,
				"-previous-kek-files", filepath.Join(t.TempDir(), "missing"), "-data", filepath.Join(t.TempDir(), "data"))
			assert.Equal(t, 1, code)
			assert.Contains(t, stderr, "previous KEK file", "a previous KEK that cannot be read is named")

			rotating := startServer(t, bin, "-db", db, "-kek-file", next, "-previous-kek-files", old,
				"-data", filepath.Join(t.TempDir(), "data"))
			assert.Contains(t, rotating.Stderr(), "re-sealed with the KEK what previous KEKs sealed")
			status, _ := rotating.mint("tenants", pw)
			assert.Equal(t, http.StatusCreated, status, "signs with a key the old KEK sealed")
			rotating.stop()

			code, _, stderr = runToExit(t, bin, "-addr", "127.0.0.1:0", "-db", db, "-kek-file", old,
				"-data", filepath.Join(t.TempDir(), "data"))
			assert.Equal(t, 1, code, "the old KEK alone no longer opens the database")
			assert.Contains(t, stderr, "the KEK does not open this store's sealed data")

			after := startServer(t, bin, "-db", db, "-kek-file", next, "-data", filepath.Join(t.TempDir(), "data"))
			status, tok := after.mint("tenants", pw)
			assert.Equal(t, http.StatusCreated, status, "the new KEK alone opens every signing key")
			assert.NotEmpty(t, tok.AccessToken.AccessToken)
			after.stop()
		})
	}
}
