package oauth2

import (
	"context"
	"errors"
	"time"

	"github.com/tapis-go/tapis/tenancy"
)

// CreateTokenRequest is the body of POST /v3/tokens.
type CreateTokenRequest struct {
	AccountType           tenancy.AccountType
	TokenTenantID         string
	TokenUsername         string
	TargetSiteID          string
	DelegationToken       bool
	DelegationSubTenantID string
	DelegationSubUsername string
	AccessTokenTTL        int64 // seconds
	GenerateRefreshToken  bool
	RefreshTokenTTL       int64 // seconds
	Claims                map[string]any
}

// Caller is who asks for a token: a service account by HTTP Basic, or the
// holder of a verified token.
type Caller struct {
	Basic     bool
	Username  string // Basic user
	Password  string // Basic password
	Principal tenancy.Principal
	// Addr is the client's address, for the rate limits of HTTP Basic.
	Addr string
}

// CreateToken applies the Tokens API rules to a mint request:
//
//   - Basic: a service account of token_tenant_id whose name is
//     token_username mints its own service token. Every failure (unknown
//     account, user account, wrong password, unknown or inactive tenant)
//     gives the same answer after the same work, and attempts are counted by
//     the Limiter the password grant and the login page use.
//   - Token, minting for itself: a service token only (users get tokens from
//     the authenticator), the same account, account type, target site and
//     no delegation; the new token carries no refresh token, never outlives
//     the presenting token, and is revoked with it (tapis/parent_jti). A
//     token so minted mints nothing more.
//   - Token, minting for others: a service named in the target tenant's
//     token_gen_services (from an admin tenant that may act for it) mints
//     user tokens, never in a site-admin tenant.
//
// TTLs are capped by the configured maxima.
func (ts *TokenService) CreateToken(ctx context.Context, caller Caller, req CreateTokenRequest) (TokenPair, error) {
	v := &tenancy.ValidationError{Prefix: "Invalid POST data"}
	if req.AccountType != tenancy.AccountUser && req.AccountType != tenancy.AccountService {
		v.Addf("account_type is required and must be user or service.")
	}
	if req.TokenTenantID == "" {
		v.Addf("token_tenant_id is required.")
	}
	if req.TokenUsername == "" {
		v.Addf("token_username is required.")
	}
	if req.AccountType == tenancy.AccountService && req.TargetSiteID == "" {
		v.Addf("target_site_id required for creating tokens of type 'service'.")
	}
	if req.DelegationToken && (req.DelegationSubTenantID == "" || req.DelegationSubUsername == "") {
		v.Addf("delegation_sub_tenant_id and delegation_sub_username are required for a delegation token.")
	}
	if req.AccessTokenTTL < 0 || req.RefreshTokenTTL < 0 {
		v.Addf("token TTLs cannot be negative.")
	}
	CheckExtraClaims(v, req.Claims)
	reg, err := ts.tenancy.Registry(ctx)
	if err != nil {
		return TokenPair{}, err
	}
	if req.TargetSiteID != "" {
		if _, ok := reg.Site(req.TargetSiteID); !ok {
			v.Addf("target_site_id %s is not a known site.", req.TargetSiteID)
		}
	}
	if err := v.Err(); err != nil {
		return TokenPair{}, err
	}
	if t, ok := reg.Tenant(req.TokenTenantID); ok {
		if err := ts.issuesFor(reg, t); err != nil {
			return TokenPair{}, err
		}
	}
	mint := MintRequest{
		TenantID: req.TokenTenantID, Username: req.TokenUsername, AccountType: req.AccountType,
		TargetSite: req.TargetSiteID, Delegation: req.DelegationToken,
		DelegationSubTenant: req.DelegationSubTenantID, DelegationSubUser: req.DelegationSubUsername,
		AccessTTL: time.Duration(req.AccessTokenTTL) * time.Second, GenerateRefresh: req.GenerateRefreshToken,
		RefreshTTL: time.Duration(req.RefreshTokenTTL) * time.Second, Claims: req.Claims,
	}
	if caller.Basic {
		err = ts.authorizeBasic(ctx, reg, caller, req)
	} else {
		err = ts.authorizeToken(reg, caller.Principal, req, &mint)
	}
	if err != nil {
		return TokenPair{}, err
	}
	return ts.Mint(ctx, mint)
}

// badServiceLogin is the one answer to every failed HTTP Basic login.
func badServiceLogin() error {
	return tenancy.Errorf(ErrInvalidCredentials, "Invalid service account/password combination.")
}

// authorizeBasic checks a service account's password. The password is
// checked (bcrypt, or the same work on a dummy hash) whatever else is wrong,
// so that no failure is faster than another.
func (ts *TokenService) authorizeBasic(ctx context.Context, reg *tenancy.Registry, caller Caller, req CreateTokenRequest) (err error) {
	if caller.Username != req.TokenUsername {
		return tenancy.Errorf(tenancy.ErrInvalid, "Invalid POST data -- username does not match auth header.")
	}
	if req.AccountType != tenancy.AccountService {
		return tenancy.Errorf(tenancy.ErrInvalid, "Invalid POST data -- HTTP Basic authentication mints service tokens only (account_type service).")
	}
	defer func() { ts.limiter.observe(EntryServicePassword, err) }()
	att, err := ts.limiter.Begin(ctx, DoorAccount, req.TokenTenantID, caller.Username, caller.Addr)
	if err != nil {
		return err
	}
	acct, err := ts.Accounts.Verify(ctx, req.TokenTenantID, caller.Username, caller.Password)
	if err != nil && !errors.Is(err, ErrInvalidCredentials) {
		_ = att.Abandon(ctx)
		return err
	}
	tenant, known := reg.Tenant(req.TokenTenantID)
	if err != nil || acct.Type != tenancy.AccountService || !known || tenant.Status != tenancy.StatusActive {
		return badServiceLogin()
	}
	if err := att.Succeeded(ctx); err != nil {
		return err
	}
	return nil
}

// authorizeToken checks a mint request made with a token and, for a token
// minting for its own holder, binds the new token to it.
func (ts *TokenService) authorizeToken(reg *tenancy.Registry, p tenancy.Principal, req CreateTokenRequest, mint *MintRequest) error {
	if !p.Authenticated() {
		return tenancy.Errorf(ErrInvalidToken, "No credentials: send a service account's HTTP Basic credentials or an X-Tapis-Token.")
	}
	if req.TokenUsername == p.TokenUsername && req.TokenTenantID == p.TokenTenantID {
		return ts.authorizeSelfMint(p, req, mint)
	}
	if !p.IsService() || !reg.MayGenerateTokens(p.TokenTenantID, p.TokenUsername, req.TokenTenantID) {
		return tenancy.Errorf(tenancy.ErrForbidden, "Not authorized to generate tokens in tenant %s.", req.TokenTenantID)
	}
	if req.AccountType != tenancy.AccountUser {
		return tenancy.Errorf(tenancy.ErrForbidden, "Token generators mint user tokens only; services obtain their own tokens with their password.")
	}
	if reg.IsSiteAdminTenant(req.TokenTenantID) {
		return tenancy.Errorf(tenancy.ErrForbidden, "Invalid request -- only service tokens can be generated in the site-admin tenant.")
	}
	return nil
}

// authorizeSelfMint: a service token may mint a copy of itself that lives no
// longer than it and is revoked with it; nothing else may (the original let
// any token mint a fresh, longer-lived token for its holder, so a stolen
// token could be laundered past its revocation).
func (ts *TokenService) authorizeSelfMint(p tenancy.Principal, req CreateTokenRequest, mint *MintRequest) error {
	v := &tenancy.ValidationError{Prefix: "Not allowed"}
	if !p.IsService() {
		v.Addf("a user token cannot mint tokens; users get tokens from the authenticator (POST /v3/oauth2/tokens).")
	}
	if req.AccountType != p.AccountType {
		v.Addf("a token minted for its own holder keeps the holder's account type (%s).", p.AccountType)
	}
	if req.DelegationToken || p.Delegation {
		v.Addf("delegation tokens are minted by token generator services only.")
	}
	if p.ParentJTI != "" {
		v.Addf("a token minted from a token cannot mint further tokens.")
	}
	if req.TargetSiteID != p.TargetSite {
		v.Addf("a token minted for its own holder keeps the holder's target site (%s).", p.TargetSite)
	}
	if req.GenerateRefreshToken {
		v.Addf("a token minted from a token gets no refresh token.")
	}
	left := p.Expires.Sub(ts.cfg.Now())
	if left < time.Second {
		v.Addf("the presenting token expires within a second.")
	}
	if err := v.Err(); err != nil {
		return tenancy.Message(tenancy.ErrForbidden, err.Error())
	}
	ttl := ts.capTTL(mint.AccessTTL, ts.cfg.DefaultAccessTTL, ts.cfg.MaxAccessTTL)
	mint.AccessTTL = min(ttl, left.Truncate(time.Second))
	mint.GenerateRefresh = false
	mint.ParentJTI = p.JTI
	return nil
}
