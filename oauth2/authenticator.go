package oauth2

import (
	"context"
	"errors"
	"time"

	"github.com/tapis-go/tapis/tenancy"
)

// ErrNotConfigured means an Authenticator does not serve a tenant (for
// example no LDAP connection is set for it); FirstConfigured then tries the
// next one.
var ErrNotConfigured = errors.New("authenticator not configured for this tenant")

// Identity is a user an Authenticator vouched for.
type Identity struct {
	Username string
	Email    string
	Name     string
}

// Authenticator checks a user's password (password grant, login page).
// It must return ErrInvalidCredentials for a wrong password AND for an
// unknown user, at the same cost, so that responses do not reveal which
// users exist. It must honour ctx cancellation.
type Authenticator interface {
	Authenticate(ctx context.Context, tenantID, username, password string) (Identity, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(ctx context.Context, tenantID, username, password string) (Identity, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(ctx context.Context, tenantID, username, password string) (Identity, error) {
	return f(ctx, tenantID, username, password)
}

// Profile is what the authenticator knows of a user (userinfo, profiles).
// Only Username is guaranteed.
type Profile struct {
	Username    string
	Email       string
	Name        string
	GivenName   string
	LastName    string
	Phone       string
	MobilePhone string
	UID         string
	DN          string
	CreateTime  time.Time
}

// ProfileProvider is an optional capability of an Authenticator: looking up
// and listing user profiles.
type ProfileProvider interface {
	// GetProfile returns ErrNotFound for an unknown user.
	GetProfile(ctx context.Context, tenantID, username string) (Profile, error)
	ListProfiles(ctx context.Context, tenantID string, limit, offset int) ([]Profile, error)
}

// TenantAuthenticators routes by tenant id; the key "*" serves every other
// tenant. It is itself an Authenticator and a ProfileProvider (when the
// routed authenticator provides profiles).
type TenantAuthenticators map[string]Authenticator

func (m TenantAuthenticators) route(tenantID string) (Authenticator, error) {
	if a, ok := m[tenantID]; ok {
		return a, nil
	}
	if a, ok := m["*"]; ok {
		return a, nil
	}
	return nil, ErrNotConfigured
}

// Authenticate routes to the tenant's authenticator.
func (m TenantAuthenticators) Authenticate(ctx context.Context, tenantID, username, password string) (Identity, error) {
	a, err := m.route(tenantID)
	if err != nil {
		return Identity{}, err
	}
	return a.Authenticate(ctx, tenantID, username, password)
}

// GetProfile routes to the tenant's authenticator.
func (m TenantAuthenticators) GetProfile(ctx context.Context, tenantID, username string) (Profile, error) {
	a, err := m.route(tenantID)
	if err != nil {
		return Profile{}, err
	}
	pp, ok := a.(ProfileProvider)
	if !ok {
		return Profile{Username: username}, nil
	}
	return pp.GetProfile(ctx, tenantID, username)
}

// ListProfiles routes to the tenant's authenticator.
func (m TenantAuthenticators) ListProfiles(ctx context.Context, tenantID string, limit, offset int) ([]Profile, error) {
	a, err := m.route(tenantID)
	if err != nil {
		return nil, err
	}
	pp, ok := a.(ProfileProvider)
	if !ok {
		return nil, ErrNotConfigured
	}
	return pp.ListProfiles(ctx, tenantID, limit, offset)
}

// FirstConfigured tries each authenticator in turn, moving on only when one
// answers ErrNotConfigured (for example: the tenant's LDAP when it has one,
// else the built-in users).
type FirstConfigured []Authenticator

// Authenticate implements Authenticator.
func (f FirstConfigured) Authenticate(ctx context.Context, tenantID, username, password string) (Identity, error) {
	for _, a := range f {
		id, err := a.Authenticate(ctx, tenantID, username, password)
		if !errors.Is(err, ErrNotConfigured) {
			return id, err
		}
	}
	return Identity{}, ErrNotConfigured
}

// GetProfile implements ProfileProvider over the first configured provider.
func (f FirstConfigured) GetProfile(ctx context.Context, tenantID, username string) (Profile, error) {
	for _, a := range f {
		if pp, ok := a.(ProfileProvider); ok {
			p, err := pp.GetProfile(ctx, tenantID, username)
			if !errors.Is(err, ErrNotConfigured) {
				return p, err
			}
		}
	}
	return Profile{}, ErrNotConfigured
}

// ListProfiles implements ProfileProvider over the first configured provider.
func (f FirstConfigured) ListProfiles(ctx context.Context, tenantID string, limit, offset int) ([]Profile, error) {
	for _, a := range f {
		if pp, ok := a.(ProfileProvider); ok {
			p, err := pp.ListProfiles(ctx, tenantID, limit, offset)
			if !errors.Is(err, ErrNotConfigured) {
				return p, err
			}
		}
	}
	return nil, ErrNotConfigured
}

// UserAuthenticator authenticates the built-in users: accounts of type user
// (created from the config file, the -dev seed or Accounts.Set).
type UserAuthenticator struct{ Accounts *Accounts }

// Authenticate implements Authenticator with bcrypt hashes; an unknown user
// costs the same as a wrong password. Service accounts are refused the same way.
func (u UserAuthenticator) Authenticate(ctx context.Context, tenantID, username, password string) (Identity, error) {
	if err := ctx.Err(); err != nil {
		return Identity{}, err
	}
	acct, err := u.Accounts.Verify(ctx, tenantID, username, password)
	if err != nil {
		return Identity{}, err
	}
	if acct.Type != tenancy.AccountUser {
		return Identity{}, ErrInvalidCredentials
	}
	return Identity{Username: acct.Username}, nil
}

// GetProfile returns the username of a built-in user.
func (u UserAuthenticator) GetProfile(ctx context.Context, tenantID, username string) (Profile, error) {
	acct, err := u.Accounts.store.GetAccount(ctx, tenantID, username)
	if err != nil || acct.Type != tenancy.AccountUser {
		return Profile{}, tenancy.Errorf(ErrNotFound, "No profile found for user %s.", username)
	}
	return Profile{Username: acct.Username, CreateTime: acct.Created}, nil
}

// ListProfiles lists the built-in users of a tenant.
func (u UserAuthenticator) ListProfiles(ctx context.Context, tenantID string, limit, offset int) ([]Profile, error) {
	list, err := u.Accounts.store.ListAccounts(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	out := []Profile{}
	for _, a := range list {
		if a.Type == tenancy.AccountUser {
			out = append(out, Profile{Username: a.Username, CreateTime: a.Created})
		}
	}
	if offset >= len(out) {
		return []Profile{}, nil
	}
	out = out[offset:]
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
