package oauth2

import (
	"context"
	"errors"
	"time"
)

// Errors of the authenticator stores.
var (
	// ErrCodeUsed means an authorization or device code was redeemed before.
	ErrCodeUsed = errors.New("code already used")
	// ErrRefreshReused means a rotated refresh token was presented again.
	ErrRefreshReused = errors.New("refresh token reused")
)

// Client is an OAuth2 client registered in a tenant.
type Client struct {
	TenantID string
	ClientID string
	// KeyHash is the SHA-256 of the client key; nil for a public client,
	// which must use PKCE.
	KeyHash     []byte
	Owner       string
	CallbackURL string
	DisplayName string
	Description string
	Active      bool
	Created     time.Time
	Updated     time.Time
}

// Public reports whether the client has no key (and so must use PKCE).
func (c Client) Public() bool { return len(c.KeyHash) == 0 }

// AuthCode is an authorization code, stored by the hash of its value.
type AuthCode struct {
	TenantID            string
	CodeHash            string
	ClientID            string
	Username            string
	RedirectURI         string
	CodeChallenge       string // S256 challenge; empty without PKCE
	CodeChallengeMethod string
	Created             time.Time
	Expires             time.Time
	// Set once redeemed: when, and which tokens it produced (revoked if the
	// code is presented again).
	RedeemedAt  time.Time
	AccessJTI   string
	AccessExp   time.Time
	RefreshFam  string
	ReuseSeenAt time.Time
}

// DeviceStatus is the state of a device code.
type DeviceStatus string

// Device code states.
const (
	DeviceCreated  DeviceStatus = "created"  // waiting for the user
	DeviceEntered  DeviceStatus = "entered"  // user code entered, consent pending
	DeviceApproved DeviceStatus = "approved" // redeemable
	DeviceDenied   DeviceStatus = "denied"
	DeviceRedeemed DeviceStatus = "redeemed"
)

// DeviceCode is an RFC 8628 device authorization, stored by the hash of the
// device code; the user code is stored as is (it is short-lived and typed by
// people).
type DeviceCode struct {
	TenantID  string
	CodeHash  string
	UserCode  string
	ClientID  string
	Status    DeviceStatus
	Username  string
	AccessTTL time.Duration
	Interval  time.Duration
	LastPoll  time.Time
	Created   time.Time
	Expires   time.Time
}

// RefreshRecord tracks one refresh token of a rotation family.
type RefreshRecord struct {
	TenantID  string
	JTI       string
	FamilyID  string
	ClientID  string
	Username  string
	Expires   time.Time
	AccessJTI string // the access token issued with it
	AccessExp time.Time
	UsedAt    time.Time // zero until rotated
	Created   time.Time
}

// TenantConfig is the authenticator configuration of a tenant.
type TenantConfig struct {
	TenantID               string
	AllowableGrantTypes    []string
	UseLDAP                bool
	UseTokenWebapp         bool
	MFAConfig              map[string]any
	DefaultAccessTTL       time.Duration
	DefaultRefreshTTL      time.Duration
	MaxAccessTTL           time.Duration
	MaxRefreshTTL          time.Duration
	CustomIdPConfiguration map[string]any
	TokenURL               string
	ImpersOAuthClientID    string
	ImpersadminUsername    string
	// SealedSecrets holds the sealed v2-impersonation secrets
	// (impers_oauth_client_secret, impersadmin_password); never returned.
	SealedSecrets []byte
	Updated       time.Time
}

// ClientStore persists OAuth2 clients.
type ClientStore interface {
	// CreateClient stores a client; ErrAlreadyExists if its id is taken in the tenant.
	CreateClient(ctx context.Context, c Client) error
	GetClient(ctx context.Context, tenantID, clientID string) (Client, error)
	// ListClients returns a tenant's clients of owner (all owners when
	// empty), inactive ones only when asked, ordered by client id.
	ListClients(ctx context.Context, tenantID, owner string, includeInactive bool) ([]Client, error)
	// UpdateClient runs update atomically on the stored client; update must
	// not call the store. TenantID and ClientID cannot change.
	UpdateClient(ctx context.Context, tenantID, clientID string, update func(*Client) error) (Client, error)
}

// CodeStore persists authorization codes.
type CodeStore interface {
	CreateAuthCode(ctx context.Context, c AuthCode) error
	// RedeemAuthCode marks the code redeemed at now, atomically: of any
	// number of concurrent calls exactly one gets the code and nil. Later
	// calls get the code and ErrCodeUsed (and the store records ReuseSeenAt).
	// ErrNotFound when it does not exist.
	RedeemAuthCode(ctx context.Context, tenantID, codeHash string, now time.Time) (AuthCode, error)
	// RecordCodeTokens stores what a redeemed code produced and reports
	// whether a reuse was seen meanwhile (the caller then revokes them).
	RecordCodeTokens(ctx context.Context, tenantID, codeHash, accessJTI string, accessExp time.Time, family string) (reused bool, err error)
	// PurgeAuthCodes forgets codes that expired before t.
	PurgeAuthCodes(ctx context.Context, before time.Time) (int, error)
}

// DeviceStore persists device codes.
type DeviceStore interface {
	CreateDeviceCode(ctx context.Context, d DeviceCode) error
	GetDeviceCode(ctx context.Context, tenantID, codeHash string) (DeviceCode, error)
	GetDeviceCodeByUserCode(ctx context.Context, tenantID, userCode string) (DeviceCode, error)
	// UpdateDeviceCode runs update atomically; update must not call the store.
	UpdateDeviceCode(ctx context.Context, tenantID, codeHash string, update func(*DeviceCode) error) (DeviceCode, error)
	// PurgeDeviceCodes forgets device codes that expired before t.
	PurgeDeviceCodes(ctx context.Context, before time.Time) (int, error)
}

// RefreshStore persists refresh-token rotation families.
type RefreshStore interface {
	PutRefreshToken(ctx context.Context, r RefreshRecord) error
	// UseRefreshToken marks jti used at now, atomically: exactly one caller
	// gets the record and nil; later callers get the record and
	// ErrRefreshReused. ErrNotFound when unknown.
	UseRefreshToken(ctx context.Context, tenantID, jti string, now time.Time) (RefreshRecord, error)
	// RefreshFamily returns every record of a family (to revoke them all).
	RefreshFamily(ctx context.Context, tenantID, familyID string) ([]RefreshRecord, error)
	// RevokeRefreshFamily marks a family revoked; IsRefreshFamilyRevoked reads it.
	RevokeRefreshFamily(ctx context.Context, tenantID, familyID string, at time.Time) error
	IsRefreshFamilyRevoked(ctx context.Context, tenantID, familyID string) (bool, error)
	// PurgeRefreshTokens forgets refresh records that expired before t, and
	// the revocation marks of families left without records.
	PurgeRefreshTokens(ctx context.Context, before time.Time) (int, error)
}

// ConfigStore persists tenant authenticator configurations.
type ConfigStore interface {
	// GetTenantConfig returns ErrNotFound when the tenant has none yet.
	GetTenantConfig(ctx context.Context, tenantID string) (TenantConfig, error)
	PutTenantConfig(ctx context.Context, c TenantConfig) error
}

// AuthStore is everything the authenticator persists.
type AuthStore interface {
	ClientStore
	CodeStore
	DeviceStore
	RefreshStore
	ConfigStore
}
