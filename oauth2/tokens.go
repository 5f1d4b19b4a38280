package oauth2

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/tapis-go/tapis/tenancy"
)

// TokenConfig configures a TokenService. Zero durations mean the defaults.
type TokenConfig struct {
	Store   Store
	Tenancy *tenancy.Service
	// Keys makes, caches and rotates the signing keys; the same KeyManager
	// is the tenancy service's key provisioner. Its Overlap must cover
	// KeyOverlap.
	Keys *KeyManager
	// SiteID is the site this server runs as; service tokens must target it.
	SiteID string

	DefaultAccessTTL  time.Duration // default 300s (Tapis)
	DefaultRefreshTTL time.Duration // default 600s (Tapis)
	MaxAccessTTL      time.Duration // default 24h
	MaxRefreshTTL     time.Duration // default 90 days
	Leeway            time.Duration // clock leeway on exp; default 5s
	// CacheSize bounds the verified-token cache (entries); default 10000,
	// negative disables it.
	CacheSize int
	// CacheMaxAge bounds how long a verified token is trusted without
	// re-checking revocation in the store when no notification says that
	// another instance revoked it; default 30s.
	CacheMaxAge time.Duration
	// Notifier tells the other instances of revocations
	// (ChangeRevocation), so that they refuse the tokens at once; nil: none.
	Notifier tenancy.Notifier
	// PasswordCost is the bcrypt cost of account passwords; default 10.
	PasswordCost int
	// Limiter slows down service-password guessing on POST /v3/tokens;
	// default a Limiter with its defaults (share one with the Provider).
	Limiter *Limiter
	Logger  *slog.Logger
	Now     func() time.Time
}

func (c *TokenConfig) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.DefaultAccessTTL, 300*time.Second)
	def(&c.DefaultRefreshTTL, 600*time.Second)
	def(&c.MaxAccessTTL, 24*time.Hour)
	def(&c.MaxRefreshTTL, 90*24*time.Hour)
	def(&c.Leeway, 5*time.Second)
	def(&c.CacheMaxAge, 30*time.Second)
	if c.CacheSize == 0 {
		c.CacheSize = 10000
	}
	if c.PasswordCost == 0 {
		c.PasswordCost = 10
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Limiter == nil {
		c.Limiter = NewLimiter(LimiterConfig{Now: c.Now})
	}
}

// KeyOverlap is how long a replaced signing key must keep verifying under
// this configuration (defaults applied): the longest token lifetime plus
// the clock leeway. Give it to KeyConfig.Overlap.
func (c TokenConfig) KeyOverlap() time.Duration {
	c.defaults()
	return max(c.MaxAccessTTL, c.MaxRefreshTTL) + c.Leeway
}

// TokenService mints, validates, refreshes and revokes Tapis tokens.
type TokenService struct {
	cfg      TokenConfig
	store    Store
	tenancy  *tenancy.Service
	log      *slog.Logger
	keys     *KeyManager
	cache    *tokenCache
	limiter  *Limiter
	Accounts *Accounts
}

// NewTokenService returns a TokenService; its error names every missing
// dependency. It changes none of them.
func NewTokenService(cfg TokenConfig) (*TokenService, error) {
	var missing []string
	if cfg.Store == nil {
		missing = append(missing, "Store")
	}
	if cfg.Tenancy == nil {
		missing = append(missing, "Tenancy")
	}
	if cfg.Keys == nil {
		missing = append(missing, "Keys")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("oauth2: TokenConfig is missing %v", missing)
	}
	if need := cfg.KeyOverlap(); cfg.Keys.Overlap() < need {
		return nil, fmt.Errorf("oauth2: the KeyManager's Overlap %s is shorter than the longest token lifetime plus leeway (%s): "+
			"tokens would outlive their key", cfg.Keys.Overlap(), need)
	}
	cfg.defaults()
	ts := &TokenService{cfg: cfg, store: cfg.Store, tenancy: cfg.Tenancy, log: cfg.Logger,
		keys: cfg.Keys, cache: newTokenCache(cfg.CacheSize), limiter: cfg.Limiter}
	ts.Accounts = NewAccounts(cfg.Store, cfg.PasswordCost, cfg.Now)
	return ts, nil
}

// Keys returns the signing-key manager.
func (ts *TokenService) Keys() *KeyManager { return ts.keys }

// Limiter returns the limiter of the secret-checking doors.
func (ts *TokenService) Limiter() *Limiter { return ts.limiter }

// Config returns the effective configuration (defaults applied).
func (ts *TokenService) Config() TokenConfig { return ts.cfg }

// MintRequest describes a token to issue. The caller has been authorized.
type MintRequest struct {
	TenantID            string
	Username            string
	AccountType         tenancy.AccountType
	TargetSite          string // service tokens only
	Delegation          bool
	DelegationSubTenant string
	DelegationSubUser   string
	// ParentJTI is the token this one is minted from; the new token dies
	// with it (tapis/parent_jti).
	ParentJTI       string
	AccessTTL       time.Duration // <= 0: default; capped at the maximum
	GenerateRefresh bool
	RefreshTTL      time.Duration // <= 0: default; capped at the maximum
	// Claims are extra claims merged after the standard ones; standard
	// names are refused by CheckExtraClaims before this point.
	Claims map[string]any
	// Standard, when set, adds the RFC 9068 claims the authenticator gives
	// tokens of standard (OAuth2/OIDC) clients: iat always; aud, client_id,
	// scope and auth_time when set. Tapis' own tokens have none of them.
	Standard *StandardClaims
}

// StandardClaims are the RFC 9068 claims of an access token beside the
// Tapis ones (none of them clashes with a tapis/ claim).
type StandardClaims struct {
	Audience []string  // aud: one value is written as a string
	ClientID string    // client_id
	Scope    string    // scope: space-separated
	AuthTime time.Time // auth_time: when the user signed in
}

// IssuerOf is a tenant's issuer: its base URL without trailing slash. It is
// the iss of every token of the tenant (access, refresh, id_token) and the
// issuer of its discovery documents, so a standard relying party configured
// with the base URL finds and accepts them. Tapis clients never check iss.
func IssuerOf(t tenancy.Tenant) string { return strings.TrimRight(t.BaseURL, "/") }

// issuer is the issuer of a tenant served here.
func (ts *TokenService) issuer(ctx context.Context, tenantID string) (string, error) {
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return "", err
	}
	t, ok := reg.Tenant(tenantID)
	if !ok {
		return "", tenancy.Errorf(tenancy.ErrNotFound, "Tenant %s not found.", tenantID)
	}
	return IssuerOf(t), nil
}

// Token is one signed token and when it expires.
type Token struct {
	JTI       string
	Raw       string
	ExpiresAt time.Time
	ExpiresIn int64 // seconds
}

// TokenPair is an access token and, when requested, a refresh token; an
// OpenID Connect grant adds an id_token.
type TokenPair struct {
	Access  Token
	Refresh *Token
	// IDToken is the signed id_token of a grant with scope openid.
	IDToken string
	// Scope is the granted scope (space-separated); empty when none was asked.
	Scope string
}

// reservedClaims may not be set through extra claims, bare or namespaced.
var reservedClaims = map[string]bool{
	"jti": true, "iss": true, "sub": true, "exp": true, "iat": true, "nbf": true, "aud": true,
	"tenant": true, "target_site": true, "username": true, "account_type": true,
	"tenant_id": true, "token_type": true, "delegation": true, "delegation_sub": true,
	"tapis/tenant_id": true, "tapis/token_type": true, "tapis/delegation": true,
	"tapis/delegation_sub": true, "tapis/username": true, "tapis/account_type": true,
	"tapis/target_site": true, "tapis/access_token": true, "tapis/initial_ttl": true,
	claimParentJTI: true,
	// RFC 9068 claims the authenticator sets for standard clients.
	"client_id": true, "scope": true, "auth_time": true,
}

// claimParentJTI names the token a token was minted from (POST /v3/tokens
// by a token for its own holder): revoking the parent revokes it.
const claimParentJTI = "tapis/parent_jti"

// CheckExtraClaims refuses extra claims that would shadow a standard claim.
func CheckExtraClaims(v *tenancy.ValidationError, claims map[string]any) {
	for name := range claims {
		if reservedClaims[name] {
			v.Addf("passing claim %s as an extra_claim is not allowed, as it is a standard Tapis claim.", name)
		}
	}
}

func (ts *TokenService) capTTL(ttl, def, maxTTL time.Duration) time.Duration {
	if ttl <= 0 {
		ttl = def
	}
	return min(ttl, maxTTL)
}

// Mint signs the tokens of an already authorized request.
func (ts *TokenService) Mint(ctx context.Context, req MintRequest) (TokenPair, error) {
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return TokenPair{}, err
	}
	tenant, ok := reg.Tenant(req.TenantID)
	if !ok {
		return TokenPair{}, tenancy.Errorf(tenancy.ErrInvalid, "Invalid POST data: token_tenant_id (%s) is not served here.", req.TenantID)
	}
	if tenant.Status != tenancy.StatusActive {
		return TokenPair{}, tenancy.Errorf(tenancy.ErrInvalid, "Tenant %s is not active; tokens cannot be generated for it.", req.TenantID)
	}
	ring, err := ts.ring(ctx, req.TenantID, false)
	if err != nil {
		return TokenPair{}, err
	}
	if ring.signer == nil {
		return TokenPair{}, tenancy.Errorf(tenancy.ErrInvalid, "Tenant %s has no signing key on this site; its tokens are issued elsewhere.", req.TenantID)
	}
	accessTTL := ts.capTTL(req.AccessTTL, ts.cfg.DefaultAccessTTL, ts.cfg.MaxAccessTTL)
	now := ts.cfg.Now().UTC()
	access := ts.accessClaims(tenant, req)
	access["exp"] = now.Add(accessTTL).Unix()
	if req.Standard != nil {
		req.Standard.apply(access, now)
	}
	refreshTTL := time.Duration(0)
	if req.GenerateRefresh {
		refreshTTL = ts.capTTL(req.RefreshTTL, ts.cfg.DefaultRefreshTTL, ts.cfg.MaxRefreshTTL)
	}
	return ts.signPair(ring, tenant, access, accessTTL, refreshTTL, now)
}

// signPair signs the access claims and, when refreshTTL > 0, a refresh token
// nesting them (minus exp, plus ttl) as Tapis does.
func (ts *TokenService) signPair(ring *keyring, tenant tenancy.Tenant, access jwt.MapClaims, accessTTL, refreshTTL time.Duration, now time.Time) (TokenPair, error) {
	var pair TokenPair
	var err error
	if pair.Access, err = ts.sign(ring, access, accessTTL); err != nil {
		return TokenPair{}, err
	}
	if refreshTTL <= 0 {
		return pair, nil
	}
	nested := maps.Clone(access)
	delete(nested, "exp")
	nested["ttl"] = int64(accessTTL / time.Second)
	rt, err := ts.signRefresh(ring, tenant, nested, refreshTTL, now)
	if err != nil {
		return TokenPair{}, err
	}
	pair.Refresh = &rt
	return pair, nil
}

func (ts *TokenService) accessClaims(tenant tenancy.Tenant, req MintRequest) jwt.MapClaims {
	c := jwt.MapClaims{
		"jti":                  uuid.NewString(),
		"iss":                  IssuerOf(tenant),
		"sub":                  req.Username + "@" + req.TenantID,
		"tapis/tenant_id":      req.TenantID,
		"tapis/token_type":     "access",
		"tapis/delegation":     req.Delegation,
		"tapis/delegation_sub": nil,
		"tapis/username":       req.Username,
		"tapis/account_type":   string(req.AccountType),
	}
	if req.Delegation {
		c["tapis/delegation_sub"] = req.DelegationSubUser + "@" + req.DelegationSubTenant
	}
	if req.AccountType == tenancy.AccountService {
		c["tapis/target_site"] = req.TargetSite
	}
	if req.ParentJTI != "" {
		c[claimParentJTI] = req.ParentJTI
	}
	for k, v := range req.Claims {
		if !reservedClaims[k] {
			c[k] = v
		}
	}
	return c
}

// apply adds the standard claims to an access token's claims.
func (s *StandardClaims) apply(c jwt.MapClaims, now time.Time) {
	c["iat"] = now.Unix()
	switch len(s.Audience) {
	case 0:
	case 1:
		c["aud"] = s.Audience[0]
	default:
		c["aud"] = slices.Clone(s.Audience)
	}
	if s.ClientID != "" {
		c["client_id"] = s.ClientID
	}
	if s.Scope != "" {
		c["scope"] = s.Scope
	}
	if !s.AuthTime.IsZero() {
		c["auth_time"] = s.AuthTime.Unix()
	}
}

func (ts *TokenService) signRefresh(ring *keyring, tenant tenancy.Tenant, nested jwt.MapClaims, ttl time.Duration, now time.Time) (Token, error) {
	c := jwt.MapClaims{
		"jti":                uuid.NewString(),
		"iss":                IssuerOf(tenant),
		"sub":                nested["sub"],
		"tapis/initial_ttl":  int64(ttl / time.Second),
		"tapis/tenant_id":    tenant.ID,
		"tapis/token_type":   "refresh",
		"exp":                now.Add(ttl).Unix(),
		"tapis/access_token": nested,
	}
	return ts.sign(ring, c, ttl)
}

func (ts *TokenService) sign(ring *keyring, c jwt.MapClaims, ttl time.Duration) (Token, error) {
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = ring.signerKID
	raw, err := tok.SignedString(ring.signer)
	if err != nil {
		return Token{}, fmt.Errorf("oauth2: sign token: %w", err)
	}
	exp := time.Unix(c["exp"].(int64), 0).UTC()
	return Token{JTI: c["jti"].(string), Raw: raw, ExpiresAt: exp, ExpiresIn: int64(ttl / time.Second)}, nil
}

// Refresh exchanges a refresh token for a new pair. The new access token
// copies every claim of the original (new jti and exp, original access TTL);
// the new refresh token keeps the original refresh TTL.
func (ts *TokenService) Refresh(ctx context.Context, raw string) (TokenPair, error) {
	claims, err := ts.Validate(ctx, raw, "refresh")
	if err != nil {
		return TokenPair{}, err
	}
	nested, ok := claims.Raw["tapis/access_token"].(map[string]any)
	if !ok {
		return TokenPair{}, tenancy.Errorf(ErrInvalidToken, "Invalid refresh token: it carries no tapis/access_token claims.")
	}
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return TokenPair{}, err
	}
	tenant, _ := reg.Tenant(claims.TenantID)
	ring, err := ts.ring(ctx, claims.TenantID, false)
	if err != nil {
		return TokenPair{}, err
	}
	if ring.signer == nil {
		return TokenPair{}, tenancy.Errorf(tenancy.ErrInvalid, "Tenant %s has no signing key on this site.", claims.TenantID)
	}
	accessTTL := ts.capTTL(time.Duration(numClaim(nested["ttl"]))*time.Second, ts.cfg.DefaultAccessTTL, ts.cfg.MaxAccessTTL)
	refreshTTL := ts.capTTL(time.Duration(numClaim(claims.Raw["tapis/initial_ttl"]))*time.Second, ts.cfg.DefaultRefreshTTL, ts.cfg.MaxRefreshTTL)
	now := ts.cfg.Now().UTC()
	access := jwt.MapClaims(maps.Clone(nested))
	delete(access, "ttl")
	access["jti"] = uuid.NewString()
	access["iss"] = IssuerOf(tenant)
	if _, standard := access["iat"]; standard {
		access["iat"] = now.Unix()
	}
	access["tapis/tenant_id"] = claims.TenantID
	access["tapis/token_type"] = "access"
	access["exp"] = now.Add(accessTTL).Unix()
	return ts.signPair(ring, tenant, access, accessTTL, refreshTTL, now)
}

func numClaim(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	}
	return 0
}

// Revoke validates a token (of any type) and records its jti as revoked until
// it expires. Verified-token caches are emptied, the other instances' by a
// notification.
func (ts *TokenService) Revoke(ctx context.Context, raw string) (string, error) {
	claims, err := ts.Validate(ctx, raw, "")
	if err != nil {
		return "", err
	}
	if claims.JTI == "" {
		return "", tenancy.Errorf(ErrInvalidToken, "Invalid Tapis token: it has no jti claim.")
	}
	if err := ts.store.RevokeToken(ctx, claims.TenantID, claims.JTI, claims.Expires.Add(ts.cfg.Leeway)); err != nil {
		return "", err
	}
	ts.revoked(ctx, claims.TenantID, claims.JTI)
	return claims.JTI, nil
}

// ErrTokenRevoked is wrapped by validation errors of revoked tokens.
var ErrTokenRevoked = errors.New("token revoked")
