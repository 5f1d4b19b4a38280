// Package oauth2 issues and validates Tapis tokens and is the Tapis OAuth2
// and OpenID Connect authenticator.
//
// The KeyManager makes, seals, caches and rotates the per-tenant RS256
// signing keys (published as JWKS); it is built first and given both to the
// tenancy service, which provisions new tenants' keys through it, and to
// the TokenService, which mints access and refresh tokens with exactly the
// tapis/* claims of the original Tokens service, validates and revokes them
// and applies the rules of POST /v3/tokens. The Provider, built on the
// TokenService, is the authenticator: clients, the grants of the token
// endpoint, the authorization and device flows, tenant configuration, OIDC.
// Passwords are checked by an Authenticator (one method); the Limiter slows
// down guessing at every door that checks a secret.
//
// Each grant type of the token endpoint is a Grant, one file each
// (grant_*.go), given to the Provider in ProviderConfig.Grants; an
// embedder adds its own beside DefaultGrants() (see ExampleGrant), and a
// grant reaches the provider only through its GrantContext.
//
// A Store persists keys, revocations and accounts, an AuthStore the
// authenticator's records, an AttemptStore the limiter's counters; every
// adapter runs their conformance suites in oauth2/oauth2test.
package oauth2
