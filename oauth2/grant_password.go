package oauth2

import (
	"context"
	"errors"
	"time"
)

// passwordGrant: username and password checked by the Authenticator, with
// failures rate limited per tenant+user and per address. A request with a
// client gets a refresh token; without one (as tapipy sends it) an access
// token with tapis/client_id null.
func passwordGrant(ctx context.Context, p *Provider, cfg TenantConfig, req TokenRequest) (TokenPair, error) {
	var client *Client
	if req.ClientID != "" {
		c, err := p.authenticateClient(ctx, req.TenantID, req.ClientID, req.ClientKey)
		if err != nil {
			return TokenPair{}, err
		}
		client = &c
	}
	if req.Username == "" || req.Password == "" {
		return TokenPair{}, grantErr("invalid_request", "Missing required payload data; username and password are required for the password grant type.")
	}
	if _, err := p.CheckPassword(ctx, req.TenantID, req.Username, req.Password, req.RemoteAddr); err != nil {
		return TokenPair{}, err
	}
	pair, _, err := p.issue(ctx, cfg, issue{tenantID: req.TenantID, username: req.Username, client: client,
		grant: GrantPassword, refresh: client != nil})
	return pair, err
}

// CheckPassword authenticates a user for the password grant and the login
// page, with the rate limits: after MaxFailures failures of one
// tenant+username (or 5x that from one address) within the window, 429.
func (p *Provider) CheckPassword(ctx context.Context, tenantID, username, password, addr string) (Identity, error) {
	now := p.now()
	userKey, addrKey := "u|"+tenantID+"|"+username, "a|"+addr
	if p.limiter.blocked(userKey, p.cfg.MaxFailures, now) || (addr != "" && p.limiter.blocked(addrKey, 5*p.cfg.MaxFailures, now)) {
		return Identity{}, &GrantError{Code: "too_many_requests",
			Description: "Too many failed login attempts; try again in " + p.cfg.FailureWindow.Round(time.Minute).String() + "."}
	}
	id, err := p.authn.Authenticate(ctx, tenantID, username, password)
	switch {
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrNotConfigured):
		p.limiter.fail(userKey, now)
		if addr != "" {
			p.limiter.fail(addrKey, now)
		}
		return Identity{}, grantErr("invalid_grant", "Invalid username/password combination.")
	case err != nil:
		return Identity{}, err
	}
	p.limiter.reset(userKey)
	if id.Username == "" {
		id.Username = username
	}
	return id, nil
}
