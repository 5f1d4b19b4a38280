package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/oauth2"
)

// envelope is the Tapis response envelope with a raw result.
type envelope struct {
	Result  json.RawMessage `json:"result"`
	Status  string          `json:"status"`
	Message string          `json:"message"`
	Version string          `json:"version"`
}

type gateway struct {
	t   *testing.T
	url string
}

func startGateway(t *testing.T) gateway {
	t.Helper()
	handler, srv, err := newGateway(context.Background(), "gateway.test")
	require.NoError(t, err)
	ts := httptest.NewServer(handler)
	t.Cleanup(func() {
		ts.Close()
		_ = srv.Close()
	})
	return gateway{t: t, url: ts.URL}
}

// call sends a request (body as JSON when not nil) and returns the status
// and the raw body.
func (g gateway) call(method, path, token string, body any) (int, []byte) {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		require.NoError(g.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, g.url+path, rd)
	require.NoError(g.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("X-Tapis-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(g.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(g.t, err)
	return resp.StatusCode, raw
}

// callTapis sends a request answered in the Tapis envelope and decodes it.
func (g gateway) callTapis(method, path, token string, body any) (int, envelope) {
	g.t.Helper()
	status, raw := g.call(method, path, token, body)
	var env envelope
	require.NoError(g.t, json.Unmarshal(raw, &env), "not JSON: %s", raw)
	return status, env
}

func passwordGrant(user, password string) map[string]string {
	return map[string]string{"grant_type": "password", "username": user, "password": password}
}

func TestGatewayOwnRoutes(t *testing.T) {
	g := startGateway(t)
	status, raw := g.call(http.MethodGet, "/gateway/status", "", nil)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	assert.JSONEq(t, `{"status":"ok","tenant":"dev"}`, string(raw))

	status, raw = g.call(http.MethodGet, "/", "", nil)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, string(raw), "<h1>Research gateway</h1>")
}

func TestGatewayPasswordGrantAndUserinfo(t *testing.T) {
	g := startGateway(t)

	status, env := g.callTapis(http.MethodPost, "/v3/oauth2/tokens", "", passwordGrant("alice", gatewayUsers["alice"]))
	require.Equal(t, http.StatusCreated, status, env.Message)
	assert.Equal(t, "success", env.Status)
	var tok struct {
		AccessToken struct {
			AccessToken string `json:"access_token"`
		} `json:"access_token"`
		RefreshToken *struct{} `json:"refresh_token"`
	}
	require.NoError(t, json.Unmarshal(env.Result, &tok))
	require.NotEmpty(t, tok.AccessToken.AccessToken)
	assert.Nil(t, tok.RefreshToken, "no client, so no refresh token")

	status, env = g.callTapis(http.MethodGet, "/v3/oauth2/userinfo", tok.AccessToken.AccessToken, nil)
	require.Equal(t, http.StatusOK, status, env.Message)
	var profile struct {
		Username string `json:"username"`
	}
	require.NoError(t, json.Unmarshal(env.Result, &profile))
	assert.Equal(t, "alice", profile.Username)

	status, env = g.callTapis(http.MethodGet, "/v3/oauth2/userinfo", "", nil)
	assert.Equal(t, http.StatusUnauthorized, status, env.Message)
}

func TestGatewayRefusesBadPasswords(t *testing.T) {
	g := startGateway(t)
	for name, body := range map[string]map[string]string{
		"wrong password":           passwordGrant("alice", gatewayUsers["bob"]),
		"unknown user":             passwordGrant("mallory", gatewayUsers["alice"]),
		"built-in dev user absent": passwordGrant("testuser1", "testuser1"),
	} {
		status, env := g.callTapis(http.MethodPost, "/v3/oauth2/tokens", "", body)
		assert.Equal(t, http.StatusBadRequest, status, name)
		assert.Equal(t, "error", env.Status, name)
		assert.Equal(t, "Invalid username/password combination.", env.Message, name)
	}
	// Gateway users log in to their tenant only: the Host header picks the
	// tenant whose base URL it matches.
	for host, want := range map[string]int{"dev.gateway.test": http.StatusCreated, "admin.gateway.test": http.StatusBadRequest} {
		body := `{"grant_type":"password","username":"alice","password":"` + gatewayUsers["alice"] + `"}`
		req, err := http.NewRequest(http.MethodPost, g.url+"/v3/oauth2/tokens", bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		raw, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, want, resp.StatusCode, "alice at %s: %s", host, raw)
	}
}

func TestGatewayTapisRoutes(t *testing.T) {
	g := startGateway(t)
	status, env := g.callTapis(http.MethodGet, "/v3/tenants", "", nil)
	require.Equal(t, http.StatusOK, status, env.Message)
	assert.Equal(t, "success", env.Status)
	assert.NotEmpty(t, env.Version)
	var tenants []struct {
		TenantID string `json:"tenant_id"`
	}
	require.NoError(t, json.Unmarshal(env.Result, &tenants))
	ids := []string{}
	for _, x := range tenants {
		ids = append(ids, x.TenantID)
	}
	assert.ElementsMatch(t, []string{"admin", "dev"}, ids)

	// huma's own errors of the Tapis operations use the envelope too.
	status, env = g.callTapis(http.MethodGet, "/v3/tenants?limit=abc", "", nil)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Equal(t, "error", env.Status)
	assert.Contains(t, env.Message, "limit")
}

func TestCheckPasswordContract(t *testing.T) {
	check := checkPassword(map[string]string{"carol": "s3cret"})
	ctx := context.Background()
	id, err := check(ctx, "dev", "carol", "s3cret")
	require.NoError(t, err)
	assert.Equal(t, "carol", id.Username)
	for _, c := range [][2]string{{"carol", "s3cre"}, {"carol", ""}, {"dave", "s3cret"}, {"dave", ""}} {
		_, err := check(ctx, "dev", c[0], c[1])
		assert.ErrorIs(t, err, oauth2.ErrInvalidCredentials, "%q / %q", c[0], c[1])
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = check(cancelled, "dev", "carol", "s3cret")
	assert.True(t, errors.Is(err, context.Canceled))
}
