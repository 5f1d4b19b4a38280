package main

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
)

// hostCall sends a request with Host host (the tenant it is for) and an
// optional Tapis token, and decodes the envelope.
func (p *serverProc) hostCall(method, path, host, token string, body any, out any) (int, envelope) {
	p.t.Helper()
	return p.send(method, path, body, out, 10*time.Second, func(req *http.Request) {
		req.Host = host
		if token != "" {
			req.Header.Set("X-Tapis-Token", token)
		}
	})
}

// login runs the password grant for user@host's tenant at p.
func (p *serverProc) login(host, user, password string) (int, string) {
	p.t.Helper()
	var tok tokenResult
	status, env := p.hostCall(http.MethodPost, "/v3/oauth2/tokens", host, "",
		map[string]string{"grant_type": "password", "username": user, "password": password}, &tok)
	if status != http.StatusCreated {
		return status, env.Message
	}
	return status, tok.AccessToken.AccessToken
}

func tenantBody(id, site, base, pub string) map[string]any {
	b := map[string]any{"tenant_id": id, "base_url": base, "site_id": site, "token_service": base + "/v3/tokens",
		"security_kernel": base + "/v3/security", "authenticator": base + "/v3/oauth2", "owner": bootstrapOwner,
		"admin_user": "admin", "token_gen_services": []string{}, "status": "active", "description": "tenant " + id}
	if pub != "" {
		b["public_key"] = pub
	}
	return b
}

// selfSigned is a service token of svc@tenant for targetSite signed with
// key, as another site's Tokens API would sign it.
func selfSigned(t *testing.T, key *rsa.PrivateKey, tenant, base, svc, targetSite string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"jti": uuid.NewString(), "iss": base, "sub": svc + "@" + tenant,
		"tapis/tenant_id": tenant, "tapis/token_type": "access", "tapis/delegation": false, "tapis/delegation_sub": nil,
		"tapis/username": svc, "tapis/account_type": "service", "tapis/target_site": targetSite,
		"exp": time.Now().Add(5 * time.Minute).Unix()})
	tok.Header["kid"] = oauth2.Thumbprint(&key.PublicKey)
	raw, err := tok.SignedString(key)
	require.NoError(t, err)
	return raw
}

// TestTwoSiteDeployment: a primary (PostgreSQL, a fresh schema) and an
// associate (its own SQLite) as two processes of the server binary,
// set up as the README's "Sites" walkthrough does.
func TestTwoSiteDeployment(t *testing.T) {
	pgDSN := testenv.PostgresSchemaDSN(t)
	bin := buildServer(t)
	primary := startServer(t, bin, "-data", t.TempDir(), "-db", pgDSN)
	tenantsPW := passwordOf(t, primary.Stdout(), "tenants")
	status, tok := primary.mint("tenants", tenantsPW)
	require.Equal(t, http.StatusCreated, status)
	admin := tok.AccessToken.AccessToken
	primaryHost := strings.TrimPrefix(primary.base, "http://")

	// 1. The primary's operator registers the associate site.
	assocPort := testenv.FreePort(t)
	assocBase := fmt.Sprintf("http://127.0.0.1:%d", assocPort)
	status, env := primary.hostCall(http.MethodPost, "/v3/sites", primaryHost, admin, map[string]any{"site_id": "assoc",
		"base_url": assocBase, "services": []string{"systems", "authenticator"}, "site_admin_tenant_id": "assocadmin"}, nil)
	require.Equal(t, http.StatusCreated, status, env.Message)

	// 2. The associate starts, with its users in a seed file, and prints its
	// admin tenant's public key.
	dir := t.TempDir()
	seed := filepath.Join(dir, "accounts.json")
	require.NoError(t, os.WriteFile(seed, []byte(`{"accounts":[
		{"tenant_id":"assoc1","username":"alice","account_type":"user","password":"alice-password"},
		{"tenant_id":"assoc1","username":"admin","account_type":"user","password":"admin-password"}]}`), 0o600))
	assoc := startServerAt(t, bin, assocPort, "-data", filepath.Join(dir, "data"), "-site", "assoc", "-primary", primary.base,
		"-primary-sync", "500ms", "-mirror-stale-after", "2s", "-config", seed)
	m := regexp.MustCompile(`(?s)Public key of tenant assocadmin[^\n]*\n(-----BEGIN PUBLIC KEY-----.*?-----END PUBLIC KEY-----\n)`).
		FindStringSubmatch(assoc.Stdout())
	require.NotNil(t, m, "the associate prints its admin tenant's key:\n%s", assoc.Stdout())

	// 3. The primary registers the associate's tenants, the admin tenant
	// with that key; the associate publishes assoc1's key itself.
	const assoc1Host, assoc1Base = "assoc1.assoc.test", "http://assoc1.assoc.test"
	status, env = primary.hostCall(http.MethodPost, "/v3/tenants", primaryHost, admin, tenantBody("assocadmin", "assoc", "http://assocadmin.assoc.test", m[1]), nil)
	require.Equal(t, http.StatusCreated, status, env.Message)
	status, env = primary.hostCall(http.MethodPost, "/v3/tenants", primaryHost, admin, tenantBody("assoc1", "assoc", assoc1Base, ""), nil)
	require.Equal(t, http.StatusCreated, status, env.Message)
	var assoc1 tenantResult
	require.Eventually(t, func() bool {
		primary.hostCall(http.MethodGet, "/v3/tenants/assoc1", primaryHost, "", nil, &assoc1)
		return assoc1.PublicKey != ""
	}, 15*time.Second, 100*time.Millisecond, "the associate publishes assoc1's key")

	// 4. A user of assoc1 logs in at the associate, creates and searches a
	// system there.
	var user string
	require.Eventually(t, func() bool {
		var code int
		code, user = assoc.login(assoc1Host, "alice", "alice-password")
		return code == http.StatusCreated
	}, 10*time.Second, 100*time.Millisecond, "the associate's mirror knows assoc1")
	status, env = assoc.hostCall(http.MethodPost, "/v3/systems", assoc1Host, user, map[string]any{"id": "sys1", "systemType": "LINUX",
		"host": "example.org", "defaultAuthnMethod": "PASSWORD", "canExec": false, "rootDir": "/"}, nil)
	require.Equal(t, http.StatusCreated, status, env.Message)
	var found []map[string]any
	status, env = assoc.hostCall(http.MethodGet, "/v3/systems?search=(id.eq.sys1)", assoc1Host, user, nil, &found)
	require.Equal(t, http.StatusOK, status, env.Message)
	assert.Len(t, found, 1)
	status, env = primary.hostCall(http.MethodGet, "/v3/systems/sys1", assoc1Host, user, nil, nil)
	assert.Equal(t, http.StatusForbidden, status, "the primary does not serve systems for assoc1: %s", env.Message)

	// 5. Registry reads at the associate (its mirror); a write through it
	// is forwarded, and the primary accepts the associate's token.
	var dev tenantResult
	status, env = assoc.hostCall(http.MethodGet, "/v3/tenants/admin", assoc1Host, "", nil, &dev)
	require.Equal(t, http.StatusOK, status, env.Message)
	assert.Equal(t, "admin", dev.TenantID)
	_, adminTok := assoc.login(assoc1Host, "admin", "admin-password")
	status, env = assoc.hostCall(http.MethodPut, "/v3/tenants/assoc1", assoc1Host, adminTok, map[string]any{"description": "via the associate"}, nil)
	require.Equal(t, http.StatusOK, status, env.Message)
	var updated struct {
		Description string `json:"description"`
	}
	primary.hostCall(http.MethodGet, "/v3/tenants/assoc1", primaryHost, "", nil, &updated)
	assert.Equal(t, "via the associate", updated.Description, "the primary made the write")

	// 6. Token authority: neither site signs for the other's tenants.
	code, msg := primary.login(assoc1Host, "alice", "alice-password")
	assert.Equal(t, http.StatusForbidden, code, msg)
	assert.Contains(t, msg, "issued by its own site assoc")
	adminHost := "admin.localhost:" + primaryHost[strings.LastIndex(primaryHost, ":")+1:] // the bootstrapped admin tenant's base URL
	code, msg = assoc.login(adminHost, "tenants", tenantsPW)
	assert.Equal(t, http.StatusForbidden, code, msg)
	assert.Contains(t, msg, "issued by its own site local")

	// 7. The associate rotates assoc1's key; the primary accepts tokens of
	// the new key (measured from the rotation's answer).
	status, env = assoc.hostCall(http.MethodPut, "/v3/tokens/keys", assoc1Host, adminTok, map[string]any{"tenant_id": "assoc1"}, nil)
	require.Equal(t, http.StatusCreated, status, env.Message)
	rotated := time.Now()
	_, newTok := assoc.login(assoc1Host, "admin", "admin-password")
	require.NotEqual(t, jwtKid(t, adminTok), jwtKid(t, newTok), "signed with the new key")
	tries := 0
	for {
		tries++
		code, env := primary.hostCall(http.MethodPut, "/v3/tenants/assoc1", assoc1Host, newTok, map[string]any{"description": "new key"}, nil)
		if code == http.StatusOK {
			break
		}
		require.Less(t, time.Since(rotated), 10*time.Second, "the primary does not accept the new key: %s", env.Message)
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("a token of the rotated key was accepted at the primary %v after the rotation answered (attempt %d; a login at the associate included)",
		time.Since(rotated), tries)
	code, env = primary.hostCall(http.MethodPut, "/v3/tenants/assoc1", assoc1Host, adminTok, map[string]any{"description": "old key"}, nil)
	assert.Equal(t, http.StatusOK, code, "the old key verifies during the overlap: %s", env.Message)

	// 8. Another associate's service token at this associate is refused;
	// a public_key update from a site that does not own the tenant too.
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	otherPub, err := oauth2.EncodePublicKeyPEM(&other.PublicKey)
	require.NoError(t, err)
	status, env = primary.hostCall(http.MethodPost, "/v3/sites", primaryHost, admin, map[string]any{"site_id": "assoc2",
		"base_url": "http://assoc2.test", "services": []string{"systems"}, "site_admin_tenant_id": "assoc2admin"}, nil)
	require.Equal(t, http.StatusCreated, status, env.Message)
	status, env = primary.hostCall(http.MethodPost, "/v3/tenants", primaryHost, admin, tenantBody("assoc2admin", "assoc2", "http://assoc2admin.test", otherPub), nil)
	require.Equal(t, http.StatusCreated, status, env.Message)
	peer := selfSigned(t, other, "assoc2admin", "http://assoc2admin.test", "jobs", "assoc")
	status, env = assoc.hostCall(http.MethodGet, "/v3/systems/sys1", assoc1Host, peer, nil, nil)
	assert.Equal(t, http.StatusForbidden, status, env.Message)
	assert.Contains(t, env.Message, "Associate sites do not call each other")
	forged := selfSigned(t, other, "assoc2admin", "http://assoc2admin.test", "tokens", "local")
	status, env = primary.hostCall(http.MethodPut, "/v3/tenants/assoc1", primaryHost, forged, map[string]any{"public_key": otherPub}, nil)
	assert.Equal(t, http.StatusForbidden, status, "another associate publishes no key of assoc1: %s", env.Message)
	status, env = primary.hostCall(http.MethodPut, "/v3/tenants/assoc1", primaryHost, admin, map[string]any{"public_key": otherPub}, nil)
	assert.Equal(t, http.StatusForbidden, status, "nor does the primary's own registry service: %s", env.Message)
	assert.Contains(t, env.Message, "only the services of its own site assoc publish its keys")

	// 9. The primary stops: the associate serves its own services and
	// reports the mirror stale.
	primary.stop()
	status, env = assoc.hostCall(http.MethodGet, "/v3/systems/sys1", assoc1Host, user, nil, nil)
	assert.Equal(t, http.StatusOK, status, env.Message)
	require.Eventually(t, func() bool {
		code, env := assoc.hostCall(http.MethodGet, "/v3/tokens/ready", assoc1Host, "", nil, nil)
		return code == http.StatusServiceUnavailable && strings.Contains(env.Message, "stale")
	}, 10*time.Second, 100*time.Millisecond, "readiness reports the mirror stale")
	status, env = assoc.hostCall(http.MethodGet, "/v3/tenants/assoc1", assoc1Host, "", nil, nil)
	assert.Equal(t, http.StatusOK, status, "registry reads from the saved copy: %s", env.Message)
}

// jwtKid is the kid in a JWT's header.
func jwtKid(t *testing.T, raw string) string {
	t.Helper()
	tok, _, err := jwt.NewParser().ParseUnverified(raw, jwt.MapClaims{})
	require.NoError(t, err)
	kid, _ := tok.Header["kid"].(string)
	return kid
}
