package oauth2

import (
	"context"
	"errors"
)

// DeviceCodeGrant answers a polling device (RFC 8628 with the Tapis
// field names): pending until the user approved the code at the device
// page (with slow_down when it polls faster than the interval), tokens
// once, then nothing.
type DeviceCodeGrant struct{}

var _ Grant = DeviceCodeGrant{}

// Type implements Grant.
func (DeviceCodeGrant) Type() string { return GrantDeviceCode }

// Token implements Grant.
func (DeviceCodeGrant) Token(ctx context.Context, g GrantContext, req TokenRequest) (TokenPair, error) {
	p := g.provider() // the device codes are the provider's own
	if req.ClientID == "" {
		return TokenPair{}, grantErr("invalid_request", "Required client_id parameter missing.")
	}
	if req.DeviceCode == "" {
		return TokenPair{}, grantErr("invalid_request", "Required device_code parameter missing.")
	}
	client, err := authenticateClientOptionalKey(ctx, g, req)
	if err != nil {
		return TokenPair{}, err
	}
	hash := hashSecret(req.DeviceCode)
	var outcome error
	now := p.now()
	d, err := p.store.UpdateDeviceCode(ctx, req.TenantID, hash, func(x *DeviceCode) error {
		switch {
		case x.ClientID != req.ClientID:
			outcome = grantErr("invalid_grant", "Client IDs do not match between device code and passed in client_id")
		case now.After(x.Expires):
			outcome = grantErr("expired_token", "device code has expired.")
		case x.Status == DeviceDenied:
			outcome = grantErr("access_denied", "The user denied the authorization request.")
		case x.Status == DeviceRedeemed:
			outcome = grantErr("invalid_grant", "device code not valid.")
		case x.Status == DeviceApproved:
			x.Status = DeviceRedeemed
		case !x.LastPoll.IsZero() && now.Sub(x.LastPoll) < x.Interval:
			x.Interval += deviceInterval
			x.LastPoll = now
			outcome = &GrantError{Code: "slow_down", Description: "Polling too fast; wait longer between requests.", Interval: x.Interval}
		default:
			x.LastPoll = now
			outcome = grantErr("authorization_pending", "device code not ready.")
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return TokenPair{}, grantErr("invalid_grant", "device code not valid.")
	}
	if err != nil {
		return TokenPair{}, err
	}
	if outcome != nil {
		return TokenPair{}, outcome
	}
	return g.Issue(ctx, IssueRequest{Username: d.Username, Client: &client, AccessTTL: d.AccessTTL, Refresh: true})
}

// authenticateClientOptionalKey: the device grant names its client in the
// body; a key, when given (Basic or body), must match. Without one any
// active client may poll: the device code is the secret.
func authenticateClientOptionalKey(ctx context.Context, g GrantContext, req TokenRequest) (Client, error) {
	if req.ClientKey != "" {
		return g.AuthenticateClient(ctx, req.ClientID, req.ClientKey)
	}
	c, err := g.provider().store.GetClient(ctx, req.TenantID, req.ClientID)
	if errors.Is(err, ErrNotFound) || (err == nil && !c.Active) {
		return Client{}, grantErr("invalid_client", "Invalid client credentials.")
	}
	return c, err
}
