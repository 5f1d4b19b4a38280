package oauth2

import (
	"context"
	"errors"
	"strings"
	"time"
)

// RefreshTokenGrant rotates a refresh token: each one is used once; a
// replayed one revokes its whole family (refresh and access tokens). The
// token is bound to its client; the new tokens get tapis/refresh_count + 1.
type RefreshTokenGrant struct{}

var _ Grant = RefreshTokenGrant{}

// Type implements Grant.
func (RefreshTokenGrant) Type() string { return GrantRefreshToken }

// Token implements Grant.
func (RefreshTokenGrant) Token(ctx context.Context, g GrantContext, req TokenRequest) (TokenPair, error) {
	p := g.provider() // the refresh families are the provider's own
	if req.RefreshToken == "" {
		return TokenPair{}, grantErr("invalid_request", "Required refresh_token parameter missing.")
	}
	claims, err := p.tokens.Validate(ctx, req.RefreshToken, "")
	if err != nil {
		return TokenPair{}, grantErr("invalid_grant", "Invalid refresh_token.")
	}
	if claims.TokenType != "refresh" {
		return TokenPair{}, grantErr("invalid_grant", "Invalid token type. The refresh_token grant type required a token of type refresh. Instead a token of type %s was passed.", claims.TokenType)
	}
	if claims.TenantID != req.TenantID {
		return TokenPair{}, grantErr("invalid_grant", "Invalid refresh_token: it belongs to another tenant.")
	}
	nested, _ := claims.Raw["tapis/access_token"].(map[string]any)
	tokenClient, _ := nested["tapis/client_id"].(string)
	if req.ClientID != tokenClient {
		return TokenPair{}, grantErr("invalid_grant", "client_id from header (%s) does not match the client_id in the token claim (%s).", req.ClientID, tokenClient)
	}
	client, err := g.AuthenticateClient(ctx, req.ClientID, req.ClientKey)
	if err != nil {
		return TokenPair{}, err
	}
	rec, err := p.store.UseRefreshToken(ctx, req.TenantID, claims.JTI, p.stamp())
	switch {
	case errors.Is(err, ErrNotFound):
		return TokenPair{}, grantErr("invalid_grant", "Invalid refresh_token: it was not issued by this authenticator.")
	case errors.Is(err, ErrRefreshReused):
		p.log.WarnContext(ctx, "refresh token reused; revoking its family", "tenant", req.TenantID, "client", req.ClientID, "family", rec.FamilyID)
		if err := p.revokeFamily(ctx, req.TenantID, rec.FamilyID); err != nil {
			return TokenPair{}, err
		}
		return TokenPair{}, grantErr("invalid_grant", "Invalid refresh_token: it was already used, so every token of its family has been revoked.")
	case err != nil:
		return TokenPair{}, err
	}
	revoked, err := p.store.IsRefreshFamilyRevoked(ctx, req.TenantID, rec.FamilyID)
	if err != nil {
		return TokenPair{}, err
	}
	if revoked {
		return TokenPair{}, grantErr("invalid_grant", "Invalid refresh_token: its token family has been revoked.")
	}
	username, _ := nested["tapis/username"].(string)
	redirect, _ := nested["tapis/redirect_uri"].(string)
	// The scope granted at first keeps (a refresh cannot widen it, RFC 6749
	// §6): a narrower requested scope narrows it; auth_time stays the
	// sign-in's (OIDC Core §12.2).
	scope, _ := nested["scope"].(string)
	if req.Scope != "" {
		scope = narrowScope(scope, req.Scope)
	}
	var authTime time.Time
	if at := numClaim(nested["auth_time"]); at > 0 {
		authTime = time.Unix(at, 0).UTC()
	}
	pair, _, err := p.issue(ctx, g.Config(), issue{tenantID: req.TenantID, username: username, client: &client,
		grant: GrantRefreshToken, redirectURI: redirect, refreshCount: int(numClaim(nested["tapis/refresh_count"])) + 1,
		family: rec.FamilyID, refresh: true, scope: scope, authTime: authTime, idToken: true})
	if err != nil {
		return TokenPair{}, err
	}
	// A replay may have revoked the family while we minted: it could not
	// see the new pair, so revoke it here (as the code grant does).
	if revoked, err = p.store.IsRefreshFamilyRevoked(ctx, req.TenantID, rec.FamilyID); err != nil || revoked {
		if err == nil {
			err = p.revokeFamily(ctx, req.TenantID, rec.FamilyID)
		}
		if err != nil {
			return TokenPair{}, err
		}
		return TokenPair{}, grantErr("invalid_grant", "Invalid refresh_token: its token family has been revoked.")
	}
	return pair, nil
}

// narrowScope keeps the scopes of granted that requested names.
func narrowScope(granted, requested string) string {
	var out []string
	for _, s := range strings.Fields(granted) {
		if HasScope(requested, s) {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}
