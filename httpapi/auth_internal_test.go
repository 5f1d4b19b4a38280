package httpapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestServiceOf: each operation names the Tapis service it belongs to (the
// names sites list in their services), for the resolver's site rules.
func TestServiceOf(t *testing.T) {
	for path, want := range map[string]string{
		"/v3/systems":                       "systems",
		"/v3/systems/{systemId}/credential": "systems",
		"/v3/tokens":                        "tokens",
		"/v3/tokens/keys":                   "tokens",
		"/v3/tenants/{tenant_id}":           "tenants",
		"/v3/sites":                         "tenants",
		"/v3/oauth2/tokens":                 "authenticator",
		"/v3/oauth2/userinfo":               "authenticator",
		"/v3/files/ops":                     "",
		"/v3":                               "",
		"/.well-known/openid-configuration": "",
		"/v3/systemsx":                      "",
	} {
		assert.Equal(t, want, serviceOf(path), path)
	}
}
