package oauth2_test

import (
	"testing"

	"github.com/tapis-go/tapis/internal/testenv"
)

// Seeding an instance makes three RSA keys, most of a test's time here,
// so the service-level tests that leave the clock, the tenant
// configurations and each other's clients alone share one instance (each
// names its own clients and users), and those that move the clock share
// another, in order. Tests that change a tenant's configuration are in
// TestTenantConfig.

type instanceTest struct {
	name string
	fn   func(*testing.T, *testenv.Env)
}

func runOn(t *testing.T, env *testenv.Env, tests []instanceTest) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, env) })
	}
}

func TestOnOneInstance(t *testing.T) {
	runOn(t, testenv.New(t), []instanceTest{
		{"CreateClient", testCreateClient},
		{"CallbackRules", testCallbackRules},
		{"ClientsBelongToTheirOwner", testClientsBelongToTheirOwner},
		{"EnsureWebappClient", testEnsureWebappClient},
		{"UnknownGrantTypes", testUnknownGrantTypes},
		{"PasswordGrant", testPasswordGrant},
		{"AuthenticatorSpellsTheUser", testAuthenticatorSpellsTheUser},
		{"RefreshGrant", testRefreshGrant},
		{"AuthorizationCodeGrant", testAuthorizationCodeGrant},
		{"CheckAuthorize", testCheckAuthorize},
		{"ApproveAndDeny", testApproveAndDeny},
		{"DeviceLifetimeIsCapped", testDeviceLifetimeIsCapped},
		{"DeviceCodesPerAddressAreCounted", testDeviceCodesPerAddressAreCounted},
		{"CreateTokenValidation", testCreateTokenValidation},
		{"CreateTokenWithBasic", testCreateTokenWithBasic},
		{"SelfMint", testSelfMint},
		{"TokenGenerators", testTokenGenerators},
		{"BuiltInUsers", testBuiltInUsers},
		{"ProviderUsesItsAuthenticator", testProviderUsesItsAuthenticator},
	})
}

// TestWithAClock: tests that move the instance's clock forward, each from
// its own starting point.
func TestWithAClock(t *testing.T) {
	runOn(t, testenv.New(t), []instanceTest{
		{"DeviceFlow", testDeviceFlow},
		{"DeviceFlowRefusals", testDeviceFlowRefusals},
		{"CodesExpire", testCodesExpire},
		{"RotateKeys", testRotateKeys},
	})
}
