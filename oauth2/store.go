package oauth2

import (
	"context"
	"errors"
	"time"

	"github.com/tapis-go/tapis/tenancy"
)

// Sentinel errors. Not-found and already-exists are the tenancy ones, so one
// translation table covers every store.
var (
	ErrNotFound      = tenancy.ErrNotFound
	ErrAlreadyExists = tenancy.ErrAlreadyExists
	// ErrInvalidToken means a token failed validation (HTTP 401).
	ErrInvalidToken = errors.New("invalid token")
	// ErrInvalidCredentials means a password or client secret did not match
	// (HTTP 401). It never says whether the account exists.
	ErrInvalidCredentials = errors.New("invalid credentials")
)

// SigningKey is one RSA key of a tenant's key set.
type SigningKey struct {
	TenantID string
	KID      string // RFC 7638 thumbprint of the public key
	// PublicKeyPEM is the SPKI PEM with a single base64 line.
	PublicKeyPEM string
	// SealedPrivateKey is the PKCS#1 PEM sealed with the KEK; nil for a
	// verification-only key (the tenant signs elsewhere).
	SealedPrivateKey []byte
	Created          time.Time
	// RetiredAt is zero while the key is current.
	RetiredAt time.Time
	// VerifyUntil is when a retired key stops verifying; zero while current.
	VerifyUntil time.Time
}

// Current reports whether k is the tenant's current key.
func (k SigningKey) Current() bool { return k.RetiredAt.IsZero() }

// KeyStore persists tenant signing keys.
type KeyStore interface {
	// RotateSigningKey stores key as the tenant's current key and, in the
	// same atomic step, retires the previous current key (if any): its
	// RetiredAt becomes key.Created and its VerifyUntil retireUntil.
	// key.Created must not be zero; a KID the tenant already has is
	// ErrAlreadyExists.
	RotateSigningKey(ctx context.Context, key SigningKey, retireUntil time.Time) error
	// ListSigningKeys returns the tenant's keys, newest first.
	ListSigningKeys(ctx context.Context, tenantID string) ([]SigningKey, error)
	// UpdateSealedKey replaces the sealed private key of one key (KEK rotation).
	UpdateSealedKey(ctx context.Context, tenantID, kid string, sealed []byte) error
}

// RevocationStore remembers revoked token ids until the tokens expire.
type RevocationStore interface {
	// RevokeToken records jti as revoked until expires. Revoking twice is
	// fine; the later expiry is kept.
	RevokeToken(ctx context.Context, tenantID, jti string, expires time.Time) error
	IsTokenRevoked(ctx context.Context, tenantID, jti string) (bool, error)
	// PurgeRevocations forgets revocations (of every tenant: it is
	// housekeeping) of tokens that expired before t.
	PurgeRevocations(ctx context.Context, before time.Time) (int, error)
}

// Account is a password account: a service account, or a user of the
// built-in authenticator.
type Account struct {
	TenantID     string
	Username     string
	Type         tenancy.AccountType
	PasswordHash []byte
	Created      time.Time
}

// AccountStore persists password accounts.
type AccountStore interface {
	// PutAccount creates or replaces an account.
	PutAccount(ctx context.Context, a Account) error
	GetAccount(ctx context.Context, tenantID, username string) (Account, error)
	ListAccounts(ctx context.Context, tenantID string) ([]Account, error)
	DeleteAccount(ctx context.Context, tenantID, username string) error
}

// Store is everything the token side persists.
type Store interface {
	KeyStore
	RevocationStore
	AccountStore
}
