package oauth2

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// ErrRateLimited means too many failed attempts (HTTP 429).
var ErrRateLimited = errors.New("rate limited")

// GrantError is an OAuth2 error: an RFC 6749 code and the Tapis message.
// It matches tenancy.ErrInvalid under errors.Is, so the Tapis endpoint
// answers 400 as the original does (also for a bad client) while the RFC
// 6749 endpoint maps Code itself.
type GrantError struct {
	Code        string // invalid_request, invalid_client, invalid_grant, unsupported_grant_type, unauthorized_client, access_denied, authorization_pending, slow_down, expired_token
	Description string
	Interval    time.Duration // slow_down: the new polling interval
}

func (e *GrantError) Error() string { return e.Description }

// Is makes a GrantError match tenancy.ErrInvalid.
func (e *GrantError) Is(target error) bool { return target == tenancy.ErrInvalid }

func grantErr(code, format string, args ...any) error {
	return &GrantError{Code: code, Description: fmt.Sprintf(format, args...)}
}

// ProviderConfig configures a Provider.
type ProviderConfig struct {
	Tokens        *TokenService
	Store         AuthStore
	Authenticator Authenticator
	// Sealer seals browser sessions and config secrets.
	Sealer *seal.Sealer
	// Limiter slows down password and client-secret guessing; default the
	// token service's, so one lock holds on every door.
	Limiter *Limiter
	// AccessTokenAudience, when set, gives the aud of every access token the
	// authenticator issues (by tenant and client; clientID is empty for a
	// password grant without client) and makes every such token carry the
	// RFC 9068 claims (iat, client_id, ...); an empty answer means no aud.
	// When nil, tokens asked with a scope carry aud = the tenant's issuer
	// and the others stay exactly as Tapis shapes them (services built on
	// tapisservice/PyJWT refuse a token with an aud they did not expect).
	AccessTokenAudience func(tenantID, clientID string) []string
	// Grants are the grant types of the token endpoint; default
	// DefaultGrants(). List the built-ins you keep beside your own:
	//
	//	Grants: append(oauth2.DefaultGrants(), myGrant{})
	//
	// A tenant without a stored configuration allows every one of them;
	// a stored configuration allows those its allowable_grant_types names.
	Grants []Grant
	Logger *slog.Logger
	Now    func() time.Time
}

// Provider is the OAuth2 authorization server of the Tapis authenticator:
// clients, tenant configuration, the grants of the token endpoint, the
// authorization (browser) flow and device codes.
type Provider struct {
	cfg     ProviderConfig
	tokens  *TokenService
	tenancy *tenancy.Service
	store   AuthStore
	authn   Authenticator
	limiter *Limiter
	log     *slog.Logger
	now     func() time.Time
	// grants by type, and their types in the order of ProviderConfig.Grants
	grants     map[string]Grant
	grantTypes []string
}

// NewProvider returns a Provider; its error names every missing dependency.
func NewProvider(cfg ProviderConfig) (*Provider, error) {
	var missing []string
	if cfg.Tokens == nil {
		missing = append(missing, "Tokens")
	}
	if cfg.Store == nil {
		missing = append(missing, "Store")
	}
	if cfg.Authenticator == nil {
		missing = append(missing, "Authenticator")
	}
	if cfg.Sealer == nil {
		missing = append(missing, "Sealer")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("oauth2: ProviderConfig is missing %v", missing)
	}
	if cfg.Grants == nil {
		cfg.Grants = DefaultGrants()
	}
	grants, grantTypes, err := grantSet(cfg.Grants)
	if err != nil {
		return nil, err
	}
	if cfg.Limiter == nil {
		cfg.Limiter = cfg.Tokens.Limiter()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Provider{cfg: cfg, tokens: cfg.Tokens, tenancy: cfg.Tokens.tenancy, store: cfg.Store, authn: cfg.Authenticator,
		limiter: cfg.Limiter, log: cfg.Logger, now: cfg.Now, grants: grants, grantTypes: grantTypes}, nil
}

// Authenticator returns the password authenticator (for profiles).
func (p *Provider) Authenticator() Authenticator { return p.authn }

// Tokens returns the token service.
func (p *Provider) Tokens() *TokenService { return p.tokens }

func (p *Provider) stamp() time.Time { return p.now().UTC().Truncate(time.Microsecond) }

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("oauth2: crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashSecret is how codes and client keys are stored: hex SHA-256. They are
// 256-bit random values, so a slow hash would add nothing but latency.
func hashSecret(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// keyMatches compares a presented client key with the stored hash in
// constant time.
func keyMatches(stored []byte, presented string) bool {
	sum := sha256.Sum256([]byte(presented))
	return len(stored) == len(sum) && subtle.ConstantTimeCompare(stored, sum[:]) == 1
}

// AuthenticateClient identifies a client by its id and key for endpoints
// outside the token endpoint (revocation, introspection), with the same
// rules and limits as authenticateClient.
func (p *Provider) AuthenticateClient(ctx context.Context, tenantID, clientID, clientKey, addr string) (Client, error) {
	return p.authenticateClient(ctx, tenantID, clientID, clientKey, addr)
}

// authenticateClient identifies the client of a request from addr. A key,
// when given, must match, and the attempt is counted by the Limiter (per
// client and address, with the address shared with the password doors); a
// client without key must be public. Every failure (unknown client, wrong
// key, inactive client) gives the same answer; the key is never echoed.
func (p *Provider) authenticateClient(ctx context.Context, tenantID, clientID, clientKey, addr string) (_ Client, err error) {
	bad := grantErr("invalid_client", "Invalid client credentials.")
	var att *Attempt
	if clientKey != "" {
		defer func() { p.limiter.observe(EntryClientSecret, err) }()
		if att, err = p.limiter.Begin(ctx, DoorClient, tenantID, clientID, addr); err != nil {
			return Client{}, err
		}
	}
	c, err := p.store.GetClient(ctx, tenantID, clientID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		if att != nil {
			_ = att.Abandon(ctx)
		}
		return Client{}, err
	}
	found := err == nil
	if !found {
		c.KeyHash = make([]byte, sha256.Size) // the same work as a real comparison
	}
	switch {
	case clientKey == "" && (!found || !c.Public() || !c.Active):
		return Client{}, bad
	case clientKey == "":
		return c, nil
	case !keyMatches(c.KeyHash, clientKey) || !found || !c.Active:
		return Client{}, bad
	}
	if err := att.Succeeded(ctx); err != nil {
		return Client{}, err
	}
	return c, nil
}
