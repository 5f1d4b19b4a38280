package clustere2e

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/serverbin"
	"github.com/tapis-go/tapis/internal/testenv"
)

// cluster is three instances of examples/server on one database and one
// KEK, behind a round-robin proxy.
type cluster struct {
	t       *testing.T
	bin     string
	dsn     string
	kek     string // the KEK file of the three
	nodes   []*node
	proxy   *rrProxy
	authSvc string // a service token of authenticator@admin (mints user tokens)
}

// TestThreeInstances is issue 14's deployment test: three processes of the
// shipped binary on one PostgreSQL behind a round-robin proxy keep every
// guarantee of one process.
func TestThreeInstances(t *testing.T) {
	if os.Getenv("TAPIS_TEST_POSTGRES_DSN") == "" {
		t.Skip("TAPIS_TEST_POSTGRES_DSN not set: the three-instance test needs a PostgreSQL database")
	}
	if testing.Short() {
		t.Skip("builds and runs the server binary: skipped with -short")
	}
	c := startCluster(t)

	// The load runs first, while the caches of every instance fill; the
	// checks after it run on instances that have served for a while, one of
	// them restarted.
	t.Run("load with a kill", c.loadWithKill)
	t.Run("revocation reaches every instance within 1s", c.revocation)
	t.Run("password limit shared by the three", c.passwordLimit)
	t.Run("parallel patches through different instances", c.parallelPatches)
	t.Run("rotated key signs on every instance within 1s", c.rotation)
	t.Run("wrong KEK refuses to start", c.wrongKEK)
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	ctx := context.Background()
	root, err := serverbin.ModuleRoot(ctx)
	require.NoError(t, err)
	bin := filepath.Join(t.TempDir(), "tapis-server")
	built := time.Now()
	require.NoError(t, serverbin.Build(ctx, root, bin))
	t.Logf("figures: built the server in %v", time.Since(built).Round(time.Millisecond))

	c := &cluster{t: t, bin: bin, dsn: testenv.PostgresSchemaDSN(t)}
	kek := writeKEK(t)
	c.kek = kek
	started := time.Now()
	for i := range 3 {
		flags := []string{"-db", c.dsn, "-kek-file", kek, "-data", t.TempDir(), "-log-level", "warn"}
		if i == 0 {
			// The first seeds the development fixtures; the others find the
			// registry filled and start as they would in a deployment.
			flags = append(flags, "-dev")
		}
		c.nodes = append(c.nodes, newNode(t, "instance"+string(rune('A'+i)), bin, flags...))
	}
	c.nodes[0].mustStart()
	// The other two start together, as replicas of a deployment do.
	c.nodes[1].start()
	c.nodes[2].start()
	for _, n := range c.nodes[1:] {
		require.NoError(t, n.waitReady(45*time.Second), "stderr:\n%s", tail(n.Stderr(), 4096))
	}
	t.Logf("figures: three instances ready in %v (readiness: GET %v)", time.Since(started).Round(time.Millisecond), c.nodes[0].probe.Load())
	c.proxy = newProxy(t, c.nodes)

	// Services' passwords are drawn at every -dev start and printed.
	pw := devPassword(t, c.nodes[0].Stdout(), "authenticator")
	r := c.basicMint(c.nodes[0].base, "authenticator", pw)
	require.Equal(t, http.StatusCreated, r.Code, "service token: %s", r)
	c.authSvc = accessToken(t, r)
	return c
}

// writeKEK writes a fresh random KEK file (0600) and returns its path.
func writeKEK(t *testing.T) string {
	t.Helper()
	kek := make([]byte, 32)
	_, err := rand.Read(kek)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "kek")
	require.NoError(t, os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(kek)+"\n"), 0o600))
	return path
}

// devPassword is a service's password from -dev's listing.
func devPassword(t *testing.T, stdout, svc string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s+` + svc + `\s+(\S+)$`).FindStringSubmatch(stdout)
	require.NotNil(t, m, "no password for %s in:\n%s", svc, stdout)
	return m[1]
}

// basicMint asks base for a service token of svc@admin with HTTP Basic.
func (c *cluster) basicMint(base, svc, password string) reply {
	body := `{"account_type":"service","token_tenant_id":"admin","token_username":"` + svc + `","target_site_id":"local"}`
	req, err := http.NewRequest(http.MethodPost, base+"/v3/tokens", strings.NewReader(body))
	if err != nil {
		return reply{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(svc, password)
	return send(req)
}

// passwordGrant asks base for a token of user@dev by the password grant.
func passwordGrant(ctx context.Context, base, user, password string) reply {
	return call(ctx, http.MethodPost, base+"/v3/oauth2/tokens", "",
		map[string]any{"grant_type": "password", "username": user, "password": password})
}

// userToken asks base (as authenticator) for a token of user@dev, with a
// refresh token when refresh is set.
func (c *cluster) userToken(ctx context.Context, base, user string, refresh bool) reply {
	return call(ctx, http.MethodPost, base+"/v3/tokens", c.authSvc, map[string]any{"account_type": "user",
		"token_tenant_id": "dev", "token_username": user, "generate_refresh_token": refresh})
}

type tokenPair struct {
	AccessToken struct {
		AccessToken string `json:"access_token"`
	} `json:"access_token"`
	RefreshToken struct {
		RefreshToken string `json:"refresh_token"`
	} `json:"refresh_token"`
}

func accessToken(t *testing.T, r reply) string {
	t.Helper()
	var p tokenPair
	require.NoError(t, r.Result(&p))
	require.NotEmpty(t, p.AccessToken.AccessToken, "no access token in %s", r)
	return p.AccessToken.AccessToken
}

// jwtHeader decodes the header of a JWT.
func jwtHeader(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	raw, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	var h map[string]any
	require.NoError(t, json.Unmarshal(raw, &h))
	return h
}

// quantiles returns the median and the maximum of ds.
func quantiles(ds []time.Duration) (p50, maxD time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}
