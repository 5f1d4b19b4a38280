package tenancy

import (
	"time"
)

// Site is a Tapis site: a deployment that runs a set of services for the
// tenants it owns. Exactly one site is primary.
type Site struct {
	ID                    string
	BaseURL               string
	Primary               bool
	TenantBaseURLTemplate string // primary site only; contains ${tenant_id}
	SiteAdminTenantID     string
	Services              []string
	CreateTime            time.Time
	LastUpdateTime        time.Time
	CreatedBy             string
	LastUpdatedBy         string
}

// TenantStatus is the lifecycle state of a tenant.
type TenantStatus string

// Tenant states. Only active tenants have their tokens minted and validated.
const (
	StatusDraft    TenantStatus = "draft"
	StatusActive   TenantStatus = "active"
	StatusInactive TenantStatus = "inactive"
)

// Tenant is a Tapis tenant: a namespace of users, systems and tokens.
type Tenant struct {
	ID                      string
	BaseURL                 string
	SiteID                  string
	TokenService            string
	SecurityKernel          string
	Authenticator           string
	Owner                   string // owner email
	AdminUser               string
	TokenGenServices        []string
	ServiceLDAPConnectionID string
	UserLDAPConnectionID    string
	PublicKey               string // PEM of the current verification key
	Description             string
	Status                  TenantStatus
	CreateTime              time.Time
	LastUpdateTime          time.Time
	CreatedBy               string
	LastUpdatedBy           string
}

// Owner is the contact responsible for a tenant.
type Owner struct {
	Name           string
	Email          string
	Institution    string
	CreateTime     time.Time
	LastUpdateTime time.Time
}

// LDAPConnection describes an LDAP server a tenant authenticates against.
// BindCredential names a secret; it is not the password itself.
type LDAPConnection struct {
	ID             string
	URL            string
	Port           int
	UseSSL         bool
	UserDN         string
	BindDN         string
	BindCredential string
	AccountType    string // "user" or "service"
	CreateTime     time.Time
	LastUpdateTime time.Time
}

// Change is one field's previous and new value in a tenant history record.
type Change struct {
	Prev any `json:"prev"`
	New  any `json:"new"`
}

// TenantHistory records one update of a tenant.
type TenantHistory struct {
	TenantID   string
	UpdateTime time.Time
	UpdatedBy  string
	Updates    map[string]Change
}

// TenantFilter selects tenants by status in a listing.
type TenantFilter struct {
	ShowDraft    bool
	ShowInactive bool
}

// Includes reports whether a tenant with status s is part of the listing.
func (f TenantFilter) Includes(s TenantStatus) bool {
	switch s {
	case StatusDraft:
		return f.ShowDraft
	case StatusInactive:
		return f.ShowInactive
	default:
		return true
	}
}
