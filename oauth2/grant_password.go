package oauth2

import (
	"context"
	"errors"
	"strings"
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
	id, err := p.CheckPassword(ctx, req.TenantID, req.Username, req.Password, req.RemoteAddr)
	if err != nil {
		return TokenPair{}, err
	}
	// The authenticator's spelling of the user, not the typed one.
	pair, _, err := p.issue(ctx, cfg, issue{tenantID: req.TenantID, username: id.Username, client: client,
		grant: GrantPassword, refresh: client != nil, scope: GrantedScope(req.Scope)})
	return pair, err
}

// CheckPassword authenticates a user for the password grant and the login
// page, with the rate limits: after MaxFailures failures of one
// tenant+username (or 5x that from one address) within the window, 429.
func (p *Provider) CheckPassword(ctx context.Context, tenantID, username, password, addr string) (Identity, error) {
	now := p.now()
	keys := []string{"u|" + tenantID + "|" + strings.ToLower(strings.TrimSpace(username))}
	limits := []int{p.cfg.MaxFailures}
	if addr != "" {
		keys, limits = append(keys, "a|"+tenantID+"|"+addr), append(limits, 5*p.cfg.MaxFailures)
	}
	// The attempt counts before the (slow) check, so parallel guesses cannot
	// all slip under the limit; a good password takes it back.
	if !p.limiter.try(now, keys, limits) {
		return Identity{}, &GrantError{Code: "too_many_requests",
			Description: "Too many failed login attempts; try again in " + p.cfg.FailureWindow.Round(time.Minute).String() + "."}
	}
	id, err := p.authn.Authenticate(ctx, tenantID, username, password)
	switch {
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrNotConfigured):
		return Identity{}, grantErr("invalid_grant", "Invalid username/password combination.")
	case err != nil:
		p.limiter.undo(now, keys)
		return Identity{}, err
	}
	p.limiter.undo(now, keys)
	p.limiter.reset(keys[0])
	if id.Username == "" {
		id.Username = username
	}
	return id, nil
}
