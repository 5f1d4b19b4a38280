// Package oauth2 issues and validates Tapis tokens: per-tenant RS256 signing
// keys (sealed at rest, rotated with an overlap window, published as JWKS),
// access and refresh tokens with exactly the tapis/* claims of the original
// Tokens service, revocation by jti, service-account passwords, and the rules
// of POST /v3/tokens. The OAuth2 authenticator (clients and grants) builds on
// the same TokenService.
//
// Each grant type of the token endpoint is a Grant, one file each
// (grant_*.go), given to the Provider in ProviderConfig.Grants; an
// embedder adds its own beside DefaultGrants() (see ExampleGrant), and a
// grant reaches the provider only through its GrantContext.
//
// A Store persists keys, revocations and accounts; every adapter runs the
// conformance suite in oauth2/oauth2test.
package oauth2
