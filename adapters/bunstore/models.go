package bunstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/tenancy"
)

// Row structs: the storage shape of the domain types. Only this package
// knows them; conversions normalize on the way in (UTC, microseconds) and on
// the way out (UTC, empty non-nil lists), so that a value read back equals the
// value written on both dialects.

// siteRow is a row of sites.
type siteRow struct {
	bun.BaseModel `bun:"table:sites,alias:site"`

	ID                    string    `bun:"id,pk"`
	BaseURL               string    `bun:"base_url"`
	Primary               bool      `bun:"is_primary"`
	TenantBaseURLTemplate string    `bun:"tenant_base_url_template"`
	SiteAdminTenantID     string    `bun:"site_admin_tenant_id"`
	Services              string    `bun:"services"` // JSON list
	CreateTime            time.Time `bun:"create_time"`
	LastUpdateTime        time.Time `bun:"last_update_time"`
	CreatedBy             string    `bun:"created_by"`
	LastUpdatedBy         string    `bun:"last_updated_by"`
}

// tenantRow is a row of tenants. Empty LDAP references are NULL, so that the
// foreign keys only check the ones that are set.
type tenantRow struct {
	bun.BaseModel `bun:"table:tenants,alias:tenant"`

	ID                      string    `bun:"id,pk"`
	BaseURL                 string    `bun:"base_url"`
	SiteID                  string    `bun:"site_id"`
	TokenService            string    `bun:"token_service"`
	SecurityKernel          string    `bun:"security_kernel"`
	Authenticator           string    `bun:"authenticator"`
	Owner                   string    `bun:"owner"`
	AdminUser               string    `bun:"admin_user"`
	TokenGenServices        string    `bun:"token_gen_services"` // JSON list
	ServiceLDAPConnectionID string    `bun:"service_ldap_connection_id,nullzero"`
	UserLDAPConnectionID    string    `bun:"user_ldap_connection_id,nullzero"`
	PublicKey               string    `bun:"public_key"`
	Description             string    `bun:"description"`
	Status                  string    `bun:"status"`
	CreateTime              time.Time `bun:"create_time"`
	LastUpdateTime          time.Time `bun:"last_update_time"`
	CreatedBy               string    `bun:"created_by"`
	LastUpdatedBy           string    `bun:"last_updated_by"`
}

// ownerRow is a row of owners.
type ownerRow struct {
	bun.BaseModel `bun:"table:owners,alias:owner"`

	Email          string    `bun:"email,pk"`
	Name           string    `bun:"name"`
	Institution    string    `bun:"institution"`
	CreateTime     time.Time `bun:"create_time"`
	LastUpdateTime time.Time `bun:"last_update_time"`
}

// ldapRow is a row of ldap_connections.
type ldapRow struct {
	bun.BaseModel `bun:"table:ldap_connections,alias:ldap"`

	ID             string    `bun:"id,pk"`
	URL            string    `bun:"url"`
	Port           int       `bun:"port"`
	UseSSL         bool      `bun:"use_ssl"`
	UserDN         string    `bun:"user_dn"`
	BindDN         string    `bun:"bind_dn"`
	BindCredential string    `bun:"bind_credential"`
	AccountType    string    `bun:"account_type"`
	CreateTime     time.Time `bun:"create_time"`
	LastUpdateTime time.Time `bun:"last_update_time"`
}

// historyRow is a row of tenant_history; Seq orders the records.
type historyRow struct {
	bun.BaseModel `bun:"table:tenant_history,alias:hist"`

	Seq        int64     `bun:"seq,pk,autoincrement"`
	TenantID   string    `bun:"tenant_id"`
	UpdateTime time.Time `bun:"update_time"`
	UpdatedBy  string    `bun:"updated_by"`
	Updates    string    `bun:"updates"` // JSON object: field -> {prev, new}
}

// signingKeyRow is a row of signing_keys. A current key has NULL retired_at
// and verify_until; a verification-only key has a NULL sealed_private_key.
type signingKeyRow struct {
	bun.BaseModel `bun:"table:signing_keys,alias:sk"`

	TenantID         string    `bun:"tenant_id,pk"`
	KID              string    `bun:"kid,pk"`
	PublicKeyPEM     string    `bun:"public_key_pem"`
	SealedPrivateKey []byte    `bun:"sealed_private_key"`
	Created          time.Time `bun:"created"`
	RetiredAt        time.Time `bun:"retired_at,nullzero"`
	VerifyUntil      time.Time `bun:"verify_until,nullzero"`
}

// revocationRow is a row of token_revocations.
type revocationRow struct {
	bun.BaseModel `bun:"table:token_revocations,alias:rev"`

	TenantID string    `bun:"tenant_id,pk"`
	JTI      string    `bun:"jti,pk"`
	Expires  time.Time `bun:"expires"`
}

// accountRow is a row of accounts.
type accountRow struct {
	bun.BaseModel `bun:"table:accounts,alias:acct"`

	TenantID     string    `bun:"tenant_id,pk"`
	Username     string    `bun:"username,pk"`
	AccountType  string    `bun:"account_type"`
	PasswordHash []byte    `bun:"password_hash"`
	Created      time.Time `bun:"created"`
}

// utc is the stored form of a time: UTC, truncated to microseconds (the
// precision of PostgreSQL, which would otherwise round where SQLite's text
// truncates). The zero time stays zero.
func utc(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Microsecond)
}

// encodeList stores a string list as JSON; nil is stored as [].
func encodeList(l []string) (string, error) {
	if l == nil {
		l = []string{}
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// decodeList reads a stored string list; it is never nil.
func decodeList(column, s string) ([]string, error) {
	out := []string{}
	if s != "" {
		if err := json.Unmarshal([]byte(s), &out); err != nil {
			return nil, fmt.Errorf("bunstore: column %s holds no JSON list: %w", column, err)
		}
	}
	if out == nil {
		out = []string{}
	}
	return out, nil
}

func siteToRow(s tenancy.Site) (*siteRow, error) {
	services, err := encodeList(s.Services)
	if err != nil {
		return nil, err
	}
	return &siteRow{ID: s.ID, BaseURL: s.BaseURL, Primary: s.Primary,
		TenantBaseURLTemplate: s.TenantBaseURLTemplate, SiteAdminTenantID: s.SiteAdminTenantID,
		Services: services, CreateTime: utc(s.CreateTime), LastUpdateTime: utc(s.LastUpdateTime),
		CreatedBy: s.CreatedBy, LastUpdatedBy: s.LastUpdatedBy}, nil
}

func (r *siteRow) domain() (tenancy.Site, error) {
	services, err := decodeList("sites.services", r.Services)
	if err != nil {
		return tenancy.Site{}, err
	}
	return tenancy.Site{ID: r.ID, BaseURL: r.BaseURL, Primary: r.Primary,
		TenantBaseURLTemplate: r.TenantBaseURLTemplate, SiteAdminTenantID: r.SiteAdminTenantID,
		Services: services, CreateTime: utc(r.CreateTime), LastUpdateTime: utc(r.LastUpdateTime),
		CreatedBy: r.CreatedBy, LastUpdatedBy: r.LastUpdatedBy}, nil
}

func tenantToRow(t tenancy.Tenant) (*tenantRow, error) {
	services, err := encodeList(t.TokenGenServices)
	if err != nil {
		return nil, err
	}
	return &tenantRow{ID: t.ID, BaseURL: t.BaseURL, SiteID: t.SiteID, TokenService: t.TokenService,
		SecurityKernel: t.SecurityKernel, Authenticator: t.Authenticator, Owner: t.Owner,
		AdminUser: t.AdminUser, TokenGenServices: services,
		ServiceLDAPConnectionID: t.ServiceLDAPConnectionID, UserLDAPConnectionID: t.UserLDAPConnectionID,
		PublicKey: t.PublicKey, Description: t.Description, Status: string(t.Status),
		CreateTime: utc(t.CreateTime), LastUpdateTime: utc(t.LastUpdateTime),
		CreatedBy: t.CreatedBy, LastUpdatedBy: t.LastUpdatedBy}, nil
}

func (r *tenantRow) domain() (tenancy.Tenant, error) {
	services, err := decodeList("tenants.token_gen_services", r.TokenGenServices)
	if err != nil {
		return tenancy.Tenant{}, err
	}
	return tenancy.Tenant{ID: r.ID, BaseURL: r.BaseURL, SiteID: r.SiteID, TokenService: r.TokenService,
		SecurityKernel: r.SecurityKernel, Authenticator: r.Authenticator, Owner: r.Owner,
		AdminUser: r.AdminUser, TokenGenServices: services,
		ServiceLDAPConnectionID: r.ServiceLDAPConnectionID, UserLDAPConnectionID: r.UserLDAPConnectionID,
		PublicKey: r.PublicKey, Description: r.Description, Status: tenancy.TenantStatus(r.Status),
		CreateTime: utc(r.CreateTime), LastUpdateTime: utc(r.LastUpdateTime),
		CreatedBy: r.CreatedBy, LastUpdatedBy: r.LastUpdatedBy}, nil
}

func ownerToRow(o tenancy.Owner) *ownerRow {
	return &ownerRow{Email: o.Email, Name: o.Name, Institution: o.Institution,
		CreateTime: utc(o.CreateTime), LastUpdateTime: utc(o.LastUpdateTime)}
}

func (r *ownerRow) domain() tenancy.Owner {
	return tenancy.Owner{Email: r.Email, Name: r.Name, Institution: r.Institution,
		CreateTime: utc(r.CreateTime), LastUpdateTime: utc(r.LastUpdateTime)}
}

func ldapToRow(l tenancy.LDAPConnection) *ldapRow {
	return &ldapRow{ID: l.ID, URL: l.URL, Port: l.Port, UseSSL: l.UseSSL, UserDN: l.UserDN,
		BindDN: l.BindDN, BindCredential: l.BindCredential, AccountType: l.AccountType,
		CreateTime: utc(l.CreateTime), LastUpdateTime: utc(l.LastUpdateTime)}
}

func (r *ldapRow) domain() tenancy.LDAPConnection {
	return tenancy.LDAPConnection{ID: r.ID, URL: r.URL, Port: r.Port, UseSSL: r.UseSSL, UserDN: r.UserDN,
		BindDN: r.BindDN, BindCredential: r.BindCredential, AccountType: r.AccountType,
		CreateTime: utc(r.CreateTime), LastUpdateTime: utc(r.LastUpdateTime)}
}

func historyToRow(h tenancy.TenantHistory) (*historyRow, error) {
	updates, err := json.Marshal(h.Updates)
	if err != nil {
		return nil, fmt.Errorf("bunstore: encode tenant history: %w", err)
	}
	return &historyRow{TenantID: h.TenantID, UpdateTime: utc(h.UpdateTime), UpdatedBy: h.UpdatedBy,
		Updates: string(updates)}, nil
}

// domain decodes the changes; their Prev and New values come back as decoded
// JSON (string, float64, bool, []any, map[string]any or nil).
func (r *historyRow) domain() (tenancy.TenantHistory, error) {
	updates := map[string]tenancy.Change{}
	if r.Updates != "" {
		if err := json.Unmarshal([]byte(r.Updates), &updates); err != nil {
			return tenancy.TenantHistory{}, fmt.Errorf("bunstore: column tenant_history.updates holds no JSON object: %w", err)
		}
	}
	if updates == nil {
		updates = map[string]tenancy.Change{}
	}
	return tenancy.TenantHistory{TenantID: r.TenantID, UpdateTime: utc(r.UpdateTime), UpdatedBy: r.UpdatedBy,
		Updates: updates}, nil
}

func signingKeyToRow(k oauth2.SigningKey) *signingKeyRow {
	return &signingKeyRow{TenantID: k.TenantID, KID: k.KID, PublicKeyPEM: k.PublicKeyPEM,
		SealedPrivateKey: k.SealedPrivateKey, Created: utc(k.Created),
		RetiredAt: utc(k.RetiredAt), VerifyUntil: utc(k.VerifyUntil)}
}

func (r *signingKeyRow) domain() oauth2.SigningKey {
	return oauth2.SigningKey{TenantID: r.TenantID, KID: r.KID, PublicKeyPEM: r.PublicKeyPEM,
		SealedPrivateKey: r.SealedPrivateKey, Created: utc(r.Created),
		RetiredAt: utc(r.RetiredAt), VerifyUntil: utc(r.VerifyUntil)}
}

func accountToRow(a oauth2.Account) *accountRow {
	return &accountRow{TenantID: a.TenantID, Username: a.Username, AccountType: string(a.Type),
		PasswordHash: a.PasswordHash, Created: utc(a.Created)}
}

func (r *accountRow) domain() oauth2.Account {
	return oauth2.Account{TenantID: r.TenantID, Username: r.Username, Type: tenancy.AccountType(r.AccountType),
		PasswordHash: r.PasswordHash, Created: utc(r.Created)}
}
