package bunstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/oauth2"
)

// Row structs of the authenticator's tables (migration 0002). Like those of
// models.go they normalize times to UTC microseconds; unlike tenancy lists,
// the tenant configuration keeps nil apart from empty (NULL versus JSON
// text), because oauth2.AuthStore returns a configuration as it was put.
// Durations are stored as integer nanoseconds. Absent times are NULL.

// clientRow is a row of oauth2_clients; a public client has a NULL key_hash.
type clientRow struct {
	bun.BaseModel `bun:"table:oauth2_clients,alias:cl"`

	TenantID    string    `bun:"tenant_id,pk"`
	ClientID    string    `bun:"client_id,pk"`
	KeyHash     []byte    `bun:"key_hash"`
	Owner       string    `bun:"owner"`
	CallbackURL string    `bun:"callback_url"`
	DisplayName string    `bun:"display_name"`
	Description string    `bun:"description"`
	Active      bool      `bun:"active"`
	Created     time.Time `bun:"created"`
	Updated     time.Time `bun:"updated"`
}

// authCodeRow is a row of oauth2_auth_codes.
type authCodeRow struct {
	bun.BaseModel `bun:"table:oauth2_auth_codes,alias:ac"`

	TenantID            string    `bun:"tenant_id,pk"`
	CodeHash            string    `bun:"code_hash,pk"`
	ClientID            string    `bun:"client_id"`
	Username            string    `bun:"username"`
	RedirectURI         string    `bun:"redirect_uri"`
	CodeChallenge       string    `bun:"code_challenge"`
	CodeChallengeMethod string    `bun:"code_challenge_method"`
	Created             time.Time `bun:"created"`
	Expires             time.Time `bun:"expires"`
	RedeemedAt          time.Time `bun:"redeemed_at,nullzero"`
	AccessJTI           string    `bun:"access_jti"`
	AccessExp           time.Time `bun:"access_exp,nullzero"`
	RefreshFam          string    `bun:"refresh_family"`
	ReuseSeenAt         time.Time `bun:"reuse_seen_at,nullzero"`
}

// deviceCodeRow is a row of oauth2_device_codes.
type deviceCodeRow struct {
	bun.BaseModel `bun:"table:oauth2_device_codes,alias:dc"`

	TenantID  string    `bun:"tenant_id,pk"`
	CodeHash  string    `bun:"code_hash,pk"`
	UserCode  string    `bun:"user_code"`
	ClientID  string    `bun:"client_id"`
	Status    string    `bun:"status"`
	Username  string    `bun:"username"`
	AccessTTL int64     `bun:"access_ttl_ns"`
	Interval  int64     `bun:"poll_interval_ns"`
	LastPoll  time.Time `bun:"last_poll,nullzero"`
	Created   time.Time `bun:"created"`
	Expires   time.Time `bun:"expires"`
}

// refreshRow is a row of oauth2_refresh_tokens.
type refreshRow struct {
	bun.BaseModel `bun:"table:oauth2_refresh_tokens,alias:rt"`

	TenantID  string    `bun:"tenant_id,pk"`
	JTI       string    `bun:"jti,pk"`
	FamilyID  string    `bun:"family_id"`
	ClientID  string    `bun:"client_id"`
	Username  string    `bun:"username"`
	Expires   time.Time `bun:"expires"`
	AccessJTI string    `bun:"access_jti"`
	AccessExp time.Time `bun:"access_exp,nullzero"`
	UsedAt    time.Time `bun:"used_at,nullzero"`
	Created   time.Time `bun:"created"`
}

// familyRevocationRow is a row of oauth2_refresh_family_revocations.
type familyRevocationRow struct {
	bun.BaseModel `bun:"table:oauth2_refresh_family_revocations,alias:rfr"`

	TenantID  string    `bun:"tenant_id,pk"`
	FamilyID  string    `bun:"family_id,pk"`
	RevokedAt time.Time `bun:"revoked_at"`
}

// tenantConfigRow is a row of oauth2_tenant_configs. The JSON columns are
// NULL ("" here) for a nil list or map.
type tenantConfigRow struct {
	bun.BaseModel `bun:"table:oauth2_tenant_configs,alias:tc"`

	TenantID               string    `bun:"tenant_id,pk"`
	AllowableGrantTypes    string    `bun:"allowable_grant_types,nullzero"` // JSON list
	UseLDAP                bool      `bun:"use_ldap"`
	UseTokenWebapp         bool      `bun:"use_token_webapp"`
	MFAConfig              string    `bun:"mfa_config,nullzero"` // JSON object
	DefaultAccessTTL       int64     `bun:"default_access_ttl_ns"`
	DefaultRefreshTTL      int64     `bun:"default_refresh_ttl_ns"`
	MaxAccessTTL           int64     `bun:"max_access_ttl_ns"`
	MaxRefreshTTL          int64     `bun:"max_refresh_ttl_ns"`
	CustomIdPConfiguration string    `bun:"custom_idp_configuration,nullzero"` // JSON object
	TokenURL               string    `bun:"token_url"`
	ImpersOAuthClientID    string    `bun:"impers_oauth_client_id"`
	ImpersadminUsername    string    `bun:"impersadmin_username"`
	SealedSecrets          []byte    `bun:"sealed_secrets"`
	Updated                time.Time `bun:"updated"`
}

func clientToRow(c oauth2.Client) *clientRow {
	return &clientRow{TenantID: c.TenantID, ClientID: c.ClientID, KeyHash: c.KeyHash, Owner: c.Owner,
		CallbackURL: c.CallbackURL, DisplayName: c.DisplayName, Description: c.Description, Active: c.Active,
		Created: utc(c.Created), Updated: utc(c.Updated)}
}

func (r *clientRow) domain() oauth2.Client {
	return oauth2.Client{TenantID: r.TenantID, ClientID: r.ClientID, KeyHash: r.KeyHash, Owner: r.Owner,
		CallbackURL: r.CallbackURL, DisplayName: r.DisplayName, Description: r.Description, Active: r.Active,
		Created: utc(r.Created), Updated: utc(r.Updated)}
}

func authCodeToRow(c oauth2.AuthCode) *authCodeRow {
	return &authCodeRow{TenantID: c.TenantID, CodeHash: c.CodeHash, ClientID: c.ClientID, Username: c.Username,
		RedirectURI: c.RedirectURI, CodeChallenge: c.CodeChallenge, CodeChallengeMethod: c.CodeChallengeMethod,
		Created: utc(c.Created), Expires: utc(c.Expires), RedeemedAt: utc(c.RedeemedAt), AccessJTI: c.AccessJTI,
		AccessExp: utc(c.AccessExp), RefreshFam: c.RefreshFam, ReuseSeenAt: utc(c.ReuseSeenAt)}
}

func (r *authCodeRow) domain() oauth2.AuthCode {
	return oauth2.AuthCode{TenantID: r.TenantID, CodeHash: r.CodeHash, ClientID: r.ClientID, Username: r.Username,
		RedirectURI: r.RedirectURI, CodeChallenge: r.CodeChallenge, CodeChallengeMethod: r.CodeChallengeMethod,
		Created: utc(r.Created), Expires: utc(r.Expires), RedeemedAt: utc(r.RedeemedAt), AccessJTI: r.AccessJTI,
		AccessExp: utc(r.AccessExp), RefreshFam: r.RefreshFam, ReuseSeenAt: utc(r.ReuseSeenAt)}
}

func deviceCodeToRow(d oauth2.DeviceCode) *deviceCodeRow {
	return &deviceCodeRow{TenantID: d.TenantID, CodeHash: d.CodeHash, UserCode: d.UserCode, ClientID: d.ClientID,
		Status: string(d.Status), Username: d.Username, AccessTTL: int64(d.AccessTTL), Interval: int64(d.Interval),
		LastPoll: utc(d.LastPoll), Created: utc(d.Created), Expires: utc(d.Expires)}
}

func (r *deviceCodeRow) domain() oauth2.DeviceCode {
	return oauth2.DeviceCode{TenantID: r.TenantID, CodeHash: r.CodeHash, UserCode: r.UserCode, ClientID: r.ClientID,
		Status: oauth2.DeviceStatus(r.Status), Username: r.Username, AccessTTL: time.Duration(r.AccessTTL),
		Interval: time.Duration(r.Interval), LastPoll: utc(r.LastPoll), Created: utc(r.Created), Expires: utc(r.Expires)}
}

func refreshToRow(r oauth2.RefreshRecord) *refreshRow {
	return &refreshRow{TenantID: r.TenantID, JTI: r.JTI, FamilyID: r.FamilyID, ClientID: r.ClientID,
		Username: r.Username, Expires: utc(r.Expires), AccessJTI: r.AccessJTI, AccessExp: utc(r.AccessExp),
		UsedAt: utc(r.UsedAt), Created: utc(r.Created)}
}

func (r *refreshRow) domain() oauth2.RefreshRecord {
	return oauth2.RefreshRecord{TenantID: r.TenantID, JTI: r.JTI, FamilyID: r.FamilyID, ClientID: r.ClientID,
		Username: r.Username, Expires: utc(r.Expires), AccessJTI: r.AccessJTI, AccessExp: utc(r.AccessExp),
		UsedAt: utc(r.UsedAt), Created: utc(r.Created)}
}

// encodeNullable stores v as JSON text, or as NULL ("") when isNil.
func encodeNullable(column string, v any, isNil bool) (string, error) {
	if isNil {
		return "", nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("bunstore: encode %s: %w", column, err)
	}
	return string(b), nil
}

// decodeNullable reads JSON text into dst (a pointer to a nil list or map),
// leaving it nil for NULL ("").
func decodeNullable(column, s string, dst any) error {
	if s == "" {
		return nil
	}
	if err := json.Unmarshal([]byte(s), dst); err != nil {
		return fmt.Errorf("bunstore: column %s holds no valid JSON: %w", column, err)
	}
	return nil
}

func tenantConfigToRow(c oauth2.TenantConfig) (*tenantConfigRow, error) {
	grants, err := encodeNullable("oauth2_tenant_configs.allowable_grant_types", c.AllowableGrantTypes, c.AllowableGrantTypes == nil)
	if err != nil {
		return nil, err
	}
	mfa, err := encodeNullable("oauth2_tenant_configs.mfa_config", c.MFAConfig, c.MFAConfig == nil)
	if err != nil {
		return nil, err
	}
	idp, err := encodeNullable("oauth2_tenant_configs.custom_idp_configuration", c.CustomIdPConfiguration, c.CustomIdPConfiguration == nil)
	if err != nil {
		return nil, err
	}
	return &tenantConfigRow{TenantID: c.TenantID, AllowableGrantTypes: grants, UseLDAP: c.UseLDAP,
		UseTokenWebapp: c.UseTokenWebapp, MFAConfig: mfa, DefaultAccessTTL: int64(c.DefaultAccessTTL),
		DefaultRefreshTTL: int64(c.DefaultRefreshTTL), MaxAccessTTL: int64(c.MaxAccessTTL),
		MaxRefreshTTL: int64(c.MaxRefreshTTL), CustomIdPConfiguration: idp, TokenURL: c.TokenURL,
		ImpersOAuthClientID: c.ImpersOAuthClientID, ImpersadminUsername: c.ImpersadminUsername,
		SealedSecrets: c.SealedSecrets, Updated: utc(c.Updated)}, nil
}

// domain decodes the JSON columns; map values come back as decoded JSON
// (string, float64, bool, []any, map[string]any or nil).
func (r *tenantConfigRow) domain() (oauth2.TenantConfig, error) {
	c := oauth2.TenantConfig{TenantID: r.TenantID, UseLDAP: r.UseLDAP, UseTokenWebapp: r.UseTokenWebapp,
		DefaultAccessTTL: time.Duration(r.DefaultAccessTTL), DefaultRefreshTTL: time.Duration(r.DefaultRefreshTTL),
		MaxAccessTTL: time.Duration(r.MaxAccessTTL), MaxRefreshTTL: time.Duration(r.MaxRefreshTTL),
		TokenURL: r.TokenURL, ImpersOAuthClientID: r.ImpersOAuthClientID, ImpersadminUsername: r.ImpersadminUsername,
		SealedSecrets: r.SealedSecrets, Updated: utc(r.Updated)}
	if err := decodeNullable("oauth2_tenant_configs.allowable_grant_types", r.AllowableGrantTypes, &c.AllowableGrantTypes); err != nil {
		return oauth2.TenantConfig{}, err
	}
	if err := decodeNullable("oauth2_tenant_configs.mfa_config", r.MFAConfig, &c.MFAConfig); err != nil {
		return oauth2.TenantConfig{}, err
	}
	if err := decodeNullable("oauth2_tenant_configs.custom_idp_configuration", r.CustomIdPConfiguration, &c.CustomIdPConfiguration); err != nil {
		return oauth2.TenantConfig{}, err
	}
	return c, nil
}
