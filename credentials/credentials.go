// Package credentials holds the secrets Tapis uses to reach hosts on a
// user's behalf (passwords, key pairs, access keys, tokens), the Vault
// interface that stores them, and the audit of every read and write.
// Secrets are sealed at rest by the adapters (AES-256-GCM envelope, see
// package seal) and never logged.
package credentials

import (
	"context"
	"time"

	"github.com/tapis-go/tapis/tenancy"
)

// ErrNotFound means no credential is stored under the key.
var ErrNotFound = tenancy.ErrNotFound

// Credential is one user's secret set for one system. Only the fields of
// the system's authentication method need be set.
type Credential struct {
	LoginUser    string    `json:"loginUser,omitempty"`
	Password     string    `json:"password,omitempty"`
	PrivateKey   string    `json:"privateKey,omitempty"`
	PublicKey    string    `json:"publicKey,omitempty"`
	AccessKey    string    `json:"accessKey,omitempty"`
	AccessSecret string    `json:"accessSecret,omitempty"`
	AccessToken  string    `json:"accessToken,omitempty"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	Certificate  string    `json:"certificate,omitempty"`
	Updated      time.Time `json:"updated,omitzero"`
	// AccessTokenExpires is when AccessToken expires, when known (tokens
	// of an OAuth2 flow such as Globus Auth's), so a reader can refresh
	// them first. Not secret; vaults give it back in UTC, microseconds.
	AccessTokenExpires time.Time `json:"accessTokenExpires,omitzero"`
}

// String never shows secrets (so a Credential logged by mistake leaks
// nothing).
func (c Credential) String() string { return "credentials.Credential{redacted}" }

// GoString never shows secrets either.
func (c Credential) GoString() string { return c.String() }

// Key names a credential: one set per user per system in a tenant. User is
// the Tapis user for a system with a dynamic effectiveUserId, or the static
// login user (prefixed by the caller, for example "static:"), so the two
// namespaces never collide.
type Key struct {
	Tenant, SystemID, User string
}

// Vault stores credentials. PutCredential replaces the whole set stored
// under the key. DeleteCredential of a missing key is not an error.
type Vault interface {
	PutCredential(ctx context.Context, k Key, c Credential) error
	GetCredential(ctx context.Context, k Key) (Credential, error)
	DeleteCredential(ctx context.Context, k Key) error
}

// AuditRecord is one read or write of a secret: who, on behalf of whom,
// what, and the result. It never carries the secret.
type AuditRecord struct {
	Time       time.Time
	Tenant     string
	JWTTenant  string
	JWTUser    string
	OboUser    string
	SystemID   string
	TargetUser string
	Action     string // put, get, delete, check
	Result     string // ok, not_found, denied, error, invalid
}

// Auditor records audit records.
type Auditor interface {
	Audit(ctx context.Context, r AuditRecord) error
}

// ErrInvalid marks a credential the system cannot use (wrong fields for
// its authentication method, an unparsable key).
var ErrInvalid = tenancy.ErrInvalid
