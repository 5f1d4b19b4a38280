package vaultkv_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/vaultkv"
	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/credentials/credentialstest"
)

const testToken = "hvs.test-token-not-a-secret-elsewhere"

// fakeKV speaks the KV v2 endpoints the adapter uses, as Vault answers
// them: GET and PUT/POST on /v1/<mount>/data/<path>, DELETE on
// /v1/<mount>/metadata/<path>; every request needs the token. Anything
// else fails the test. Paths are kept as Vault sees them (decoded once).
type fakeKV struct {
	t     *testing.T
	mount string

	mu       sync.Mutex
	secrets  map[string]*entry
	requests []string // "METHOD decoded-path"
	rawURIs  []string
}

type entry struct {
	data    map[string]any
	version int
	deleted bool // latest version soft-deleted (by another client)
}

func newFake(t *testing.T, mount string) (*fakeKV, *httptest.Server) {
	f := &fakeKV{t: t, mount: mount, secrets: map[string]*entry{}}
	srv := httptest.NewServer(f) // no ServeMux: paths are not cleaned
	t.Cleanup(srv.Close)
	return f, srv
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func versionMeta(e *entry) map[string]any {
	m := map[string]any{"created_time": "2026-01-01T00:00:00.000000Z", "custom_metadata": nil,
		"deletion_time": "", "destroyed": false, "version": e.version}
	if e.deleted {
		m["deletion_time"] = "2026-01-02T00:00:00.000000Z"
	}
	return m
}

func (f *fakeKV) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.Method+" "+r.URL.Path)
	f.rawURIs = append(f.rawURIs, r.RequestURI)
	if r.Header.Get("X-Vault-Token") != testToken {
		writeJSON(w, http.StatusForbidden, map[string]any{"errors": []string{"permission denied"}})
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/"+f.mount+"/")
	if !ok || r.URL.RawQuery != "" {
		f.unexpected(w, r)
		return
	}
	if p, ok := strings.CutPrefix(rest, "data/"); ok {
		switch r.Method {
		case http.MethodGet:
			e := f.secrets[p]
			switch {
			case e == nil:
				writeJSON(w, http.StatusNotFound, map[string]any{"errors": []string{}})
			case e.deleted:
				writeJSON(w, http.StatusNotFound, map[string]any{"data": map[string]any{"data": nil, "metadata": versionMeta(e)}})
			default:
				writeJSON(w, http.StatusOK, map[string]any{"request_id": "r", "lease_id": "", "renewable": false,
					"lease_duration": 0, "data": map[string]any{"data": e.data, "metadata": versionMeta(e)}})
			}
		case http.MethodPut, http.MethodPost:
			var body struct {
				Data map[string]any `json:"data"`
			}
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Data == nil {
				writeJSON(w, http.StatusBadRequest, map[string]any{"errors": []string{"no data provided"}})
				return
			}
			e := f.secrets[p]
			if e == nil {
				e = &entry{}
				f.secrets[p] = e
			}
			e.data, e.deleted = body.Data, false
			e.version++
			writeJSON(w, http.StatusOK, map[string]any{"data": versionMeta(e)})
		default:
			f.unexpected(w, r)
		}
		return
	}
	if p, ok := strings.CutPrefix(rest, "metadata/"); ok && r.Method == http.MethodDelete {
		delete(f.secrets, p)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	f.unexpected(w, r)
}

func (f *fakeKV) unexpected(w http.ResponseWriter, r *http.Request) {
	f.t.Errorf("unexpected request %s %s", r.Method, r.RequestURI)
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"errors": []string{"unsupported"}})
}

func (f *fakeKV) stored(path string) (map[string]any, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.secrets[path]
	if !ok {
		return nil, false
	}
	return maps.Clone(e.data), true
}

func (f *fakeKV) log() (decoded, raw []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...), append([]string(nil), f.rawURIs...)
}

func openVault(t *testing.T, addr, token, mount, prefix string) *vaultkv.Vault {
	t.Helper()
	v, err := vaultkv.Open(vaultkv.Config{Address: addr, Token: token, Mount: mount, Prefix: prefix,
		Timeout: 5 * time.Second, MaxRetries: -1})
	require.NoError(t, err)
	return v
}

func TestConformance(t *testing.T) {
	credentialstest.RunVaultTests(t, func(t *testing.T) credentials.Vault {
		_, srv := newFake(t, "secret")
		return openVault(t, srv.URL, testToken, "secret", "tapis/credentials")
	})
}

func TestConformanceAudited(t *testing.T) {
	credentialstest.RunVaultTests(t, func(t *testing.T) credentials.Vault {
		_, srv := newFake(t, "kv")
		return credentials.Audited(openVault(t, srv.URL, testToken, "kv", ""), &credentials.MemoryAuditor{}, nil)
	})
}

func TestPathLayoutAndData(t *testing.T) {
	ctx := context.Background()
	f, srv := newFake(t, "secret")
	v := openVault(t, srv.URL, testToken, "/secret/", "/tapis/credentials/")
	k := credentials.Key{Tenant: "dev", SystemID: "sys1", User: "alice"}
	c := credentials.Credential{LoginUser: "alice", Password: "pw", Updated: credentialstest.When}
	require.NoError(t, v.PutCredential(ctx, k, c))
	data, ok := f.stored("tapis/credentials/dev/sys1/alice")
	require.True(t, ok)
	assert.Equal(t, map[string]any{"loginUser": "alice", "password": "pw",
		"updated": credentialstest.StoredTime(credentialstest.When).Format(time.RFC3339Nano)}, data,
		"the set fields only, updated in RFC 3339")

	odd := credentials.Key{Tenant: "dev", SystemID: "x/y", User: ".."}
	require.NoError(t, v.PutCredential(ctx, odd, c))
	_, err := v.GetCredential(ctx, odd)
	require.NoError(t, err)
	require.NoError(t, v.DeleteCredential(ctx, odd))
	decoded, raw := f.log()
	assert.Equal(t, []string{
		"PUT /v1/secret/data/tapis/credentials/dev/sys1/alice",
		"PUT /v1/secret/data/tapis/credentials/dev/x%2Fy/%2E%2E",
		"GET /v1/secret/data/tapis/credentials/dev/x%2Fy/%2E%2E",
		"DELETE /v1/secret/metadata/tapis/credentials/dev/x%2Fy/%2E%2E",
	}, decoded)
	assert.Equal(t, "/v1/secret/data/tapis/credentials/dev/x%252Fy/%252E%252E", raw[1],
		"the escapes reach Vault escaped once more, so it keeps them")
	for _, uri := range raw {
		assert.NotContains(t, uri, "pw")
	}

	f2, srv2 := newFake(t, "kv")
	c2, err := api.NewClient(&api.Config{Address: srv2.URL})
	require.NoError(t, err)
	c2.SetToken(testToken)
	v2, err := vaultkv.New(c2, "kv", "")
	require.NoError(t, err)
	require.NoError(t, v2.PutCredential(ctx, credentials.Key{Tenant: "dév", SystemID: "s", User: "a b"}, c))
	decoded, _ = f2.log()
	assert.Equal(t, []string{"PUT /v1/kv/data/d%C3%A9v/s/a%20b"}, decoded, "no prefix; unicode and spaces escaped")
}

func TestSoftDeletedVersionIsNotFound(t *testing.T) {
	ctx := context.Background()
	f, srv := newFake(t, "secret")
	v := openVault(t, srv.URL, testToken, "secret", "p")
	k := credentials.Key{Tenant: "dev", SystemID: "s", User: "u"}
	require.NoError(t, v.PutCredential(ctx, k, credentials.Credential{Password: "x"}))
	f.mu.Lock()
	f.secrets["p/dev/s/u"].deleted = true
	f.mu.Unlock()
	_, err := v.GetCredential(ctx, k)
	assert.ErrorIs(t, err, credentials.ErrNotFound)
}

func TestTokenIsSentAndNeverEchoed(t *testing.T) {
	ctx := context.Background()
	_, srv := newFake(t, "secret")
	const wrong = "hvs.wrong-token-value"
	v := openVault(t, srv.URL, wrong, "secret", "p")
	k := credentials.Key{Tenant: "dev", SystemID: "s", User: "u"}
	c := credentialstest.Full("tok")
	errPut := v.PutCredential(ctx, k, c)
	_, errGet := v.GetCredential(ctx, k)
	errDel := v.DeleteCredential(ctx, k)
	for _, err := range []error{errPut, errGet, errDel} {
		require.Error(t, err)
		assert.NotErrorIs(t, err, credentials.ErrNotFound, "a refused request is no missing credential")
		assert.Contains(t, err.Error(), "permission denied")
		assert.NotContains(t, err.Error(), wrong)
		for _, s := range credentialstest.Secrets(c) {
			assert.NotContains(t, err.Error(), s)
		}
	}
	assert.Equal(t, "vaultkv.Config{Address:\"a\" Token:redacted Mount:\"\" Prefix:\"\" Timeout:0s MaxRetries:0}",
		fmt.Sprintf("%v", vaultkv.Config{Address: "a", Token: wrong}))
	assert.NotContains(t, fmt.Sprintf("%+v %#v", vaultkv.Config{Token: wrong}, vaultkv.Config{Token: wrong}), wrong)
}

func TestEmptyKeyPartsAreInvalid(t *testing.T) {
	ctx := context.Background()
	_, srv := newFake(t, "secret")
	v := openVault(t, srv.URL, testToken, "secret", "")
	for _, k := range []credentials.Key{{SystemID: "s", User: "u"}, {Tenant: "t", User: "u"}, {Tenant: "t", SystemID: "s"}} {
		assert.ErrorIs(t, v.PutCredential(ctx, k, credentials.Credential{Password: "x"}), credentials.ErrInvalid)
		_, err := v.GetCredential(ctx, k)
		assert.ErrorIs(t, err, credentials.ErrInvalid)
		assert.ErrorIs(t, v.DeleteCredential(ctx, k), credentials.ErrInvalid)
	}
}

func TestNewRejectsBadMountAndPrefix(t *testing.T) {
	client, err := api.NewClient(&api.Config{Address: "http://127.0.0.1:1"})
	require.NoError(t, err)
	for _, c := range [][2]string{{"", "p"}, {"/", "p"}, {"secret", "a//b"}, {"secret", "a/../b"}, {"se/./cret", ""}} {
		_, err := vaultkv.New(client, c[0], c[1])
		assert.Error(t, err, "%q", c)
	}
	_, err = vaultkv.New(nil, "secret", "")
	assert.Error(t, err)
}

func TestStalledServerFailsWithinTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(func() {
		close(release)
		srv.Close() // waits for the handlers: none is left behind
	})
	const timeout = 300 * time.Millisecond
	v, err := vaultkv.Open(vaultkv.Config{Address: srv.URL, Token: testToken, Timeout: timeout, MaxRetries: -1})
	require.NoError(t, err)
	start := time.Now()
	_, err = v.GetCredential(context.Background(), credentials.Key{Tenant: "t", SystemID: "s", User: "u"})
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.NotErrorIs(t, err, credentials.ErrNotFound)
	assert.Less(t, elapsed, timeout+timeout/10+100*time.Millisecond, "the request timeout holds")

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = v.PutCredential(ctx, credentials.Key{Tenant: "t", SystemID: "s", User: "u"}, credentials.Credential{Password: "x"})
	require.Error(t, err)
	assert.Less(t, time.Since(start), timeout, "the caller's deadline holds too")
}
