package oauth2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/tapis-go/tapis/tenancy"
)

// Grant types of the Tapis authenticator.
const (
	GrantPassword          = "password"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantDeviceCode        = "device_code"
	GrantImplicit          = "implicit"
)

// DefaultTenantConfig is the configuration of a tenant that has none stored:
// every grant of the provider (ProviderConfig.Grants) but not implicit, the
// token web app on, TTLs of 4 hours (access) and 30 days (refresh) within
// the token service's maxima.
func (p *Provider) DefaultTenantConfig(tenantID string) TenantConfig {
	tc := p.tokens.cfg
	return TenantConfig{TenantID: tenantID,
		AllowableGrantTypes: slices.Clone(p.grantTypes),
		UseLDAP:             true, UseTokenWebapp: true, MFAConfig: map[string]any{}, CustomIdPConfiguration: map[string]any{},
		DefaultAccessTTL: min(4*time.Hour, tc.MaxAccessTTL), DefaultRefreshTTL: min(30*24*time.Hour, tc.MaxRefreshTTL),
		MaxAccessTTL: tc.MaxAccessTTL, MaxRefreshTTL: tc.MaxRefreshTTL}
}

// TenantConfig returns the stored configuration of a tenant, or the default.
func (p *Provider) TenantConfig(ctx context.Context, tenantID string) (TenantConfig, error) {
	c, err := p.store.GetTenantConfig(ctx, tenantID)
	if errors.Is(err, ErrNotFound) {
		return p.DefaultTenantConfig(tenantID), nil
	}
	return c, err
}

// allows reports whether the tenant allows a grant type.
func (c TenantConfig) allows(grant string) bool { return slices.Contains(c.AllowableGrantTypes, grant) }

// TTLs returns the access and refresh TTLs of the tenant, capped by its and
// the token service's maxima.
func (c TenantConfig) ttls() (access, refresh time.Duration) {
	return min(c.DefaultAccessTTL, c.MaxAccessTTL), min(c.DefaultRefreshTTL, c.MaxRefreshTTL)
}

// ConfigUpdate is a partial update of a tenant configuration; nil keeps.
type ConfigUpdate struct {
	AllowableGrantTypes     *[]string
	UseLDAP, UseTokenWebapp *bool
	MFAConfig               *map[string]any
	DefaultAccessTTL        *int64 // seconds
	DefaultRefreshTTL       *int64
	MaxAccessTTL            *int64
	MaxRefreshTTL           *int64
	CustomIdPConfiguration  *map[string]any
	TokenURL                *string
	ImpersOAuthClientID     *string
	ImpersOAuthClientSecret *string
	ImpersadminUsername     *string
	ImpersadminPassword     *string
}

type configSecrets struct {
	ImpersOAuthClientSecret string `json:"impers_oauth_client_secret,omitempty"`
	ImpersadminPassword     string `json:"impersadmin_password,omitempty"`
}

// ErrCorruptSecrets means a tenant configuration's sealed secrets opened
// but do not decode: the record is damaged (HTTP 500, nothing written).
var ErrCorruptSecrets = errors.New("corrupt sealed secrets")

func configAAD(tenantID string) []byte { return []byte("tapis-authenticator-config|" + tenantID) }

// mayAdminister: the tenant's admins, and the authenticator service acting
// for the tenant.
func (p *Provider) mayAdminister(ctx context.Context, pr tenancy.Principal) error {
	reg, err := p.tenancy.Registry(ctx)
	if err != nil {
		return err
	}
	if pr.IsService() && pr.TokenUsername == "authenticator" && reg.MayActFor(pr.TokenTenantID, pr.TenantID) {
		return nil
	}
	if !pr.IsService() && reg.IsTenantAdmin(pr.TenantID, pr.Username) {
		return nil
	}
	return tenancy.Errorf(tenancy.ErrForbidden, "Only the administrators of tenant %s may read or change its authenticator configuration.", pr.TenantID)
}

// GetConfig returns the caller's tenant configuration (admins only).
func (p *Provider) GetConfig(ctx context.Context, pr tenancy.Principal) (TenantConfig, error) {
	if err := p.mayAdminister(ctx, pr); err != nil {
		return TenantConfig{}, err
	}
	return p.TenantConfig(ctx, pr.TenantID)
}

// UpdateConfig applies a partial update of the caller's tenant configuration
// (admins only); every broken rule is named.
func (p *Provider) UpdateConfig(ctx context.Context, pr tenancy.Principal, u ConfigUpdate) (TenantConfig, error) {
	if err := p.mayAdminister(ctx, pr); err != nil {
		return TenantConfig{}, err
	}
	c, err := p.TenantConfig(ctx, pr.TenantID)
	if err != nil {
		return TenantConfig{}, err
	}
	v := &tenancy.ValidationError{Prefix: "Invalid PUT data"}
	if u.AllowableGrantTypes != nil {
		known := p.allowableGrantTypes()
		for _, g := range *u.AllowableGrantTypes {
			if !slices.Contains(known, g) {
				v.Addf("allowable_grant_types: %q is not one of %v.", g, known)
			}
		}
		c.AllowableGrantTypes = slices.Clone(*u.AllowableGrantTypes)
	}
	global := p.tokens.cfg
	setTTL := func(name string, dst *time.Duration, val *int64, ceiling time.Duration) {
		if val == nil {
			return
		}
		if *val <= 0 || *val > int64(ceiling/time.Second) { // compared before multiplying: no overflow
			v.Addf("%s must be between 1 and %d seconds.", name, int64(ceiling/time.Second))
			return
		}
		d := time.Duration(*val) * time.Second
		if d > ceiling {
			v.Addf("%s must be between 1 and %d seconds.", name, int64(ceiling/time.Second))
			return
		}
		*dst = d
	}
	setTTL("max_access_token_ttl", &c.MaxAccessTTL, u.MaxAccessTTL, global.MaxAccessTTL)
	setTTL("max_refresh_token_ttl", &c.MaxRefreshTTL, u.MaxRefreshTTL, global.MaxRefreshTTL)
	setTTL("default_access_token_ttl", &c.DefaultAccessTTL, u.DefaultAccessTTL, c.MaxAccessTTL)
	setTTL("default_refresh_token_ttl", &c.DefaultRefreshTTL, u.DefaultRefreshTTL, c.MaxRefreshTTL)
	if c.DefaultAccessTTL > c.MaxAccessTTL || c.DefaultRefreshTTL > c.MaxRefreshTTL {
		v.Addf("default TTLs cannot exceed the maximum TTLs.")
	}
	if u.CustomIdPConfiguration != nil {
		if len(*u.CustomIdPConfiguration) > 0 {
			if _, ok := (*u.CustomIdPConfiguration)["ldap"]; !ok {
				v.Addf("custom_idp_configuration: only the ldap type can be set through the API.")
			}
		}
		c.CustomIdPConfiguration = maps.Clone(*u.CustomIdPConfiguration)
	}
	if u.MFAConfig != nil {
		c.MFAConfig = maps.Clone(*u.MFAConfig)
	}
	if u.UseLDAP != nil {
		c.UseLDAP = *u.UseLDAP
	}
	if u.UseTokenWebapp != nil {
		c.UseTokenWebapp = *u.UseTokenWebapp
	}
	for dst, val := range map[*string]*string{&c.TokenURL: u.TokenURL, &c.ImpersOAuthClientID: u.ImpersOAuthClientID, &c.ImpersadminUsername: u.ImpersadminUsername} {
		if val != nil {
			*dst = *val
		}
	}
	if err := v.Err(); err != nil {
		return TenantConfig{}, err
	}
	if u.ImpersOAuthClientSecret != nil || u.ImpersadminPassword != nil {
		var sec configSecrets
		if c.SealedSecrets != nil {
			plain, err := p.cfg.Sealer.Open(c.SealedSecrets, configAAD(c.TenantID))
			if err != nil {
				return TenantConfig{}, err
			}
			if err := json.Unmarshal(plain, &sec); err != nil {
				// A corrupt record must not read as "no secrets": the update
				// would then drop the secret it does not replace. The JSON
				// error is not wrapped: its text may quote the plaintext.
				return TenantConfig{}, fmt.Errorf("oauth2: the sealed secrets of tenant %s do not decode: %w", c.TenantID, ErrCorruptSecrets)
			}
		}
		if u.ImpersOAuthClientSecret != nil {
			sec.ImpersOAuthClientSecret = *u.ImpersOAuthClientSecret
		}
		if u.ImpersadminPassword != nil {
			sec.ImpersadminPassword = *u.ImpersadminPassword
		}
		plain, _ := json.Marshal(sec)
		if c.SealedSecrets, err = p.cfg.Sealer.Seal(plain, configAAD(c.TenantID)); err != nil {
			return TenantConfig{}, err
		}
	}
	c.Updated = p.stamp()
	if err := p.store.PutTenantConfig(ctx, c); err != nil {
		return TenantConfig{}, err
	}
	return c, nil
}

// RewrapConfigSecrets re-seals, under the sealer's current KEK, the tenant
// configuration's secrets an older KEK still wraps (after a KEK rotation;
// tapis.Server.RewrapSecrets). It reports whether it changed them.
func (p *Provider) RewrapConfigSecrets(ctx context.Context, tenantID string) (bool, error) {
	c, err := p.store.GetTenantConfig(ctx, tenantID)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if c.SealedSecrets == nil || !p.cfg.Sealer.NeedsRewrap(c.SealedSecrets) {
		return false, nil
	}
	if c.SealedSecrets, err = p.cfg.Sealer.Rewrap(c.SealedSecrets); err != nil {
		return false, fmt.Errorf("oauth2: rewrap the configuration secrets of tenant %s: %w", tenantID, err)
	}
	if err := p.store.PutTenantConfig(ctx, c); err != nil {
		return false, err
	}
	return true, nil
}
