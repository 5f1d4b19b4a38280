package oauth2

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/tapis-go/tapis/tenancy"
)

// TokenRequest is a request to the token endpoint, whatever its encoding.
type TokenRequest struct {
	TenantID     string
	GrantType    string
	ClientID     string
	ClientKey    string
	Username     string
	Password     string
	RedirectURI  string
	Code         string
	CodeVerifier string
	DeviceCode   string
	RefreshToken string
	// Scope is the requested scope (RFC 6749 §3.3); the known scopes are
	// granted, openid adds an id_token to the code grant.
	Scope      string
	RemoteAddr string // for rate limiting
}

// grantHandler handles one grant type; each lives in its own file.
type grantHandler func(ctx context.Context, p *Provider, cfg TenantConfig, req TokenRequest) (TokenPair, error)

var grantHandlers = map[string]grantHandler{
	GrantPassword:          passwordGrant,
	GrantAuthorizationCode: authorizationCodeGrant,
	GrantRefreshToken:      refreshTokenGrant,
	GrantDeviceCode:        deviceCodeGrant,
}

// Token runs the token endpoint: grant type allowed by the tenant, the
// client authenticated, then the grant's own rules.
func (p *Provider) Token(ctx context.Context, req TokenRequest) (TokenPair, error) {
	if req.GrantType == "" {
		return TokenPair{}, grantErr("invalid_request", "Missing the required grant_type parameter.")
	}
	cfg, err := p.TenantConfig(ctx, req.TenantID)
	if err != nil {
		return TokenPair{}, err
	}
	h, known := grantHandlers[req.GrantType]
	if !known || !cfg.allows(req.GrantType) {
		return TokenPair{}, grantErr("unsupported_grant_type", "Invalid grant_type (%s); this grant type is not allowed for this tenant. Allowable grant types: %v", req.GrantType, cfg.AllowableGrantTypes)
	}
	return h(ctx, p, cfg, req)
}

// issue mints the tokens of a grant with the authenticator's claims and, for
// a client, starts or continues a refresh family.
type issue struct {
	tenantID, username string
	client             *Client
	grant              string
	redirectURI        string
	refreshCount       int
	family             string // continue this family; new when empty
	accessTTL          time.Duration
	refresh            bool
	// OpenID Connect: the granted scope, when the user signed in, and
	// (code grant) the request's nonce; idToken asks for an id_token when
	// the scope has openid.
	scope    string
	authTime time.Time
	nonce    string
	idToken  bool
}

func (p *Provider) issue(ctx context.Context, cfg TenantConfig, in issue) (TokenPair, string, error) {
	accessTTL, refreshTTL := cfg.ttls()
	if in.accessTTL > 0 {
		accessTTL = min(in.accessTTL, cfg.MaxAccessTTL)
	}
	claims := map[string]any{"tapis/client_id": nil, "tapis/grant_type": in.grant}
	if in.client != nil {
		claims["tapis/client_id"] = in.client.ClientID
	}
	if in.redirectURI != "" {
		claims["tapis/redirect_uri"] = in.redirectURI
	}
	refresh := in.refresh && in.client != nil && (cfg.allows(GrantRefreshToken) || in.grant == GrantRefreshToken)
	if refresh {
		claims["tapis/refresh_count"] = in.refreshCount
	}
	issuer, err := p.tokens.issuer(ctx, in.tenantID)
	if err != nil {
		return TokenPair{}, "", err
	}
	pair, err := p.tokens.Mint(ctx, MintRequest{TenantID: in.tenantID, Username: in.username, AccountType: tenancy.AccountUser,
		AccessTTL: accessTTL, GenerateRefresh: refresh, RefreshTTL: refreshTTL, Claims: claims,
		Standard: p.standardClaims(issuer, in.tenantID, in.client, in.scope, in.authTime)})
	if err != nil {
		return TokenPair{}, "", err
	}
	pair.Scope = in.scope
	if in.idToken && in.client != nil && HasScope(in.scope, ScopeOpenID) {
		pair.IDToken, err = p.idToken(ctx, idTokenIn{tenantID: in.tenantID, issuer: issuer, username: in.username,
			clientID: in.client.ClientID, scope: in.scope, nonce: in.nonce, authTime: in.authTime, access: pair.Access})
		if err != nil {
			return TokenPair{}, "", err
		}
	}
	if pair.Refresh == nil {
		return pair, "", nil
	}
	family := in.family
	if family == "" {
		family = uuid.NewString()
	}
	err = p.store.PutRefreshToken(ctx, RefreshRecord{TenantID: in.tenantID, JTI: pair.Refresh.JTI, FamilyID: family,
		ClientID: in.client.ClientID, Username: in.username, Expires: pair.Refresh.ExpiresAt,
		AccessJTI: pair.Access.JTI, AccessExp: pair.Access.ExpiresAt, Created: p.stamp()})
	return pair, family, err
}

// revokeFamily revokes every token of a refresh family, refresh and access.
func (p *Provider) revokeFamily(ctx context.Context, tenantID, family string) error {
	if err := p.store.RevokeRefreshFamily(ctx, tenantID, family, p.stamp()); err != nil {
		return err
	}
	records, err := p.store.RefreshFamily(ctx, tenantID, family)
	if err != nil {
		return err
	}
	for _, r := range records {
		if err := p.tokens.store.RevokeToken(ctx, tenantID, r.JTI, r.Expires); err != nil {
			return err
		}
		if r.AccessJTI != "" {
			if err := p.tokens.store.RevokeToken(ctx, tenantID, r.AccessJTI, r.AccessExp); err != nil {
				return err
			}
		}
	}
	p.tokens.ForgetCachedTokens()
	return nil
}
