package oauth2

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// OpenID Connect on top of the authorization-code flow: the scope and nonce
// of the authorization request travel with the code, and the token endpoint
// answers scope=openid with an id_token signed by the tenant's key.

// Scopes the authenticator understands; others are ignored (RFC 6749 §3.3
// lets a server grant less than asked).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access" // refresh tokens come with every client grant anyway
)

// SupportedScopes returns the scopes advertised by the discovery documents.
func SupportedScopes() []string { return slices.Clone(supportedScopes) }

var supportedScopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail, ScopeOfflineAccess}

// Limits on what an authorization request may carry into the code.
const (
	maxScopeLen = 1024
	maxNonceLen = 512
)

// GrantedScope is the part of a requested scope the authenticator grants:
// the known scopes, each once, in a fixed order; "" when none.
func GrantedScope(requested string) string {
	asked := strings.Fields(requested)
	var out []string
	for _, s := range supportedScopes {
		if slices.Contains(asked, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// HasScope reports whether a space-separated scope contains s.
func HasScope(scope, s string) bool { return slices.Contains(strings.Fields(scope), s) }

// codeDetails is what an authorization code carries beside its store record:
// the OIDC parameters of the request and when the user signed in. They are
// sealed into the code itself (code = random "." sealed), so the store
// schema does not change; the stored hash covers the whole code, so they
// cannot be altered, and sealing keeps them out of logs and browser history.
type codeDetails struct {
	Scope    string `json:"s,omitempty"`
	Nonce    string `json:"n,omitempty"`
	AuthTime int64  `json:"a,omitempty"`
}

func codeAAD(tenantID, random string) []byte {
	return []byte("tapis-auth-code|" + tenantID + "|" + random)
}

// newCode returns a fresh authorization code carrying d.
func (p *Provider) newCode(tenantID string, d codeDetails) (string, error) {
	random := randomToken(32) // 256 bits
	if d == (codeDetails{}) {
		return random, nil
	}
	plain, err := json.Marshal(d)
	if err != nil {
		return "", err
	}
	sealed, err := p.cfg.Sealer.Seal(plain, codeAAD(tenantID, random))
	if err != nil {
		return "", fmt.Errorf("oauth2: seal code details: %w", err)
	}
	return random + "." + base64.RawURLEncoding.EncodeToString(sealed), nil
}

// detailsOf opens what a redeemed code carries. The code was found by its
// hash, so a failure here means the KEK changed meanwhile: the code then
// counts as plain OAuth2 (no id_token), which the client notices.
func (p *Provider) detailsOf(tenantID, code string) codeDetails {
	random, sealed, ok := strings.Cut(code, ".")
	if !ok {
		return codeDetails{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return codeDetails{}
	}
	plain, err := p.cfg.Sealer.Open(raw, codeAAD(tenantID, random))
	if err != nil {
		p.log.Warn("authorization code details do not open", "tenant", tenantID, "err", err)
		return codeDetails{}
	}
	var d codeDetails
	_ = json.Unmarshal(plain, &d)
	return d
}

// standardClaims are the RFC 9068 claims of an access token: for tokens
// asked with a scope (standard clients send one, tapipy does not), or
// always when ProviderConfig.AccessTokenAudience is set. nil keeps the
// token exactly as Tapis shapes it.
func (p *Provider) standardClaims(issuer, tenantID string, client *Client, scope string, authTime time.Time) *StandardClaims {
	if scope == "" && p.cfg.AccessTokenAudience == nil {
		return nil
	}
	s := &StandardClaims{Scope: scope, AuthTime: authTime}
	if client != nil {
		s.ClientID = client.ClientID
	}
	if p.cfg.AccessTokenAudience != nil {
		s.Audience = p.cfg.AccessTokenAudience(tenantID, s.ClientID)
	} else {
		s.Audience = []string{issuer}
	}
	return s
}

// idTokenIn is what an id_token says.
type idTokenIn struct {
	tenantID, issuer, username string
	clientID                   string
	scope, nonce               string
	authTime                   time.Time
	access                     Token
}

// idToken signs the OpenID Connect id_token of a grant: sub as the access
// token's (user@tenant), aud and azp the client, auth_time, at_hash of the
// access token, the nonce of the request (none on refresh, OIDC Core
// §12.2), and the profile claims the scope allows from the authenticator's
// profile. It carries no tapis/ claim, so it never passes as a Tapis token.
func (p *Provider) idToken(ctx context.Context, in idTokenIn) (string, error) {
	now := p.now().UTC()
	c := jwt.MapClaims{
		"iss":     in.issuer,
		"sub":     in.username + "@" + in.tenantID,
		"aud":     in.clientID,
		"azp":     in.clientID,
		"exp":     in.access.ExpiresAt.Unix(),
		"iat":     now.Unix(),
		"jti":     uuid.NewString(),
		"at_hash": atHash(in.access.Raw),
	}
	if !in.authTime.IsZero() {
		c["auth_time"] = in.authTime.Unix()
	}
	if in.nonce != "" {
		c["nonce"] = in.nonce
	}
	for k, v := range p.profileClaims(ctx, in.tenantID, in.username, in.scope) {
		c[k] = v
	}
	return p.tokens.signFor(ctx, in.tenantID, c)
}

// atHash is the OIDC at_hash of an RS256-signed token: the left half of
// SHA-256 of its ASCII form, base64url.
func atHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(sum[:len(sum)/2])
}

// profileClaims are the standard claims (OIDC Core §5.1) of a user that
// a scope allows: profile gives the names, email the address. Without a
// ProfileProvider, or when it fails, only preferred_username is known.
func (p *Provider) profileClaims(ctx context.Context, tenantID, username, scope string) map[string]any {
	out := map[string]any{}
	wantProfile, wantEmail := HasScope(scope, ScopeProfile), HasScope(scope, ScopeEmail)
	if !wantProfile && !wantEmail {
		return out
	}
	prof := Profile{Username: username}
	if pp, ok := p.authn.(ProfileProvider); ok {
		got, err := pp.GetProfile(ctx, tenantID, username)
		switch {
		case err == nil:
			prof = got
		case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrNotConfigured):
			p.log.WarnContext(ctx, "profile lookup failed; claims limited to the username", "tenant", tenantID, "err", err)
		}
	}
	return StandardProfileClaims(prof, username, wantProfile, wantEmail)
}

// StandardProfileClaims maps a Tapis profile to OIDC claim names.
func StandardProfileClaims(prof Profile, username string, profile, email bool) map[string]any {
	out := map[string]any{}
	set := func(k, v string) {
		if v != "" {
			out[k] = v
		}
	}
	if profile {
		set("preferred_username", username)
		set("name", prof.Name)
		set("given_name", prof.GivenName)
		set("family_name", prof.LastName)
		set("phone_number", firstNonEmpty(prof.Phone, prof.MobilePhone))
	}
	if email {
		set("email", prof.Email)
	}
	return out
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// signFor signs arbitrary claims with a tenant's current key (kid set).
func (ts *TokenService) signFor(ctx context.Context, tenantID string, c jwt.MapClaims) (string, error) {
	ring, err := ts.ring(ctx, tenantID, false)
	if err != nil {
		return "", err
	}
	if ring.signer == nil {
		return "", fmt.Errorf("oauth2: tenant %s has no signing key on this site", tenantID)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = ring.signerKID
	raw, err := tok.SignedString(ring.signer)
	if err != nil {
		return "", fmt.Errorf("oauth2: sign id_token: %w", err)
	}
	return raw, nil
}
