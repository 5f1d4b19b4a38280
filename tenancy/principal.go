package tenancy

import (
	"context"
	"time"
)

// AccountType is the kind of account a token represents.
type AccountType string

// Account types of Tapis tokens.
const (
	AccountUser    AccountType = "user"
	AccountService AccountType = "service"
)

// Principal is the verified identity behind a request. For a service acting on
// behalf of a user (X-Tapis-Tenant / X-Tapis-User), TenantID and Username are
// the user's; TokenTenantID and TokenUsername stay the service's.
type Principal struct {
	TenantID      string // tenant the request acts in
	Username      string // user the request acts as
	AccountType   AccountType
	TokenTenantID string // tenant of the token
	TokenUsername string // username in the token
	TargetSite    string // service tokens: tapis/target_site
	JTI           string
	Expires       time.Time
	Delegation    bool
	DelegationSub string
	// ParentJTI is the jti of the token this one was minted from (POST
	// /v3/tokens by a token for its own holder); it dies with its parent.
	ParentJTI string
	// OnBehalfOf is true when a service token carried X-Tapis-Tenant/X-Tapis-User.
	OnBehalfOf bool
}

// Authenticated reports whether the principal came from a verified token.
func (p Principal) Authenticated() bool { return p.TokenUsername != "" }

// IsService reports whether the token is a service token.
func (p Principal) IsService() bool { return p.AccountType == AccountService }

// String gives the "user@tenant" form Tapis uses for created_by fields.
func (p Principal) String() string {
	if !p.Authenticated() {
		return "anonymous"
	}
	return p.TokenUsername + "@" + p.TokenTenantID
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal in ctx and whether one is there.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
