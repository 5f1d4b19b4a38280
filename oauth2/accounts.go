package oauth2

import (
	"context"
	"errors"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis/tenancy"
)

// maxPasswordBytes is bcrypt's input limit.
const maxPasswordBytes = 72

// Accounts checks and sets account passwords with bcrypt. An unknown account
// costs the same as a wrong password, so responses do not reveal which
// accounts exist.
type Accounts struct {
	store AccountStore
	cost  int
	now   func() time.Time
	// dummy is hashed in the background (a bcrypt hash at the configured
	// cost takes as long as the rest of a start); ready is closed once it
	// is set.
	dummy []byte
	ready chan struct{}
}

// NewAccounts returns the password accounts kept in store, hashed with
// bcrypt at cost (default 10); now stamps new accounts (default time.Now).
// The built-in users are oauth2.UserAuthenticator{Accounts: NewAccounts(st, 0, nil)}.
// The dummy hash that makes an unknown account cost as much as a wrong
// password is made in the background (it costs one bcrypt hash).
func NewAccounts(store AccountStore, cost int, now func() time.Time) *Accounts {
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	if now == nil {
		now = time.Now
	}
	a := &Accounts{store: store, cost: cost, now: now, ready: make(chan struct{})}
	go func() {
		defer close(a.ready)
		// An invalid cost fails every Set too; a nil dummy then matches
		// no password, so unknown accounts are still refused.
		a.dummy, _ = bcrypt.GenerateFromPassword([]byte("tapis-dummy-password-for-timing"), cost)
	}()
	return a
}

// Set creates or replaces an account with a new password.
func (a *Accounts) Set(ctx context.Context, tenantID, username string, typ tenancy.AccountType, password string) error {
	return a.SetCost(ctx, tenantID, username, typ, password, a.cost)
}

// SetCost is Set hashing at the given bcrypt cost instead of the
// configured one (clamped to bcrypt's range). It is for passwords that
// protect nothing, such as the public -dev fixtures, whose hashing at the
// configured cost would only slow every start.
func (a *Accounts) SetCost(ctx context.Context, tenantID, username string, typ tenancy.AccountType, password string, cost int) error {
	cost = min(max(cost, bcrypt.MinCost), bcrypt.MaxCost)
	v := &tenancy.ValidationError{Prefix: "Invalid account"}
	if tenantID == "" || username == "" {
		v.Addf("tenant and username are required.")
	}
	if len(password) < 8 {
		v.Addf("the password must be at least 8 characters.")
	}
	if len(password) > maxPasswordBytes {
		v.Addf("the password must be at most %d bytes.", maxPasswordBytes)
	}
	if typ != tenancy.AccountUser && typ != tenancy.AccountService {
		v.Addf("account type must be user or service.")
	}
	if err := v.Err(); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	return a.store.PutAccount(ctx, Account{TenantID: tenantID, Username: username, Type: typ,
		PasswordHash: hash, Created: a.now().UTC().Truncate(time.Microsecond)})
}

// Verify returns the account when password matches; otherwise
// ErrInvalidCredentials, after the same work whether or not it exists.
func (a *Accounts) Verify(ctx context.Context, tenantID, username, password string) (Account, error) {
	acct, err := a.store.GetAccount(ctx, tenantID, username)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Account{}, err
	}
	hash := acct.PasswordHash
	<-a.ready // every check waits, so none is told apart by the wait
	if err != nil || len(password) > maxPasswordBytes {
		hash = a.dummy
	}
	// bcrypt compares in constant time; the dummy hash makes an unknown
	// account cost the same as a wrong password.
	cmpErr := bcrypt.CompareHashAndPassword(hash, []byte(password))
	if err != nil || cmpErr != nil || len(password) > maxPasswordBytes {
		return Account{}, ErrInvalidCredentials
	}
	return acct, nil
}

// List returns the accounts of a tenant, without their password hashes.
func (a *Accounts) List(ctx context.Context, tenantID string) ([]Account, error) {
	list, err := a.store.ListAccounts(ctx, tenantID)
	for i := range list {
		list[i].PasswordHash = nil
	}
	return list, err
}
