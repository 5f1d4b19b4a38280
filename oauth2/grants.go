package oauth2

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
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
	// Params are the request's other parameters (form fields, or the
	// string fields of a JSON body) that the fields above do not name:
	// what an embedder's grant reads, such as subject_token.
	Params url.Values
}

// Grant is one grant type of the token endpoint (RFC 6749 §4). The
// built-ins are PasswordGrant, AuthorizationCodeGrant, RefreshTokenGrant
// and DeviceCodeGrant (DefaultGrants); an embedder lists its own beside
// them in ProviderConfig.Grants (tapis.Config.Grants).
type Grant interface {
	// Type is the grant_type the grant answers.
	Type() string
	// Token runs the grant's own rules. It is called once the tenant's
	// configuration allows the grant type; errors for the client are
	// *GrantError (any other error is the server's, a 500).
	Token(ctx context.Context, g GrantContext, req TokenRequest) (TokenPair, error)
}

// GrantContext is what the provider lends a grant for one token request:
// the tenant's configuration and the steps grants share, each bound to the
// request's tenant and client address. Only the Provider implements it (a
// test double of your grant embeds the interface); the built-in grants
// also reach the provider's codes and refresh families through it, so they
// run only under a Provider.
type GrantContext interface {
	// Config is the tenant's authenticator configuration.
	Config() TenantConfig
	// AuthenticateClient identifies a client by id and key with the token
	// endpoint's rules and limits: a key, when given, must match (and the
	// attempt is counted); without a key the client must be public. Every
	// failure is the same invalid_client.
	AuthenticateClient(ctx context.Context, clientID, clientKey string) (Client, error)
	// CheckPassword authenticates a user with the Authenticator, counted by
	// the Limiter; a wrong password is invalid_grant, a limited attempt a
	// *RateLimitError.
	CheckPassword(ctx context.Context, username, password string) (Identity, error)
	// ValidateToken verifies a token of the request's tenant (signature,
	// expiry, revocation, and the token type unless tokenType is empty); a
	// bad token, or one of another tenant, is ErrInvalidToken.
	ValidateToken(ctx context.Context, raw, tokenType string) (Claims, error)
	// Issue mints tokens for a user of the tenant with its TTLs, and the
	// grant's type as tapis/grant_type.
	Issue(ctx context.Context, in IssueRequest) (TokenPair, error)

	provider() *Provider
}

// IssueRequest is what a grant asks GrantContext.Issue for.
type IssueRequest struct {
	// Username is the tenant's user the tokens are for (required).
	Username string
	// Client is the authenticated client, or nil (tapis/client_id null).
	Client *Client
	// Scope is the granted scope (see GrantedScope), "" for none.
	Scope string
	// AccessTTL, when > 0, replaces the tenant's default access TTL; the
	// tenant's maximum still caps it.
	AccessTTL time.Duration
	// Refresh asks for a refresh token too; one is given only with a client
	// and when the tenant allows (and the provider has) refresh_token.
	Refresh bool
}

// DefaultGrants returns the built-in grants, in a new slice an embedder
// may extend: password, authorization_code, refresh_token, device_code.
func DefaultGrants() []Grant {
	return []Grant{PasswordGrant{}, AuthorizationCodeGrant{}, RefreshTokenGrant{}, DeviceCodeGrant{}}
}

// grantSet checks the grants of a ProviderConfig: each named once, and not
// implicit (a response type of the authorization endpoint, not a grant of
// the token endpoint).
func grantSet(grants []Grant) (map[string]Grant, []string, error) {
	byType := make(map[string]Grant, len(grants))
	order := make([]string, 0, len(grants))
	var problems []error
	for i, g := range grants {
		switch {
		case g == nil:
			problems = append(problems, fmt.Errorf("entry %d is nil", i))
		case g.Type() == "":
			problems = append(problems, fmt.Errorf("entry %d (%T) has an empty Type()", i, g))
		case g.Type() == GrantImplicit:
			problems = append(problems, fmt.Errorf("entry %d: %q is a response type of the authorization endpoint, not a token grant", i, GrantImplicit))
		case byType[g.Type()] != nil:
			problems = append(problems, fmt.Errorf("entry %d: grant type %q is listed twice", i, g.Type()))
		default:
			byType[g.Type()] = g
			order = append(order, g.Type())
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, nil, fmt.Errorf("oauth2: ProviderConfig.Grants: %w", err)
	}
	return byType, order, nil
}

// offers reports whether the provider has a grant type and the tenant
// allows it.
func (p *Provider) offers(cfg TenantConfig, grant string) bool {
	return p.grants[grant] != nil && cfg.allows(grant)
}

// allowableGrantTypes are the names a tenant configuration may list: the
// provider's grants and implicit, the built-ins in the order of Tapis.
func (p *Provider) allowableGrantTypes() []string {
	out := []string{}
	for _, g := range []string{GrantPassword, GrantImplicit, GrantAuthorizationCode, GrantRefreshToken, GrantDeviceCode} {
		if g == GrantImplicit || p.grants[g] != nil {
			out = append(out, g)
		}
	}
	for _, g := range p.grantTypes {
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
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
	if !p.offers(cfg, req.GrantType) {
		return TokenPair{}, grantErr("unsupported_grant_type", "Invalid grant_type (%s); this grant type is not allowed for this tenant. Allowable grant types: %v", req.GrantType, cfg.AllowableGrantTypes)
	}
	g := p.grants[req.GrantType]
	return g.Token(ctx, &grantContext{p: p, cfg: cfg, grant: g.Type(), tenantID: req.TenantID, addr: req.RemoteAddr}, req)
}

// grantContext is the Provider's GrantContext for one request.
type grantContext struct {
	p        *Provider
	cfg      TenantConfig
	grant    string
	tenantID string
	addr     string
}

var _ GrantContext = (*grantContext)(nil)

func (g *grantContext) provider() *Provider  { return g.p }
func (g *grantContext) Config() TenantConfig { return g.cfg }

func (g *grantContext) AuthenticateClient(ctx context.Context, clientID, clientKey string) (Client, error) {
	return g.p.authenticateClient(ctx, g.tenantID, clientID, clientKey, g.addr)
}

func (g *grantContext) CheckPassword(ctx context.Context, username, password string) (Identity, error) {
	return g.p.CheckPassword(ctx, g.tenantID, username, password, g.addr)
}

func (g *grantContext) ValidateToken(ctx context.Context, raw, tokenType string) (Claims, error) {
	c, err := g.p.tokens.Validate(ctx, raw, tokenType)
	if err != nil {
		return Claims{}, err
	}
	if c.TenantID != g.tenantID {
		return Claims{}, invalid("Invalid Tapis token: it belongs to another tenant.")
	}
	return c, nil
}

func (g *grantContext) Issue(ctx context.Context, in IssueRequest) (TokenPair, error) {
	if in.Username == "" {
		return TokenPair{}, fmt.Errorf("oauth2: grant %s asked for tokens without a username", g.grant)
	}
	pair, _, err := g.p.issue(ctx, g.cfg, issue{tenantID: g.tenantID, username: in.Username, client: in.Client,
		grant: g.grant, accessTTL: in.AccessTTL, refresh: in.Refresh, scope: in.Scope})
	return pair, err
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
	// A refresh token only where something redeems it.
	refresh := in.refresh && in.client != nil && p.offers(cfg, GrantRefreshToken)
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
	p.tokens.revoked(ctx, tenantID, "family:"+family)
	return nil
}
