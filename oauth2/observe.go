package oauth2

import (
	"errors"

	"github.com/tapis-go/tapis/tenancy"
)

// The hooks below let an operator count what the token services do (the
// module's metrics package implements them over Prometheus) without this
// package knowing how the counts are kept. Each is optional; none ever
// receives a token, a secret or the name of an account.

// MintedToken describes a token just signed.
type MintedToken struct {
	// Kind is "access" or "refresh".
	Kind string
	// AccountType is the account the token is for: user or service.
	AccountType tenancy.AccountType
	// Grant is how it was obtained: the authenticator's grant type
	// (password, authorization_code, refresh_token, device_code, ...),
	// GrantTokensAPI for POST /v3/tokens, or GrantRefreshToken for a
	// refresh through the Tokens API.
	Grant string
}

// GrantTokensAPI is the Grant of a token minted through POST /v3/tokens
// (a service's password or token, not an OAuth2 grant).
const GrantTokensAPI = "tokens_api"

// MintObserver learns of every token the TokenService signs
// (TokenConfig.Minted).
type MintObserver interface {
	TokenMinted(MintedToken)
}

// CacheEvent is what happened in the verified-token cache.
type CacheEvent string

// The cache events.
const (
	CacheHit  CacheEvent = "hit"  // a token's verified claims were reused
	CacheMiss CacheEvent = "miss" // a token was verified in full
	// CacheInvalidation: the cache was emptied (a revocation, a tenant
	// change) so that no verified token outlives it.
	CacheInvalidation CacheEvent = "invalidation"
)

// CacheObserver learns of each lookup in and each invalidation of the
// verified-token cache (TokenConfig.CacheEvents).
type CacheObserver interface {
	TokenCacheEvent(CacheEvent)
}

// Entry names the way a secret reached the limiter: what an operator
// watches for guessing.
type Entry string

// The entries.
const (
	// EntryPassword: a user's password at the password grant or the login
	// page.
	EntryPassword Entry = "password"
	// EntryServicePassword: a service account's password (HTTP Basic on
	// POST /v3/tokens).
	EntryServicePassword Entry = "service_password"
	// EntryClientSecret: a client's key (token, revocation, introspection
	// and device endpoints).
	EntryClientSecret Entry = "client_secret"
	// EntryDeviceCode: a request for a device code (limited per address,
	// no secret; only its limits are observed).
	EntryDeviceCode Entry = "device_code"
)

// AttemptOutcome is how an attempt at a secret ended.
type AttemptOutcome string

// The outcomes.
const (
	AttemptSuccess AttemptOutcome = "success"
	AttemptFailure AttemptOutcome = "failure" // a wrong secret, an unknown account or client
	AttemptLimited AttemptOutcome = "limited" // refused by the limits (429) before any check
	// AttemptError: the secret could not be checked (a store or directory
	// error); it counts neither way.
	AttemptError AttemptOutcome = "error"
)

// AttemptObserver learns how each attempt at a secret ended, by entry
// (LimiterConfig.Observer).
type AttemptObserver interface {
	AttemptEnded(Entry, AttemptOutcome)
}

// observe tells the limiter's observer, if any, how an attempt through
// entry ended, from the error the checking function returns: nil is a
// success, a limit a 429, a refused secret a failure, anything else an
// error.
func (l *Limiter) observe(entry Entry, err error) {
	if l.cfg.Observer == nil {
		return
	}
	var ge *GrantError
	out := AttemptError
	switch {
	case err == nil:
		out = AttemptSuccess
	case errors.Is(err, ErrRateLimited):
		out = AttemptLimited
	case errors.Is(err, ErrInvalidCredentials), errors.As(err, &ge) && (ge.Code == "invalid_grant" || ge.Code == "invalid_client"):
		out = AttemptFailure
	}
	l.cfg.Observer.AttemptEnded(entry, out)
}

// observeCache tells the cache observer, if any, of e.
func (ts *TokenService) observeCache(e CacheEvent) {
	if ts.cfg.CacheEvents != nil {
		ts.cfg.CacheEvents.TokenCacheEvent(e)
	}
}

// observeMint tells the mint observer, if any, of the tokens of pair.
func (ts *TokenService) observeMint(pair TokenPair, account tenancy.AccountType, grant string) {
	if ts.cfg.Minted == nil {
		return
	}
	ts.cfg.Minted.TokenMinted(MintedToken{Kind: "access", AccountType: account, Grant: grant})
	if pair.Refresh != nil {
		ts.cfg.Minted.TokenMinted(MintedToken{Kind: "refresh", AccountType: account, Grant: grant})
	}
}
