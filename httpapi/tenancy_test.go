package httpapi_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/internal/testenv"
)

func svcHeaders(t *testing.T, env *testenv.Env, svc string) map[string]string {
	return map[string]string{"X-Tapis-Token": env.ServiceToken(t, svc)}
}

func TestEnvelopeOnPublicReads(t *testing.T) {
	env := testenv.New(t)
	r := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/sites"})
	require.Equal(t, 200, r.Code)
	assert.ElementsMatch(t, []string{"result", "status", "message", "version", "metadata"}, keys(r.Body))
	assert.NotContains(t, string(r.Raw), "$schema")
	sites := r.Body["result"].([]any)
	require.Len(t, sites, 1)
	site := sites[0].(map[string]any)
	assert.Equal(t, "local", site["site_id"])
	assert.Equal(t, true, site["primary"])
	assert.Equal(t, "http://${tenant_id}.tapis.test", site["tenant_base_url_template"])
	assert.Regexp(t, regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$`), site["create_time"])

	r = env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants"})
	require.Equal(t, 200, r.Code)
	var ids []string
	for _, x := range r.Body["result"].([]any) {
		ids = append(ids, x.(map[string]any)["tenant_id"].(string))
	}
	assert.Equal(t, []string{"admin", "dev", "other"}, ids)

	r = env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/dev"})
	require.Equal(t, 200, r.Code)
	dev := r.Result()
	assert.Equal(t, "ACTIVE", dev["status"])
	assert.Equal(t, "http://dev.tapis.test/v3/tokens", dev["token_service"])
	assert.Equal(t, []any{"authenticator"}, dev["token_gen_services"])
	assert.True(t, strings.HasPrefix(dev["public_key"].(string), "-----BEGIN PUBLIC KEY-----\n"))
	assert.NotContains(t, dev, "description", "empty optional fields are left out")

	r = env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants?select=tenant_id,status"})
	require.Equal(t, 200, r.Code)
	assert.ElementsMatch(t, []string{"tenant_id", "status"}, keys(r.Body["result"].([]any)[0].(map[string]any)))
	r = env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants?select=tenant_id,secret"})
	assertRefused(t, r, 400, "secret not selectable")

	assertRefused(t, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/nope"}), 404, "No tenant found with tenant_id nope.")
	assertRefused(t, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/sites/nope"}), 404, "No site found with site_id nope.")
	assertRefused(t, env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/tenants/dev"}), 400, "Deleting tenants is not supported; update the tenant status to inactive instead.")
	assertRefused(t, env.Do(t, testenv.Request{Method: "GET", Path: "/v3/sites", Headers: map[string]string{"X-Tapis-Token": "junk"}}), 401, "not a well-formed JWT")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestSitesRules(t *testing.T) {
	env := testenv.New(t)
	h := svcHeaders(t, env, "tenants")
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/sites", Headers: h, Body: map[string]any{
		"site_id": "assoc", "base_url": "https://assoc.example.org", "primary": false, "services": []string{"systems"}, "site_admin_tenant_id": "assoc-admin"}})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Equal(t, "Site object created successfully.", r.Message())
	assert.Equal(t, "tenants@admin", r.Result()["created_by"])

	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/sites", Headers: h, Body: map[string]any{
		"site_id": "p2", "base_url": "https://p2.example.org", "primary": true, "services": []string{}, "site_admin_tenant_id": "admin"}})
	assertRefused(t, r, 400, "a primary site already exists")
	assert.Contains(t, r.Message(), "tenant_base_url_template is required for primary site")

	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/sites", Headers: h, Body: map[string]any{
		"site_id": "a2", "base_url": "not a url", "services": []string{"bad name"}, "site_admin_tenant_id": "x", "tenant_base_url_template": "https://${tenant_id}.x"}})
	assertRefused(t, r, 400, "base_url must be an absolute")
	assert.Contains(t, r.Message(), `services: "bad name"`)
	assert.Contains(t, r.Message(), "only applies to primary sites")

	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/sites", Headers: h, Body: map[string]any{
		"site_id": "assoc", "base_url": "https://assoc2.example.org", "services": []string{}, "site_admin_tenant_id": "x"}})
	assertRefused(t, r, 409, "uniqueness")

	// Only tenant creators (tenants@admin by default) change the registry.
	for name, hdr := range map[string]map[string]string{
		"user token":        {"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")},
		"other service":     svcHeaders(t, env, "files"),
		"dev tenant admin?": {"X-Tapis-Token": env.UserToken(t, "dev", "testuser1")},
	} {
		r = env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/sites/assoc", Headers: hdr})
		assertRefused(t, r, 403, "Not authorized to modify the registry of tenants.")
		_ = name
	}
	assertRefused(t, env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/sites/assoc"}), 401, "No Tapis access token")
	assertRefused(t, env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/sites/local", Headers: h}), 409, "still owns tenants")
	r = env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/sites/assoc", Headers: h})
	require.Equal(t, 200, r.Code, "body: %s", r.Raw)
	assert.Nil(t, r.Body["result"])
	assert.Equal(t, "Site assoc deleted successfully.", r.Message())
}

func TestTenantLifecycle(t *testing.T) {
	env := testenv.New(t)
	h := svcHeaders(t, env, "tenants")
	require.Equal(t, 201, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tenants/owners", Headers: h,
		Body: map[string]any{"name": "Jane", "email": "jane@example.org", "institution": "UT"}}).Code)
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tenants/ldaps", Headers: h, Body: map[string]any{
		"ldap_id": "tacc-users", "url": "ldaps://ldap.example.org", "port": 636, "use_ssl": true, "user_dn": "ou=People,dc=x",
		"bind_dn": "cn=svc,dc=x", "bind_credential": "ldap.tacc-users", "account_type": "user"}})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Regexp(t, `^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$`, r.Result()["create_time"])

	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tenants", Headers: h, Body: map[string]any{
		"tenant_id": "owners", "base_url": "nope", "site_id": "nosite", "owner": "ghost@example.org",
		"user_ldap_connection_id": "noldap", "status": "weird"}})
	assertRefused(t, r, 400, "'owners' is a reserved keyword")
	for _, want := range []string{"base_url must be an absolute", "token_service is required", "security_kernel is required",
		"authenticator is required", "admin_user is required", "status must be one of", "site nosite not found",
		"Owner ghost@example.org not found", "LDAP noldap not found"} {
		assert.Contains(t, r.Message(), want, "every broken rule is named")
	}

	body := map[string]any{"tenant_id": "tacc", "base_url": "https://tacc.tapis.test", "site_id": "local",
		"token_service": "https://tacc.tapis.test/v3/tokens", "security_kernel": "https://tacc.tapis.test/v3/security",
		"authenticator": "https://tacc.tapis.test/v3/oauth2", "owner": "jane@example.org", "admin_user": "boss",
		"token_gen_services": []string{"authenticator"}, "user_ldap_connection_id": "tacc-users", "description": "TACC"}
	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tenants", Headers: h, Body: body})
	require.Equal(t, 201, r.Code, "body: %s", r.Raw)
	assert.Equal(t, "ACTIVE", r.Result()["status"], "status defaults to active")
	assert.NotEmpty(t, r.Result()["public_key"], "keys are generated at creation")
	jwks := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/tacc/jwks"})
	require.Equal(t, 200, jwks.Code)
	assert.Len(t, jwks.Body["keys"], 1)
	assertRefused(t, env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tenants", Headers: h, Body: body}), 409, "tacc already exists")

	// In-use references cannot be deleted.
	assertRefused(t, env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/tenants/ldaps/tacc-users", Headers: h}), 409, "This LDAP is in use by existing tenants")
	assertRefused(t, env.Do(t, testenv.Request{Method: "DELETE", Path: "/v3/tenants/owners/jane@example.org", Headers: h}), 409, "owner of existing tenants")

	// Update: partial, immutable fields named, clearing allowed, history written.
	boss := map[string]string{"X-Tapis-Token": env.UserToken(t, "tacc", "boss")}
	up := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tenants/tacc", Host: "tacc.tapis.test", Headers: boss,
		Body: map[string]any{"base_url": "https://x", "site_id": "y", "tenant_id": "z", "public_key": "k"}})
	assertRefused(t, up, 400, "base_url cannot be changed")
	assert.Contains(t, up.Message(), "site_id cannot be changed")
	assert.Contains(t, up.Message(), "tenant_id cannot be changed")
	assert.Contains(t, up.Message(), "public_key is managed by the Tokens service")
	up = env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tenants/tacc", Host: "tacc.tapis.test", Headers: boss,
		Body: map[string]any{"description": "", "token_gen_services": []string{}, "status": "inactive"}})
	require.Equal(t, 200, up.Code, "body: %s", up.Raw)
	assert.NotContains(t, up.Result(), "description", "an empty string clears the description")
	assert.Equal(t, "INACTIVE", up.Result()["status"])
	hist := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants/tacc/history"})
	require.Equal(t, 200, hist.Code)
	recs := hist.Body["result"].([]any)
	require.Len(t, recs, 1)
	rec := recs[0].(map[string]any)
	assert.Equal(t, "boss@tacc", rec["updated_by"])
	assert.Equal(t, map[string]any{"prev": "TACC", "new": ""}, rec["updates"].(map[string]any)["description"])
	assert.Equal(t, map[string]any{"prev": "active", "new": "inactive"}, rec["updates"].(map[string]any)["status"])

	// An inactive tenant's tokens stop validating; it leaves the default listing.
	assertRefused(t, env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tenants/tacc", Host: "tacc.tapis.test", Headers: boss,
		Body: map[string]any{"status": "active"}}), 401, "not active")
	list := env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants"})
	assert.NotContains(t, string(list.Raw), `"tacc"`)
	list = env.Do(t, testenv.Request{Method: "GET", Path: "/v3/tenants?show_inactive=true"})
	assert.Contains(t, string(list.Raw), `"tacc"`)

	// Another tenant's admin may not update it.
	other := env.Do(t, testenv.Request{Method: "PUT", Path: "/v3/tenants/tacc", Headers: map[string]string{"X-Tapis-Token": env.UserToken(t, "dev", "testadmin")},
		Body: map[string]any{"description": "pwned"}})
	assertRefused(t, other, 403, "Not authorized to update tenant tacc.")
}

func TestHumaErrorsUseTheEnvelope(t *testing.T) {
	env := testenv.New(t)
	h := svcHeaders(t, env, "tenants")
	r := env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tenants/ldaps", Headers: h, Body: map[string]any{"port": "not-a-number", "bogus": 1}})
	assertRefused(t, r, 400, "port")
	assert.Contains(t, r.Message(), "bogus", "every schema problem is named")
	assert.NotContains(t, string(r.Raw), "$schema")
	assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
	r = env.Do(t, testenv.Request{Method: "POST", Path: "/v3/tenants/owners", Headers: h, Body: []byte(`{"name": `)})
	assert.Equal(t, 400, r.Code, "malformed JSON: %s", r.Raw)
	assert.Equal(t, "error", r.Body["status"])
	assert.NotEmpty(t, r.Header.Get("X-Request-Id"))
}
