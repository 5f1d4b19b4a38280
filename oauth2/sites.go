package oauth2

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tapis-go/tapis/tenancy"
)

// ErrPublish means a key could not be published to the primary site
// (HTTP 502): the primary did not answer or refused the publication.
var ErrPublish = errors.New("key not published")

// KeyPublisher carries the public key of a tenant this site owns to the
// primary site's registry, where every other site reads it. An associate
// site has one (httpapi.PrimaryClient); the primary records its own
// tenants' keys in its registry directly.
type KeyPublisher interface {
	PublishKey(ctx context.Context, req PublishRequest) error
}

// PublishRequest is one key publication: PUT /v3/tenants/{TenantID} with
// public_key at the primary, authenticated by Token, a service token of
// this site's admin tenant (AsTenant) for the service AsUser, signed here.
type PublishRequest struct {
	Token            string
	AsTenant, AsUser string
	TenantID         string
	PublicKeyPEM     string
}

// RegistryRefresher refreshes the registry when a token names a tenant or
// key this instance does not know (an associate's mirror reads the
// primary's registry again). It throttles itself and reports whether
// anything changed.
type RegistryRefresher interface {
	RefreshRegistry(ctx context.Context) (bool, error)
}

// localSite is the site this service runs as.
func (ts *TokenService) localSite(reg *tenancy.Registry) string { return reg.LocalSite(ts.cfg.SiteID) }

// issuesFor refuses to sign for a tenant another site owns: only the
// tenant's own site (its site_id) signs its tokens, whatever the grant.
func (ts *TokenService) issuesFor(reg *tenancy.Registry, t tenancy.Tenant) error {
	local := ts.localSite(reg)
	if t.SiteID == local {
		return nil
	}
	where := ""
	if s, ok := reg.Site(t.SiteID); ok && s.BaseURL != "" {
		where = " (" + s.BaseURL + ")"
	}
	return tenancy.Errorf(tenancy.ErrForbidden, "Tokens of tenant %s are issued by its own site %s%s, not by site %s.", t.ID, t.SiteID, where, local)
}

// IssuesFor returns nil when this site signs the tokens of tenantID (it
// owns it), else a ErrForbidden naming the site that does. An unknown
// tenant is nil here: the caller's own lookup names it.
func (ts *TokenService) IssuesFor(ctx context.Context, tenantID string) error {
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return err
	}
	t, ok := reg.Tenant(tenantID)
	if !ok {
		return nil
	}
	return ts.issuesFor(reg, t)
}

// AdoptPublicKey implements tenancy.KeyProvisioner: publicKeyPEM becomes
// the current verification key of a tenant signed elsewhere, the previous
// key verifying for the overlap.
func (km *KeyManager) AdoptPublicKey(ctx context.Context, tenantID, publicKeyPEM string) (string, error) {
	pub, err := tenancy.ParseRSAPublicKey(publicKeyPEM)
	if err != nil {
		return "", tenancy.Errorf(tenancy.ErrInvalid, "public_key is not a usable RSA public key: %v.", err)
	}
	norm, err := EncodePublicKeyPEM(pub)
	if err != nil {
		return "", err
	}
	kid := Thumbprint(pub)
	keys, err := km.store.ListSigningKeys(ctx, tenantID)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		if k.KID != kid {
			continue
		}
		if k.Current() {
			return norm, nil
		}
		return "", tenancy.Errorf(tenancy.ErrInvalid, "public_key %s was a key of tenant %s before; publish a new key.", kid, tenantID)
	}
	if err := km.rotate(ctx, SigningKey{TenantID: tenantID, KID: kid, PublicKeyPEM: norm, Created: km.stamp()}); err != nil {
		return "", fmt.Errorf("oauth2: adopt the key of %s: %w", tenantID, err)
	}
	km.log.InfoContext(ctx, "verification key of a tenant of another site adopted", "tenant", tenantID, "kid", kid)
	return norm, nil
}

// currentKey returns a tenant's current key from the store (zero when it
// has none).
func (km *KeyManager) currentKey(ctx context.Context, tenantID string) (SigningKey, error) {
	keys, err := km.store.ListSigningKeys(ctx, tenantID)
	if err != nil {
		return SigningKey{}, err
	}
	for _, k := range keys {
		if k.Current() {
			return k, nil
		}
	}
	return SigningKey{}, nil
}

// refreshRegistry asks the Refresher (when there is one) for a newer
// registry and returns it when something changed.
func (ts *TokenService) refreshRegistry(ctx context.Context) (*tenancy.Registry, bool) {
	if ts.cfg.Refresher == nil {
		return nil, false
	}
	changed, err := ts.cfg.Refresher.RefreshRegistry(ctx)
	if err != nil {
		ts.log.WarnContext(ctx, "refreshing the registry for an unknown tenant or key failed", "err", err)
		return nil, false
	}
	if !changed {
		return nil, false
	}
	reg, err := ts.tenancy.Reload(ctx)
	if err != nil {
		return nil, false
	}
	if _, err := ts.AdoptSiteKeys(ctx); err != nil {
		ts.log.WarnContext(ctx, "adopting the keys of other sites' tenants failed", "err", err)
	}
	return reg, true
}

// publish carries a new public key of a tenant this site owns to the
// primary, with a short-lived service token of this site's admin tenant
// targeting the primary site.
func (ts *TokenService) publish(ctx context.Context, reg *tenancy.Registry, tenantID, publicKeyPEM string) error {
	local, ok := reg.Site(ts.localSite(reg))
	if !ok {
		return fmt.Errorf("oauth2: site %s is not in the registry", ts.localSite(reg))
	}
	primary, ok := reg.Primary()
	if !ok {
		return errors.New("oauth2: the registry names no primary site to publish keys to")
	}
	as := ts.cfg.PublishAs
	tok, err := ts.Mint(ctx, MintRequest{TenantID: local.SiteAdminTenantID, Username: as, AccountType: tenancy.AccountService,
		TargetSite: primary.ID, AccessTTL: time.Minute})
	if err != nil {
		return fmt.Errorf("oauth2: a service token of %s@%s to publish keys: %w", as, local.SiteAdminTenantID, err)
	}
	return ts.cfg.Publisher.PublishKey(ctx, PublishRequest{Token: tok.Access.Raw, AsTenant: local.SiteAdminTenantID, AsUser: as,
		TenantID: tenantID, PublicKeyPEM: publicKeyPEM})
}

// AdoptSiteKeys makes the registry's public key of every tenant another
// site owns a verification key here (the previous one verifying for the
// overlap): how an associate verifies the tokens of the primary's and the
// other sites' tenants. It returns the tenants whose key changed.
func (ts *TokenService) AdoptSiteKeys(ctx context.Context) ([]string, error) {
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return nil, err
	}
	local := ts.localSite(reg)
	var changed []string
	var errs []error
	for _, t := range reg.Tenants() {
		if t.SiteID == local || t.PublicKey == "" {
			continue
		}
		cur, err := ts.keys.currentKey(ctx, t.ID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if sameKey(t.PublicKey, cur.KID) {
			continue
		}
		if _, err := ts.keys.AdoptPublicKey(ctx, t.ID, t.PublicKey); err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID, err))
			continue
		}
		changed = append(changed, t.ID)
	}
	if len(changed) > 0 {
		ts.cache.clear()
	}
	return changed, errors.Join(errs...)
}

// OwnKey is the state of the key of a tenant this site owns.
type OwnKey struct {
	TenantID     string
	PublicKeyPEM string // the current key here
	// Published is true when the registry (the primary's) has this key.
	Published bool
	// Err says why it could not be published (nil when Published).
	Err error
}

// ProvisionSiteKeys gives every tenant this site owns a signing key (the
// site's admin tenant too, before the primary registers it) and publishes
// to the primary, through the Publisher, each key the registry does not
// have yet. A tenant's first key is stored before it is published (so that
// it stays the same until the primary takes it); a rotated one is
// published first (RotateKeys). It returns the state of each tenant's key.
func (ts *TokenService) ProvisionSiteKeys(ctx context.Context) ([]OwnKey, error) {
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return nil, err
	}
	local := ts.localSite(reg)
	site, ok := reg.Site(local)
	if !ok {
		return nil, fmt.Errorf("oauth2: site %s is not in the registry", local)
	}
	owned := []string{site.SiteAdminTenantID}
	for _, t := range reg.Tenants() {
		if t.SiteID == local && t.ID != site.SiteAdminTenantID {
			owned = append(owned, t.ID)
		}
	}
	var out []OwnKey
	for _, id := range owned {
		st := OwnKey{TenantID: id}
		cur, err := ts.keys.currentKey(ctx, id)
		if err == nil && cur.SealedPrivateKey == nil {
			cur, err = ts.keys.newSigningKey(id)
			if err == nil {
				err = ts.keys.rotate(ctx, cur)
			}
			if err == nil {
				ts.log.InfoContext(ctx, "signing key made for a tenant of this site", "tenant", id, "kid", cur.KID)
			}
		}
		if err != nil {
			return out, fmt.Errorf("oauth2: the signing key of %s: %w", id, err)
		}
		st.PublicKeyPEM = cur.PublicKeyPEM
		t, known := reg.Tenant(id)
		switch {
		case known && sameKey(t.PublicKey, cur.KID):
			st.Published = true
		case !known:
			st.Err = fmt.Errorf("tenant %s is not in the primary's registry yet", id)
		case ts.cfg.Publisher == nil:
			st.Err = errors.New("no publisher is configured")
		default:
			if st.Err = ts.publish(ctx, reg, id, cur.PublicKeyPEM); st.Err == nil {
				st.Published = true
				ts.log.InfoContext(ctx, "public key published to the primary site", "tenant", id, "kid", cur.KID)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// sameKey reports whether a PEM public key has the given kid.
func sameKey(publicKeyPEM, kid string) bool {
	pub, err := tenancy.ParseRSAPublicKey(publicKeyPEM)
	return err == nil && kid != "" && Thumbprint(pub) == kid
}
