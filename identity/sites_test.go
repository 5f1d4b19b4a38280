package identity_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/identity"
	"github.com/tapis-go/tapis/tenancy"
)

// TestCrossSiteRules: the rules of the original's JWT filter between sites
// (reference auth.md §3.8), each refused and, beside it, the nearest
// request that passes. The world has the primary "local" (tenants admin,
// dev), and the associates "assoc" (assocadmin, assoc1) and "assoc2"
// (assoc2admin, assoc2t), both running systems only.
func TestCrossSiteRules(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	primary := w.res
	assoc := resolver(t, w.env, "assoc")
	assoc2 := resolver(t, w.env, "assoc2")

	type tc struct {
		name    string
		res     *identity.Resolver
		req     identity.Request
		refused string // "" when it passes
	}
	assocSvcAtPrimary := w.service(t, "assocadmin", "tokens", "local")
	assocSvcAtHome := w.service(t, "assocadmin", "jobs", "assoc")
	primarySvcAtAssoc := w.service(t, "admin", "jobs", "assoc")
	assoc2SvcAtAssoc := w.service(t, "assoc2admin", "jobs", "assoc")
	primaryJobs := w.service(t, "admin", "jobs", "local")
	assoc1User := w.user(t, "assoc1", "u1")
	devUser := w.user(t, "dev", "testuser1")
	cases := []tc{
		// SK and Tokens serve their own site only.
		{"an associate's service token at the primary's Tokens API", primary,
			identity.Request{Host: devHost, Token: assocSvcAtPrimary, Service: "tokens"}, "The tokens service of site local serves its own site only"},
		{"... at the primary's Security Kernel", primary,
			identity.Request{Host: devHost, Token: assocSvcAtPrimary, Service: "security"}, "The security service of site local serves its own site only"},
		{"the primary's service token at an associate's Tokens API", assoc,
			identity.Request{Host: assoc1Host, Token: primarySvcAtAssoc, Service: "tokens"}, "The tokens service of site assoc serves its own site only"},
		{"an associate's service token at its own Tokens API", assoc,
			identity.Request{Host: assoc1Host, Token: assocSvcAtHome, Service: "tokens"}, ""},
		{"the primary's service token at an associate's systems", assoc,
			identity.Request{Host: assoc1Host, Token: primarySvcAtAssoc, Service: "systems"}, ""},

		// Associates do not call each other.
		{"one associate's service token at another", assoc,
			identity.Request{Host: assoc1Host, Token: assoc2SvcAtAssoc, Service: "systems"}, "Associate sites do not call each other: tenant assoc2admin belongs to site assoc2"},
		{"... whatever the service", assoc,
			identity.Request{Host: assoc1Host, Token: assoc2SvcAtAssoc}, "Associate sites do not call each other"},
		{"one associate's user token at another", assoc2,
			identity.Request{Host: assoc1Host, Token: assoc1User, Service: "systems"}, "Associate sites do not call each other: tenant assoc1 belongs to site assoc"},
		{"an associate's user at its own site", assoc2,
			identity.Request{Host: assoc2Host, Token: w.user(t, "assoc2t", "u2"), Service: "systems"}, ""},
		{"a primary tenant's user at an associate", assoc,
			identity.Request{Host: devHost, Token: devUser, Service: "systems"}, ""},

		// The primary refuses a service the tenant's own site runs.
		{"an associate's service token at the primary's systems", primary,
			identity.Request{Host: devHost, Token: assocSvcAtPrimary, Service: "systems"}, "Site assoc runs the systems service for tenant assocadmin; the primary site does not serve it"},
		{"... at the primary's authenticator, which it does not run", primary,
			identity.Request{Host: devHost, Token: assocSvcAtPrimary, Service: "authenticator"}, ""},
		{"... at the primary's tenants service (the registry is the primary's)", primary,
			identity.Request{Host: devHost, Token: assocSvcAtPrimary, Service: "tenants"}, ""},
		{"an associate's user at the primary's systems", primary,
			identity.Request{Host: assoc1Host, Token: assoc1User, Service: "systems"}, "Site assoc runs the systems service for tenant assoc1"},
		{"an associate's user at the primary's tenants service", primary,
			identity.Request{Host: assoc1Host, Token: assoc1User, Service: "tenants"}, ""},
		{"the primary acting for an associate's tenant in systems", primary,
			identity.Request{Host: devHost, Token: primaryJobs, OBOTenant: "assoc1", OBOUser: "u1", Service: "systems"}, "Site assoc runs the systems service for tenant assoc1"},
		{"the primary acting for an associate's tenant in a service it does not run", primary,
			identity.Request{Host: devHost, Token: primaryJobs, OBOTenant: "assoc1", OBOUser: "u1", Service: "authenticator"}, ""},
		{"the primary acting for its own tenant in systems", primary,
			identity.Request{Host: devHost, Token: primaryJobs, OBOTenant: "dev", OBOUser: "u1", Service: "systems"}, ""},

		// An associate serves only the services it runs.
		{"an associate's authenticator, which it does not run", assoc,
			identity.Request{Host: assoc1Host, Token: assoc1User, Service: "authenticator"}, "Site assoc does not run the authenticator service"},
		{"an associate's systems", assoc,
			identity.Request{Host: assoc1Host, Token: assoc1User, Service: "systems"}, ""},
		{"an associate's registry reads (its mirror)", assoc,
			identity.Request{Host: assoc1Host, Token: assoc1User, Service: "tenants"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := c.res.Resolve(ctx, c.req)
			if c.refused == "" {
				require.NoError(t, err)
				assert.True(t, p.Authenticated())
				return
			}
			refused(t, err, tenancy.ErrForbidden, c.refused)
			assert.Equal(t, tenancy.Principal{}, p, "no principal with a refusal")
		})
	}
}
