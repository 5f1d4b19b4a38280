package oauth2

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"sync"
	"time"

	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// keyring is the parsed key set of one tenant.
type keyring struct {
	signer    *rsa.PrivateKey // nil when the tenant signs elsewhere
	signerKID string
	verify    []verifyKey // current first
	loaded    time.Time
	lastMiss  time.Time
}

type verifyKey struct {
	kid   string
	pub   *rsa.PublicKey
	until time.Time // zero: no limit
}

type keyCache struct {
	mu    sync.Mutex
	rings map[string]*keyring
	gen   uint64 // counts forgets, so a load racing one is not kept
}

// EncodePublicKeyPEM renders an RSA public key as SPKI PEM with the base64
// body on one line, the shape Tapis' Java validator requires.
func EncodePublicKeyPEM(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return "-----BEGIN PUBLIC KEY-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END PUBLIC KEY-----", nil
}

// Thumbprint returns the RFC 7638 JWK thumbprint of an RSA key (base64url).
func Thumbprint(pub *rsa.PublicKey) string {
	e := base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	n := base64.RawURLEncoding.EncodeToString(pub.N.Bytes())
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

func keyAAD(tenantID, kid string) []byte {
	return []byte("tapis-signing-key|" + tenantID + "|" + kid)
}

// KeyConfig configures a KeyManager. Zero values mean the defaults.
type KeyConfig struct {
	Store KeyStore
	// Sealer seals private signing keys at rest.
	Sealer *seal.Sealer
	// Overlap is how long a replaced key keeps verifying. It must cover the
	// longest token lifetime plus the clock leeway (TokenConfig.KeyOverlap),
	// so that every token a key signed expires first; NewTokenService
	// refuses a shorter one. Default: TokenConfig's default KeyOverlap.
	Overlap time.Duration
	Bits    int // RSA key size; default 2048, at least 2048
	// CacheTTL is how long parsed keys are reused when no notification says
	// that another instance rotated them; default 30s.
	CacheTTL time.Duration
	// Notifier tells the other instances of a rotation (ChangeSigningKeys),
	// so that they sign with the new key and verify with it; nil: none.
	Notifier tenancy.Notifier
	Logger   *slog.Logger
	Now      func() time.Time
}

// Kinds of changes the token side notifies (see tenancy.Notifier).
const (
	// ChangeSigningKeys: a tenant's signing keys were rotated (key: the
	// new key's kid).
	ChangeSigningKeys = "signing-keys"
	// ChangeRevocation: tokens of a tenant were revoked (key: the jti, or
	// "family:" and a refresh family).
	ChangeRevocation = "revocation"
)

// KeyManager makes, seals, caches and rotates the tenants' signing keys. It
// is built first and given to both the tenancy service (as its
// tenancy.KeyProvisioner, so new tenants get keys) and the TokenService,
// so neither is changed after it is built.
type KeyManager struct {
	cfg   KeyConfig
	store KeyStore
	log   *slog.Logger
	cache keyCache
}

var _ tenancy.KeyProvisioner = (*KeyManager)(nil)

// NewKeyManager returns a KeyManager; its error names every missing
// dependency.
func NewKeyManager(cfg KeyConfig) (*KeyManager, error) {
	var missing []string
	if cfg.Store == nil {
		missing = append(missing, "Store")
	}
	if cfg.Sealer == nil {
		missing = append(missing, "Sealer")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("oauth2: KeyConfig is missing %v", missing)
	}
	if cfg.Overlap <= 0 {
		cfg.Overlap = TokenConfig{}.KeyOverlap()
	}
	if cfg.Bits == 0 {
		cfg.Bits = 2048
	}
	if cfg.Bits < 2048 {
		return nil, fmt.Errorf("oauth2: KeyConfig.Bits %d is below 2048", cfg.Bits)
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &KeyManager{cfg: cfg, store: cfg.Store, log: cfg.Logger, cache: keyCache{rings: map[string]*keyring{}}}, nil
}

// Overlap is how long a replaced key keeps verifying.
func (km *KeyManager) Overlap() time.Duration { return km.cfg.Overlap }

func (km *KeyManager) stamp() time.Time { return km.cfg.Now().UTC().Truncate(time.Microsecond) }

// newSigningKey generates an RSA key and seals its private half.
func (km *KeyManager) newSigningKey(tenantID string) (SigningKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, km.cfg.Bits)
	if err != nil {
		return SigningKey{}, fmt.Errorf("oauth2: generate key: %w", err)
	}
	pubPEM, err := EncodePublicKeyPEM(&priv.PublicKey)
	if err != nil {
		return SigningKey{}, err
	}
	kid := Thumbprint(&priv.PublicKey)
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
	defer clear(privPEM)
	sealed, err := km.cfg.Sealer.Seal(privPEM, keyAAD(tenantID, kid))
	if err != nil {
		return SigningKey{}, err
	}
	return SigningKey{TenantID: tenantID, KID: kid, PublicKeyPEM: pubPEM, SealedPrivateKey: sealed, Created: km.stamp()}, nil
}

// rotate makes key the tenant's current key; the previous one keeps
// verifying for the overlap. The other instances are told, so that their
// next token is signed with key.
func (km *KeyManager) rotate(ctx context.Context, key SigningKey) error {
	err := km.store.RotateSigningKey(ctx, key, km.stamp().Add(km.cfg.Overlap))
	km.cache.forget(key.TenantID)
	if err == nil && km.cfg.Notifier != nil {
		km.cfg.Notifier.Notify(ctx, ChangeSigningKeys, key.TenantID, key.KID)
	}
	return err
}

// ForgetKeys drops the parsed keys of tenantID ("": of every tenant): the
// next use loads them again (another instance rotated them).
func (km *KeyManager) ForgetKeys(tenantID string) { km.cache.forget(tenantID) }

// PrepareTenantKeys implements tenancy.KeyProvisioner: it generates a key
// pair for a new tenant, or adopts a given public key as verification-only.
func (km *KeyManager) PrepareTenantKeys(_ context.Context, tenantID, publicKeyPEM string) (tenancy.PreparedKeys, error) {
	var key SigningKey
	if publicKeyPEM != "" {
		pub, err := tenancy.ParseRSAPublicKey(publicKeyPEM)
		if err != nil {
			return tenancy.PreparedKeys{}, tenancy.Errorf(tenancy.ErrInvalid, "public_key is not a usable RSA public key: %v.", err)
		}
		norm, err := EncodePublicKeyPEM(pub)
		if err != nil {
			return tenancy.PreparedKeys{}, err
		}
		key = SigningKey{TenantID: tenantID, KID: Thumbprint(pub), PublicKeyPEM: norm, Created: km.stamp()}
	} else {
		var err error
		if key, err = km.newSigningKey(tenantID); err != nil {
			return tenancy.PreparedKeys{}, err
		}
	}
	return tenancy.PreparedKeys{
		PublicKeyPEM: key.PublicKeyPEM,
		Commit:       func(ctx context.Context) error { return km.rotate(ctx, key) },
	}, nil
}

// RotateKeys makes a new signing key current for tenantID. The previous key
// keeps verifying until every token it signed has expired. It returns the new
// public key PEM.
func (ts *TokenService) RotateKeys(ctx context.Context, p tenancy.Principal, tenantID string) (string, error) {
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return "", err
	}
	if _, ok := reg.Tenant(tenantID); !ok {
		return "", tenancy.Errorf(tenancy.ErrNotFound, "No tenant found with tenant_id %s.", tenantID)
	}
	if !reg.MayManageTenant(p, tenantID) {
		return "", tenancy.Errorf(tenancy.ErrForbidden, "Not authorized to update the signing keys of tenant %s.", tenantID)
	}
	key, err := ts.keys.newSigningKey(tenantID)
	if err != nil {
		return "", err
	}
	if err := ts.keys.rotate(ctx, key); err != nil {
		return "", err
	}
	if _, err := ts.tenancy.SetTenantPublicKey(ctx, p, tenantID, key.PublicKeyPEM); err != nil {
		return "", err
	}
	ts.log.InfoContext(ctx, "tenant signing key rotated", "tenant", tenantID, "kid", key.KID, "by", p.String())
	return key.PublicKeyPEM, nil
}

// RewrapKeys re-wraps every sealed private key of tenantID under the current
// KEK (after a KEK rotation). It returns how many keys changed.
func (km *KeyManager) RewrapKeys(ctx context.Context, tenantID string) (int, error) {
	keys, err := km.store.ListSigningKeys(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range keys {
		if k.SealedPrivateKey == nil || !km.cfg.Sealer.NeedsRewrap(k.SealedPrivateKey) {
			continue
		}
		re, err := km.cfg.Sealer.Rewrap(k.SealedPrivateKey)
		if err != nil {
			return n, fmt.Errorf("oauth2: rewrap key %s of %s: %w", k.KID, tenantID, err)
		}
		if err := km.store.UpdateSealedKey(ctx, tenantID, k.KID, re); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (c *keyCache) forget(tenantID string) {
	c.mu.Lock()
	if tenantID == "" {
		clear(c.rings)
	} else {
		delete(c.rings, tenantID)
	}
	c.gen++
	c.mu.Unlock()
}

// ring returns the parsed key set of a tenant (see KeyManager.ring).
func (ts *TokenService) ring(ctx context.Context, tenantID string, refresh bool) (*keyring, error) {
	return ts.keys.ring(ctx, tenantID, refresh)
}

// ring returns the parsed key set of a tenant, loading it when absent
// (forgotten after a rotation), older than CacheTTL, or when refresh is set
// (at most once a second). A set whose load raced a forget is used once
// but not kept: it may predate the rotation.
func (km *KeyManager) ring(ctx context.Context, tenantID string, refresh bool) (*keyring, error) {
	now := km.cfg.Now()
	km.cache.mu.Lock()
	r := km.cache.rings[tenantID]
	if r != nil && now.Sub(r.loaded) < km.cfg.CacheTTL && (!refresh || now.Sub(r.lastMiss) < time.Second) {
		if refresh {
			r.lastMiss = now
		}
		km.cache.mu.Unlock()
		return r, nil
	}
	gen := km.cache.gen
	km.cache.mu.Unlock()

	keys, err := km.store.ListSigningKeys(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	nr := &keyring{loaded: now, lastMiss: now}
	for _, k := range keys {
		pub, err := tenancy.ParseRSAPublicKey(k.PublicKeyPEM)
		if err != nil {
			km.log.ErrorContext(ctx, "unusable public key in key store", "tenant", tenantID, "kid", k.KID, "err", err)
			continue
		}
		if !k.VerifyUntil.IsZero() && now.After(k.VerifyUntil) {
			continue
		}
		nr.verify = append(nr.verify, verifyKey{kid: k.KID, pub: pub, until: k.VerifyUntil})
		if k.Current() && k.SealedPrivateKey != nil && nr.signer == nil {
			priv, err := OpenSigningKey(km.cfg.Sealer, k)
			if err != nil {
				km.log.ErrorContext(ctx, "cannot open tenant signing key", "tenant", tenantID, "kid", k.KID, "err", err)
				continue
			}
			nr.signer, nr.signerKID = priv, k.KID
		}
	}
	km.cache.mu.Lock()
	if km.cache.gen == gen {
		km.cache.rings[tenantID] = nr
	}
	km.cache.mu.Unlock()
	return nr, nil
}

// OpenSigningKey unseals the private half of a signing key (for export or
// migration tooling; the KeyManager opens keys itself).
func OpenSigningKey(sealer *seal.Sealer, k SigningKey) (*rsa.PrivateKey, error) {
	if k.SealedPrivateKey == nil {
		return nil, errors.New("oauth2: verification-only key has no private half")
	}
	plain, err := sealer.Open(k.SealedPrivateKey, keyAAD(k.TenantID, k.KID))
	if err != nil {
		return nil, err
	}
	defer clear(plain)
	block, _ := pem.Decode(plain)
	if block == nil {
		return nil, errors.New("sealed key is not PEM")
	}
	// x509 parsing precomputes the CRT values, which keeps signing fast.
	return x509.ParsePKCS1PrivateKey(block.Bytes)
}

// JWK is one key of a JWKS document.
type JWK struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// JWKS is a JSON Web Key Set (RFC 7517).
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// JWKS returns the keys that currently verify tokens of tenantID.
func (ts *TokenService) JWKS(ctx context.Context, tenantID string) (JWKS, error) {
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return JWKS{}, err
	}
	if _, ok := reg.Tenant(tenantID); !ok {
		return JWKS{}, tenancy.Errorf(tenancy.ErrNotFound, "No tenant found with tenant_id %s.", tenantID)
	}
	r, err := ts.ring(ctx, tenantID, false)
	if err != nil {
		return JWKS{}, err
	}
	out := JWKS{Keys: make([]JWK, 0, len(r.verify))}
	for _, k := range r.verify {
		out.Keys = append(out.Keys, JWK{Kty: "RSA", Use: "sig", Alg: "RS256", Kid: k.kid,
			N: base64.RawURLEncoding.EncodeToString(k.pub.N.Bytes()),
			E: base64.RawURLEncoding.EncodeToString(big.NewInt(int64(k.pub.E)).Bytes())})
	}
	return out, nil
}

// MarshalJSON keeps an empty key list as [] rather than null.
func (j JWKS) MarshalJSON() ([]byte, error) {
	keys := j.Keys
	if keys == nil {
		keys = []JWK{}
	}
	return json.Marshal(struct {
		Keys []JWK `json:"keys"`
	}{keys})
}
