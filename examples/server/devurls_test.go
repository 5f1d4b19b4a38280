package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// -dev advertises the listener's own address for its default tenant (no
// dev.localhost name that resolvers may not map): the tenant's base URL,
// its issuer and discovery document; and the README's "verify our tokens
// in your own service" recipe works against it as written.
func TestServerDevAdvertisesTheListenerAddress(t *testing.T) {
	if testing.Short() {
		t.Skip("requires a full run (not -short): builds and runs the server binary")
	}
	bin := buildServer(t)
	p := startServer(t, bin, "-dev", "-data", t.TempDir())

	var tenant struct {
		BaseURL string `json:"base_url"`
	}
	status, env := p.call(http.MethodGet, "/v3/tenants/dev", "", "", nil, &tenant)
	require.Equal(t, http.StatusOK, status, env.Message)
	assert.Equal(t, p.base, tenant.BaseURL)
	assert.Contains(t, p.Stdout(), "OpenID issuer "+p.base+", Token Web App "+p.base+"/v3/oauth2/webapp")

	// The README recipe: a token by the password grant with scope=openid,
	// verified by go-oidc with every check on.
	resp, err := http.PostForm(p.base+"/v3/oauth2/token", url.Values{"grant_type": {"password"},
		"username": {"testuser1"}, "password": {"testuser1"}, "scope": {"openid"}})
	require.NoError(t, err)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&tok))
	resp.Body.Close()
	require.NotEmpty(t, tok.AccessToken)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, p.base) // the tenant's base URL is its issuer
	require.NoError(t, err)
	verifier := provider.Verifier(&oidc.Config{ClientID: p.base}) // access tokens' aud: the issuer
	hello := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at, err := verifier.Verify(r.Context(), strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var c struct {
			User string `json:"tapis/username"`
		}
		_ = at.Claims(&c)
		fmt.Fprintf(w, "hello %s\n", c.User)
	}))
	t.Cleanup(hello.Close)
	for token, want := range map[string]string{tok.AccessToken: "hello testuser1\n", "garbage": ""} {
		req, err := http.NewRequest(http.MethodGet, hello.URL, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		if want == "" {
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "%s", body)
			continue
		}
		assert.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
		assert.Equal(t, want, string(body))
	}
	p.stop()
}
