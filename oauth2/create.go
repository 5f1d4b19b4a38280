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
}

// CreateToken applies the Tokens API rules to a mint request:
//
//   - Basic: a service account of token_tenant_id whose name is
//     token_username mints its own service token.
//   - Token, minting for itself: the same user@tenant and account type.
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
	if err := ts.authorizeMint(ctx, reg, caller, req); err != nil {
		return TokenPair{}, err
	}
	return ts.Mint(ctx, MintRequest{
		TenantID: req.TokenTenantID, Username: req.TokenUsername, AccountType: req.AccountType,
		TargetSite: req.TargetSiteID, Delegation: req.DelegationToken,
		DelegationSubTenant: req.DelegationSubTenantID, DelegationSubUser: req.DelegationSubUsername,
		AccessTTL: time.Duration(req.AccessTokenTTL) * time.Second, GenerateRefresh: req.GenerateRefreshToken,
		RefreshTTL: time.Duration(req.RefreshTokenTTL) * time.Second, Claims: req.Claims,
	})
}

func (ts *TokenService) authorizeMint(ctx context.Context, reg *tenancy.Registry, caller Caller, req CreateTokenRequest) error {
	if caller.Basic {
		if caller.Username != req.TokenUsername {
			return tenancy.Errorf(tenancy.ErrInvalid, "Invalid POST data -- username does not match auth header.")
		}
		acct, err := ts.Accounts.Verify(ctx, req.TokenTenantID, caller.Username, caller.Password)
		if errors.Is(err, ErrInvalidCredentials) {
			return tenancy.Errorf(ErrInvalidCredentials, "Invalid service account/password combination.")
		}
		if err != nil {
			return err
		}
		if acct.Type != tenancy.AccountService || req.AccountType != tenancy.AccountService {
			return tenancy.Errorf(tenancy.ErrForbidden, "HTTP Basic authentication mints service tokens for service accounts only.")
		}
		return nil
	}
	p := caller.Principal
	if !p.Authenticated() {
		return tenancy.Errorf(ErrInvalidToken, "No credentials: send a service account's HTTP Basic credentials or an X-Tapis-Token.")
	}
	if req.TokenUsername == p.TokenUsername && req.TokenTenantID == p.TokenTenantID {
		if req.AccountType != p.AccountType {
			return tenancy.Errorf(tenancy.ErrForbidden, "A token minted for its own holder keeps the holder's account type (%s).", p.AccountType)
		}
		if req.DelegationToken {
			return tenancy.Errorf(tenancy.ErrForbidden, "Delegation tokens are minted by token generator services only.")
		}
		return nil
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
