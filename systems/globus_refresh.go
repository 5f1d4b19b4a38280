package systems

import (
	"context"
	"errors"
	"sync"

	"github.com/tapis-go/tapis/credentials"
	"github.com/tapis-go/tapis/tenancy"
)

// globusExpiring reports whether c's access token expires within
// GlobusRefreshMargin (an unknown expiry counts from when c was stored).
func (svc *Service) globusExpiring(c Credential) bool {
	exp := c.AccessTokenExpires
	if exp.IsZero() {
		if c.Updated.IsZero() {
			return true
		}
		exp = c.Updated.Add(GlobusTokenLifetime)
	}
	return !svc.now().Add(GlobusRefreshMargin).Before(exp)
}

// freshGlobus returns user's credential c on s with a usable Globus access
// token: on a GLOBUS system with Globus configured, a token that expires
// within GlobusRefreshMargin is refreshed through Globus Auth and the new
// pair stored before it is returned (refresh tokens rotate, so the stored
// pair must follow). Anything else passes through unchanged.
//
// Refreshes of one credential are serialized within the instance, and the
// credential is read again under the lock, so concurrent readers refresh
// once. Across instances, a reader whose refresh token was rotated by
// another instance meanwhile finds the new pair in the vault.
func (svc *Service) freshGlobus(ctx context.Context, p tenancy.Principal, s System, user string, c Credential) (Credential, error) {
	if traitsOf(s.SystemType).Check != CheckGlobus || svc.gl == nil || c.RefreshToken == "" || !svc.globusExpiring(c) {
		return c, nil
	}
	unlock := svc.refreshing.lock(credKey(s, user))
	defer unlock()
	cur, err := svc.readCredential(ctx, p, s, user)
	if err != nil {
		return Credential{}, err
	}
	if cur.RefreshToken == "" || !svc.globusExpiring(cur) {
		return cur, nil
	}
	tok, err := svc.gl.Refresh(ctx, cur.RefreshToken)
	if err != nil {
		if errors.Is(err, ErrGlobusRefused) {
			again, rerr := svc.readCredential(ctx, p, s, user)
			if rerr == nil && again.RefreshToken != cur.RefreshToken && !svc.globusExpiring(again) {
				return again, nil // another instance refreshed it
			}
		}
		svc.log.WarnContext(ctx, "refreshing Globus tokens failed", "tenant", s.Tenant, "system", s.ID, "user", user, "err", err)
		if errors.Is(err, ErrGlobusRefused) {
			return Credential{}, errorf(ErrCredentialRejected, "SYSAPI_GLOBUS_REFRESH_REFUSED The Globus tokens of user %s on system %s "+
				"expired and Globus Auth refused to renew them (%s): the user must authorize again with GET /v3/systems/credential/%s/globus/authUrl.",
				user, s.ID, err.Error(), s.ID)
		}
		return Credential{}, globusErr(err, s.ID, "the refresh token")
	}
	next := cur
	next.AccessToken, next.AccessTokenExpires = tok.AccessToken, tok.Expires
	if tok.RefreshToken != "" {
		next.RefreshToken = tok.RefreshToken
	}
	next.Updated = svc.stamp()
	if err := svc.putCredential(ctx, p, s, user, next); err != nil {
		return Credential{}, err
	}
	svc.log.InfoContext(ctx, "refreshed Globus tokens", "tenant", s.Tenant, "system", s.ID, "user", user)
	return next, nil
}

// keyedMutex serializes work per credential key; an entry lives only while
// someone holds or waits for it. The zero value is ready to use.
type keyedMutex struct {
	mu sync.Mutex
	m  map[credentials.Key]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock locks k and returns its unlock.
func (km *keyedMutex) lock(k credentials.Key) (unlock func()) {
	km.mu.Lock()
	if km.m == nil {
		km.m = map[credentials.Key]*keyedEntry{}
	}
	e := km.m[k]
	if e == nil {
		e = &keyedEntry{}
		km.m[k] = e
	}
	e.refs++
	km.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		km.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(km.m, k)
		}
		km.mu.Unlock()
	}
}
