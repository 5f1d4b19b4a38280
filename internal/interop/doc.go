// Package interop holds tests in which off-the-shelf OpenID Connect and
// OAuth2 libraries use the library as their provider, with every check
// they offer on: github.com/coreos/go-oidc/v3 and github.com/zitadel/oidc/v3
// as relying parties (discovery, issuer, audience, expiry, nonce,
// signature, at_hash) and as resource servers (JWT verification of our
// access tokens, RFC 7662 introspection). The server is a real listener on
// loopback whose address is the dev tenant's base URL (testenv.Serve), and
// the code flow goes through the real login and consent pages with a
// cookie-keeping HTTP client. They need no external server.
package interop
