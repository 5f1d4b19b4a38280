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
// It matches ErrRateLimited (too_many_requests) or tenancy.ErrInvalid under
// errors.Is, so the Tapis endpoint answers 400 as the original does (also
// for a bad client) while the RFC 6749 endpoint maps Code itself.
type GrantError struct {
	Code        string // invalid_request, invalid_client, invalid_grant, unsupported_grant_type, unauthorized_client, access_denied, authorization_pending, slow_down, expired_token
	Description string
	Interval    time.Duration // slow_down: the new polling interval
}

func (e *GrantError) Error() string { return e.Description }

// Is maps the OAuth2 code to the domain sentinels.
func (e *GrantError) Is(target error) bool {
	switch e.Code {
	case "too_many_requests":
		return target == ErrRateLimited
	}
	return target == tenancy.ErrInvalid
}

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
	// MaxFailures failed passwords per user (and per address, times 5) in
	// FailureWindow before 429; defaults 10 and 5 minutes.
	MaxFailures   int
	FailureWindow time.Duration
	// AccessTokenAudience, when set, gives the aud of every access token the
	// authenticator issues (by tenant and client; clientID is empty for a
	// password grant without client) and makes every such token carry the
	// RFC 9068 claims (iat, client_id, ...); an empty answer means no aud.
	// When nil, tokens asked with a scope carry aud = the tenant's issuer
	// and the others stay exactly as Tapis shapes them (services built on
	// tapisservice/PyJWT refuse a token with an aud they did not expect).
	AccessTokenAudience func(tenantID, clientID string) []string
	Logger              *slog.Logger
	Now                 func() time.Time
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
	limiter *limiter
	log     *slog.Logger
	now     func() time.Time
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
	if cfg.MaxFailures <= 0 {
		cfg.MaxFailures = 10
	}
	if cfg.FailureWindow <= 0 {
		cfg.FailureWindow = 5 * time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Provider{cfg: cfg, tokens: cfg.Tokens, tenancy: cfg.Tokens.tenancy, store: cfg.Store, authn: cfg.Authenticator,
		limiter: newLimiter(cfg.MaxFailures, cfg.FailureWindow), log: cfg.Logger, now: cfg.Now}, nil
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

// authenticateClient identifies the client of a token request. A key, when
// given, must match; a client without key must be public. It never echoes
// the presented key.
func (p *Provider) authenticateClient(ctx context.Context, tenantID, clientID, clientKey string) (Client, error) {
	c, err := p.store.GetClient(ctx, tenantID, clientID)
	bad := grantErr("invalid_client", "Invalid client credentials.")
	if errors.Is(err, ErrNotFound) {
		keyMatches(make([]byte, 32), clientKey) // same work as a real comparison
		return Client{}, bad
	}
	if err != nil {
		return Client{}, err
	}
	switch {
	case clientKey == "" && !c.Public():
		return Client{}, bad
	case clientKey != "" && !keyMatches(c.KeyHash, clientKey):
		return Client{}, bad
	case !c.Active:
		return Client{}, grantErr("invalid_client", "Client %s is inactive.", clientID)
	}
	return c, nil
}
