package oauth2

import (
	"context"
	"errors"
)

// WebappClientID is the client of the Token Web App of a tenant, named as
// Tapis names it.
func WebappClientID(tenantID string) string { return tenantID + ".CIC.tokenapp" }

// EnsureWebappClient returns the tenant's Token Web App client, creating it
// (a public client, so the web app uses PKCE) or correcting its callback
// when the tenant's base URL changed. callback must come from the tenant
// registry, never from a request header.
func (p *Provider) EnsureWebappClient(ctx context.Context, tenantID, callback string) (Client, error) {
	id := WebappClientID(tenantID)
	c, err := p.store.GetClient(ctx, tenantID, id)
	if errors.Is(err, ErrNotFound) {
		now := p.stamp()
		c = Client{TenantID: tenantID, ClientID: id, Owner: "tapis", CallbackURL: callback,
			DisplayName: "Tapis Token Web App", Description: "Shows a signed-in user a fresh access token.",
			Active: true, Created: now, Updated: now}
		if err = p.store.CreateClient(ctx, c); errors.Is(err, ErrAlreadyExists) {
			return p.store.GetClient(ctx, tenantID, id)
		}
		return c, err
	}
	if err != nil || (c.CallbackURL == callback && c.Active) {
		return c, err
	}
	return p.store.UpdateClient(ctx, tenantID, id, func(x *Client) error {
		x.CallbackURL, x.Active, x.KeyHash, x.Owner, x.Updated = callback, true, nil, "tapis", p.stamp()
		return nil
	})
}
