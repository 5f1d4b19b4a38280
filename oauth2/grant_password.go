package oauth2

import (
	"context"
	"errors"
)

// PasswordGrant is the password grant: username and password checked by
// the Authenticator, with failures rate limited per tenant+user and per
// address. A request with a client gets a refresh token; without one (as
// tapipy sends it) an access token with tapis/client_id null.
type PasswordGrant struct{}

var _ Grant = PasswordGrant{}

// Type implements Grant.
func (PasswordGrant) Type() string { return GrantPassword }

// Token implements Grant.
func (PasswordGrant) Token(ctx context.Context, g GrantContext, req TokenRequest) (TokenPair, error) {
	var client *Client
	if req.ClientID != "" {
		c, err := g.AuthenticateClient(ctx, req.ClientID, req.ClientKey)
		if err != nil {
			return TokenPair{}, err
		}
		client = &c
	}
	if req.Username == "" || req.Password == "" {
		return TokenPair{}, grantErr("invalid_request", "Missing required payload data; username and password are required for the password grant type.")
	}
	id, err := g.CheckPassword(ctx, req.Username, req.Password)
	if err != nil {
		return TokenPair{}, err
	}
	// The authenticator's spelling of the user, not the typed one.
	return g.Issue(ctx, IssueRequest{Username: id.Username, Client: client, Refresh: client != nil, Scope: GrantedScope(req.Scope)})
}

// CheckPassword authenticates a user for the password grant and the login
// page from addr. The attempt counts (Limiter) before the password is
// checked, so parallel guesses cannot slip under a limit; a good password
// takes it back. A limited attempt is a *RateLimitError (429, Retry-After).
func (p *Provider) CheckPassword(ctx context.Context, tenantID, username, password, addr string) (_ Identity, err error) {
	defer func() { p.limiter.observe(EntryPassword, err) }()
	att, err := p.limiter.Begin(ctx, DoorAccount, tenantID, username, addr)
	if err != nil {
		return Identity{}, err
	}
	id, err := p.authn.Authenticate(ctx, tenantID, username, password)
	switch {
	case errors.Is(err, ErrInvalidCredentials), errors.Is(err, ErrNotConfigured):
		return Identity{}, grantErr("invalid_grant", "Invalid username/password combination.")
	case err != nil:
		_ = att.Abandon(ctx)
		return Identity{}, err
	}
	if err := att.Succeeded(ctx); err != nil {
		return Identity{}, err
	}
	if id.Username == "" {
		id.Username = username
	}
	return id, nil
}
