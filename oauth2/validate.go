package oauth2

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tapis-go/tapis/tenancy"
)

// MaxTokenBytes bounds the size of a token accepted for validation.
const MaxTokenBytes = 8 * 1024

// Claims are the verified claims of a token.
type Claims struct {
	JTI           string
	TenantID      string
	TokenType     string
	Username      string
	AccountType   tenancy.AccountType
	TargetSite    string
	Delegation    bool
	DelegationSub string
	// ParentJTI is tapis/parent_jti: the token this one was minted from.
	ParentJTI string
	Expires   time.Time
	// Raw holds every claim as decoded.
	Raw map[string]any
}

func invalid(format string, args ...any) error {
	return tenancy.Errorf(ErrInvalidToken, format, args...)
}

// Validate verifies a token's signature with its tenant's keys (by kid when
// the header has one, else the current and still-valid previous keys), RS256
// only, exp required, and the token type (unless wantType is empty), and
// refuses revoked tokens. Access tokens are cached by hash for CacheMaxAge.
func (ts *TokenService) Validate(ctx context.Context, raw, wantType string) (Claims, error) {
	if raw == "" {
		return Claims{}, invalid("No Tapis token was given.")
	}
	if len(raw) > MaxTokenBytes {
		return Claims{}, invalid("Invalid Tapis token: it is longer than %d bytes.", MaxTokenBytes)
	}
	now := ts.cfg.Now()
	var key [32]byte
	var gen uint64
	if wantType == "access" && ts.cache != nil {
		key = sha256.Sum256([]byte(raw))
		// A cached token still needs an active tenant: a deactivation
		// reaches the registry (notified by the instance that made it)
		// without emptying every instance's token cache.
		if c, ok := ts.cache.get(key, now); ok && ts.tenantActive(ctx, c.TenantID) {
			return c, nil
		}
		gen = ts.cache.generation()
	}
	c, err := ts.verify(ctx, raw)
	if err != nil {
		return Claims{}, err
	}
	if wantType != "" && c.TokenType != wantType {
		return Claims{}, invalid("Invalid Tapis token: token type %q was given where %q is required.", c.TokenType, wantType)
	}
	// A token minted from a token dies with its parent.
	for _, jti := range []string{c.JTI, c.ParentJTI} {
		if jti == "" {
			continue
		}
		revoked, err := ts.store.IsTokenRevoked(ctx, c.TenantID, jti)
		if err != nil {
			return Claims{}, err
		}
		if revoked {
			return Claims{}, invalid("Invalid Tapis token: token %s has been revoked.", jti)
		}
	}
	if wantType == "access" && ts.cache != nil {
		until := now.Add(ts.cfg.CacheMaxAge)
		if c.Expires.Before(until) {
			until = c.Expires
		}
		ts.cache.put(key, c, until, gen)
	}
	return c, nil
}

// tenantActive reports whether the registry has tenantID and it is active.
func (ts *TokenService) tenantActive(ctx context.Context, tenantID string) bool {
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return false
	}
	t, ok := reg.Tenant(tenantID)
	return ok && t.Status == tenancy.StatusActive
}

func (ts *TokenService) verify(ctx context.Context, raw string) (Claims, error) {
	// One parse: the keyfunc reads the unverified tenant and kid, picks that
	// tenant's key(s), and only then is the signature checked.
	parser := jwt.NewParser(jwt.WithExpirationRequired(), jwt.WithLeeway(ts.cfg.Leeway), jwt.WithTimeFunc(ts.cfg.Now))
	var keyErr error
	var tenantID string
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		var key any
		key, keyErr = ts.keyFor(ctx, t, &tenantID)
		return key, keyErr
	})
	if keyErr != nil {
		return Claims{}, keyErr
	}
	switch {
	case err == nil:
		return claimsFrom(claims), nil
	case errors.Is(err, jwt.ErrTokenMalformed):
		return Claims{}, invalid("Unable to process Tapis token; it is not a well-formed JWT.")
	case errors.Is(err, jwt.ErrTokenExpired):
		return Claims{}, invalid("Invalid Tapis token: the token has expired.")
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return Claims{}, invalid("Invalid Tapis token: the exp claim is required.")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return Claims{}, invalid("Invalid Tapis token: the signature does not verify with the keys of tenant %s.", tenantID)
	default:
		return Claims{}, invalid("Invalid Tapis token: %s.", sanitize(err))
	}
}

// keyFor checks the algorithm and the tenant of an unverified token and
// returns the key (by kid) or key set (no kid) to verify it with.
func (ts *TokenService) keyFor(ctx context.Context, t *jwt.Token, tenantID *string) (any, error) {
	if alg, _ := t.Header["alg"].(string); alg != "RS256" || t.Method != jwt.SigningMethodRS256 {
		return nil, invalid("Invalid Tapis token: signing algorithm %q is not accepted; tokens must be RS256.", alg)
	}
	mc, _ := t.Claims.(jwt.MapClaims)
	id, _ := mc["tapis/tenant_id"].(string)
	if id == "" {
		return nil, invalid("Unable to process Tapis token; could not parse the tenant_id.")
	}
	*tenantID = id
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return nil, err
	}
	tenant, ok := reg.Tenant(id)
	if !ok {
		return nil, invalid("Unable to process Tapis token; unexpected tenant_id.")
	}
	if tenant.Status != tenancy.StatusActive {
		return nil, invalid("Invalid Tapis token: tenant %s is not active.", id)
	}
	ring, err := ts.ring(ctx, id, false)
	if err != nil {
		return nil, err
	}
	kid, hasKid := t.Header["kid"].(string)
	if !hasKid {
		set := jwt.VerificationKeySet{}
		for _, k := range ring.verify {
			set.Keys = append(set.Keys, k.pub)
		}
		if len(set.Keys) == 0 {
			return nil, invalid("Invalid Tapis token: tenant %s has no verification key.", id)
		}
		return set, nil
	}
	k, found := pick(ring.verify, kid)
	if !found {
		// A key rotated by another process: reload once (throttled).
		if ring, err = ts.ring(ctx, id, true); err != nil {
			return nil, err
		}
		if k, found = pick(ring.verify, kid); !found {
			return nil, invalid("Invalid Tapis token: signing key %q is not a key of tenant %s.", kid, id)
		}
	}
	return k.pub, nil
}

// sanitize keeps jwt's own wording but never more than a short line.
func sanitize(err error) string {
	msg := err.Error()
	if len(msg) > 120 {
		msg = msg[:120]
	}
	return msg
}

func pick(keys []verifyKey, kid string) (verifyKey, bool) {
	for _, k := range keys {
		if k.kid == kid {
			return k, true
		}
	}
	return verifyKey{}, false
}

func claimsFrom(m jwt.MapClaims) Claims {
	c := Claims{Raw: m}
	c.JTI, _ = m["jti"].(string)
	c.TenantID, _ = m["tapis/tenant_id"].(string)
	c.TokenType, _ = m["tapis/token_type"].(string)
	c.Username, _ = m["tapis/username"].(string)
	at, _ := m["tapis/account_type"].(string)
	c.AccountType = tenancy.AccountType(at)
	c.TargetSite, _ = m["tapis/target_site"].(string)
	c.Delegation, _ = m["tapis/delegation"].(bool)
	c.DelegationSub, _ = m["tapis/delegation_sub"].(string)
	c.ParentJTI, _ = m[claimParentJTI].(string)
	if exp, err := m.GetExpirationTime(); err == nil && exp != nil {
		c.Expires = exp.Time
	}
	return c
}

// tokenCache maps SHA-256(token) to verified claims, bounded by size and by
// each entry's deadline.
type tokenCache struct {
	mu      sync.RWMutex
	max     int
	entries map[[32]byte]cacheEntry
	gen     uint64 // counts clears, so a check racing a revocation is not kept
}

type cacheEntry struct {
	claims Claims
	until  time.Time
}

func newTokenCache(size int) *tokenCache {
	if size < 0 {
		return nil
	}
	return &tokenCache{max: size, entries: make(map[[32]byte]cacheEntry, 64)}
}

func (c *tokenCache) get(k [32]byte, now time.Time) (Claims, bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return Claims{}, false
	}
	return e.claims, true
}

// generation is the count of clears so far: take it before checking a
// token, and give it to put.
func (c *tokenCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

// put keeps claims until until, unless the cache was cleared since gen (a
// revocation may have come after the check).
func (c *tokenCache) put(k [32]byte, claims Claims, until time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.entries) >= c.max {
		now := time.Now()
		for key, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, key)
			}
		}
		// Still full: drop about half, chosen by map order (random).
		for key := range c.entries {
			if len(c.entries) < c.max/2+1 {
				break
			}
			delete(c.entries, key)
		}
	}
	c.entries[k] = cacheEntry{claims: claims, until: until}
}

func (c *tokenCache) clear() {
	if c == nil {
		return
	}
	c.mu.Lock()
	clear(c.entries)
	c.gen++
	c.mu.Unlock()
}

// ForgetCachedTokens empties the verified-token cache (after a revocation
// made elsewhere).
func (ts *TokenService) ForgetCachedTokens() { ts.cache.clear() }

// revoked empties the verified-token cache after a revocation here and
// tells the other instances (key: the jti or family).
func (ts *TokenService) revoked(ctx context.Context, tenantID, key string) {
	ts.cache.clear()
	if ts.cfg.Notifier != nil {
		ts.cfg.Notifier.Notify(ctx, ChangeRevocation, tenantID, key)
	}
}
