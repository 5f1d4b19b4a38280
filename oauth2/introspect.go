package oauth2

import (
	"context"
	"errors"
	"maps"
)

// Introspection is the answer of RFC 7662 token introspection: whether a
// token is active and, when it is, its claims.
type Introspection struct {
	Active bool
	// Claims are the token's claims plus the RFC 7662 names (username,
	// token_type, client_id); empty when inactive.
	Claims map[string]any
}

// Introspect answers a resource server that cannot verify JWTs itself
// (RFC 7662). The caller must authenticate as a confidential client of the
// tenant (through authenticateClient, with its limits, counted for addr);
// public clients have
// nothing to authenticate with and are refused. Only access tokens of the
// tenant are ever active: an invalid, expired, revoked, refresh or other
// tenant's token is {active: false}, never an error, and which of these it
// was is not said.
func (p *Provider) Introspect(ctx context.Context, tenantID, clientID, clientKey, addr, token string) (Introspection, error) {
	if clientID == "" {
		return Introspection{}, grantErr("invalid_client", "Client authentication is required to introspect tokens.")
	}
	c, err := p.authenticateClient(ctx, tenantID, clientID, clientKey, addr)
	if err != nil {
		return Introspection{}, err
	}
	if c.Public() {
		return Introspection{}, grantErr("invalid_client", "A client without a key cannot introspect tokens.")
	}
	if token == "" {
		return Introspection{}, grantErr("invalid_request", "The token parameter is required.")
	}
	claims, err := p.tokens.Validate(ctx, token, "access")
	switch {
	case errors.Is(err, ErrInvalidToken):
		return Introspection{}, nil
	case err != nil:
		return Introspection{}, err
	case claims.TenantID != tenantID:
		return Introspection{}, nil
	}
	out := maps.Clone(claims.Raw)
	out["active"] = true
	out["token_type"] = "Bearer"
	out["username"] = claims.Username
	if _, ok := out["client_id"]; !ok {
		if id, _ := out["tapis/client_id"].(string); id != "" {
			out["client_id"] = id
		}
	}
	return Introspection{Active: true, Claims: out}, nil
}
