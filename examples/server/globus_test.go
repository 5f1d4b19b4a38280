package main

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/globusauth"
	"github.com/tapis-go/tapis/adapters/globusauth/globusauthtest"
)

func TestGlobusOptions(t *testing.T) {
	o, err := parseOptions(nil, envOf(nil), io.Discard)
	require.NoError(t, err)
	gl, err := globusClient(o.globus, false)
	require.NoError(t, err)
	assert.Nil(t, gl, "no client id: no Globus (the endpoints answer 501)")
	assert.Equal(t, globusauth.DefaultTransferURL, o.globus.transferURL, "the real Globus by default")

	env := envOf(map[string]string{"TAPIS_GLOBUS_CLIENT_ID": "client-from-env", "TAPIS_GLOBUS_AUTH_URL": "http://127.0.0.1:1/authorize",
		"TAPIS_GLOBUS_TOKEN_URL": "http://127.0.0.1:1/token", "TAPIS_GLOBUS_TRANSFER_URL": "http://127.0.0.1:1/v0.10/"})
	o, err = parseOptions(nil, env, io.Discard)
	require.NoError(t, err)
	assert.Equal(t, globusOptions{clientID: "client-from-env", authURL: "http://127.0.0.1:1/authorize", tokenURL: "http://127.0.0.1:1/token",
		transferURL: "http://127.0.0.1:1/v0.10/", redirectURL: globusauth.DefaultRedirectURL}, o.globus)
	gl, err = globusClient(o.globus, false)
	require.NoError(t, err)
	assert.NotNil(t, gl)

	o, err = parseOptions([]string{"-globus-client-id", "c", "-globus-transfer-url", "http://transfer.example.org/"}, envOf(nil), io.Discard)
	require.NoError(t, err)
	_, err = globusClient(o.globus, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "TransferURL", "a plain-http Transfer URL off loopback is refused at start")
}

// userCall sends a request with a token (and extra headers); a credential
// check may take its time, so it waits up to 30 s.
func (p *serverProc) userCall(method, path, token string, hdr map[string]string, body any) (int, envelope) {
	p.t.Helper()
	return p.send(method, path, body, nil, 30*time.Second, func(req *http.Request) {
		req.Header.Set("X-Tapis-Token", token)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
	})
}

// TestServerGlobusEndToEnd runs the server binary with a Globus client id
// pointed at a fake Globus (the real one is not reachable from here):
// authUrl -> consent -> tokens -> the files service reads the credential,
// which expires within a minute and is refreshed -> check with Transfer.
func TestServerGlobusEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	const collection = "0a6f1c2e-8d0b-4c55-9a3e-0c6b7f2d4e91"
	// Tokens live 30 s: within the refresh margin from the start, so the
	// first read by a service refreshes them (no clock to move here).
	fake := globusauthtest.New(t, globusauthtest.Options{AccessTTL: 30 * time.Second,
		Collections: map[string]globusauthtest.Collection{collection: {Mapped: true, Dirs: []string{"/data"}}}})
	bin := buildServer(t)
	off := startServer(t, bin, "-dev", "-data", t.TempDir())
	srv := startServer(t, bin, "-dev", "-data", t.TempDir(), "-allow-private-hosts",
		"-globus-client-id", fake.ClientID(), "-globus-auth-url", fake.AuthURL(),
		"-globus-token-url", fake.TokenURL(), "-globus-transfer-url", fake.TransferURL())

	system := map[string]any{"id": "gl1", "systemType": "GLOBUS", "host": collection, "defaultAuthnMethod": "TOKEN",
		"canExec": false, "effectiveUserId": "${apiUserId}", "rootDir": "/data"}
	for _, p := range []*serverProc{off, srv} {
		var tok struct {
			AccessToken struct {
				AccessToken string `json:"access_token"`
			} `json:"access_token"`
		}
		status, env := p.call(http.MethodPost, "/v3/oauth2/tokens", "", "", map[string]any{"grant_type": "password",
			"username": "testuser1", "password": "testuser1"}, &tok)
		require.Equal(t, http.StatusCreated, status, env.Message)
		user := tok.AccessToken.AccessToken
		status, env = p.userCall(http.MethodPost, "/v3/systems", user, nil, system)
		require.Equal(t, http.StatusCreated, status, env.Message)
		status, env = p.userCall(http.MethodGet, "/v3/systems/credential/gl1/globus/authUrl", user, nil, nil)
		if p == off {
			assert.Equal(t, http.StatusNotImplemented, status)
			assert.Contains(t, env.Message, "TAPIS_GLOBUS_CLIENT_ID", "the 501 names the setting")
			continue
		}
		require.Equal(t, http.StatusOK, status, env.Message)
		var start struct {
			URL       string `json:"url"`
			SessionID string `json:"sessionId"`
		}
		require.NoError(t, json.Unmarshal(env.Result, &start))
		require.True(t, strings.HasPrefix(start.URL, fake.AuthURL()), start.URL)
		code, state := fake.Consent(t, start.URL)
		assert.Equal(t, start.SessionID, state)
		status, env = p.userCall(http.MethodPost, "/v3/systems/credential/gl1/user/testuser1/globus/tokens/"+code+"/"+start.SessionID, user, nil, nil)
		require.Equal(t, http.StatusOK, status, env.Message)

		m := regexp.MustCompile(`(?m)^\s+files\s+(\S+)$`).FindStringSubmatch(p.Stdout())
		require.NotNil(t, m, "the files password in:\n%s", p.Stdout())
		status, ftok := p.mint("files", m[1])
		require.Equal(t, http.StatusCreated, status)
		files := map[string]string{"X-Tapis-Tenant": "dev", "X-Tapis-User": "testuser1"}
		status, env = p.userCall(http.MethodGet, "/v3/systems/gl1?returnCredentials=true", ftok.AccessToken.AccessToken, files, nil)
		require.Equal(t, http.StatusOK, status, env.Message)
		var sys struct {
			AuthnCredential struct {
				AccessToken  string `json:"accessToken"`
				RefreshToken string `json:"refreshToken"`
			} `json:"authnCredential"`
		}
		require.NoError(t, json.Unmarshal(env.Result, &sys))
		assert.True(t, strings.HasPrefix(sys.AuthnCredential.AccessToken, globusauthtest.SecretPrefix+"access"))
		exchanges, refreshes, _ := fake.Counts()
		assert.Equal(t, 1, exchanges)
		assert.Equal(t, 1, refreshes, "the token expiring within a minute was refreshed before the files service got it")

		status, env = p.userCall(http.MethodPost, "/v3/systems/credential/gl1/user/testuser1/check", user, nil, nil)
		assert.Equal(t, http.StatusOK, status, env.Message)
		_, _, transfers := fake.Counts()
		assert.Equal(t, 2, transfers, "endpoint/{id} and an ls of rootDir at Globus Transfer")
		assert.NotContains(t, p.Stderr()+p.Stdout(), globusauthtest.SecretPrefix, "no Globus token or code in the server's output")
	}
}
