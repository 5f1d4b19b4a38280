package oauth2

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// AttemptState is what the limiter remembers of one key: the attempts
// counted, when the last one was, and until when the state matters (after
// that housekeeping may forget it).
type AttemptState struct {
	Count   int
	Last    time.Time
	Expires time.Time
}

// AttemptStore keeps the limiter's counters. UpdateAttempts runs fn on the
// current states of keys (the zero state for unknown keys) and stores what fn
// leaves in the slice (a zero state deletes the key), atomically with respect
// to every other call naming one of the keys, so parallel attempts always see
// each other. When fn returns an error nothing is stored and the error is
// returned. A store shared by several instances makes them count the same
// attempts; MemoryAttempts is the default.
type AttemptStore interface {
	UpdateAttempts(ctx context.Context, keys []string, fn func(states []AttemptState) error) error
	// PurgeAttempts forgets keys that expired before t.
	PurgeAttempts(ctx context.Context, before time.Time) (int, error)
}

// MemoryAttempts is an AttemptStore in one process's memory, bounded: under
// a spray of distinct keys it forgets the oldest half.
type MemoryAttempts struct {
	mu    sync.Mutex
	state map[string]AttemptState
	// Max bounds the number of keys kept; default 100,000.
	Max int
}

var _ AttemptStore = (*MemoryAttempts)(nil)

// UpdateAttempts implements AttemptStore.
func (m *MemoryAttempts) UpdateAttempts(_ context.Context, keys []string, fn func([]AttemptState) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.state == nil {
		m.state = map[string]AttemptState{}
	}
	states := make([]AttemptState, len(keys))
	for i, k := range keys {
		states[i] = m.state[k]
	}
	if err := fn(states); err != nil {
		return err
	}
	for i, k := range keys {
		if states[i] == (AttemptState{}) {
			delete(m.state, k)
		} else {
			m.state[k] = states[i]
		}
	}
	if max := cmpOr(m.Max, 100_000); len(m.state) > max {
		m.evict(max / 2)
	}
	return nil
}

// evict drops keys until at most keep remain, those expiring first first.
func (m *MemoryAttempts) evict(keep int) {
	exp := make([]time.Time, 0, len(m.state))
	for _, s := range m.state {
		exp = append(exp, s.Expires)
	}
	slices.SortFunc(exp, time.Time.Compare)
	cut := exp[len(exp)-keep]
	for k, s := range m.state {
		if s.Expires.Before(cut) {
			delete(m.state, k)
		}
	}
}

// PurgeAttempts implements AttemptStore.
func (m *MemoryAttempts) PurgeAttempts(_ context.Context, before time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for k, s := range m.state {
		if s.Expires.Before(before) {
			delete(m.state, k)
			n++
		}
	}
	return n, nil
}

func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// LimiterConfig configures a Limiter. Zero values mean the defaults.
type LimiterConfig struct {
	// Store keeps the counters; default a MemoryAttempts of this process.
	Store AttemptStore
	// MaxFailures is how many failures one account may have from one
	// address before each further attempt must wait; the account from all
	// addresses together gets five times as many, one address for all
	// accounts ten times as many. Default 10.
	MaxFailures int
	// MaxDelay is the longest wait between two attempts of a key whose free
	// failures are spent; default 5 minutes.
	MaxDelay time.Duration
	// FirstDelay is the wait after the free failures are spent; it doubles
	// with every further failure up to MaxDelay. Default 1 second.
	FirstDelay time.Duration
	// Forget is how long a key's failures are remembered after its last
	// attempt; default 1 hour.
	Forget time.Duration
	// TrustFor is how long an address where an account signed in
	// successfully stays exempt from the account-wide and address-wide
	// limits for that account (never from its own); default 30 days.
	TrustFor time.Duration
	// Observer, when set, learns how each attempt at a secret ended, by
	// entry (metrics).
	Observer AttemptObserver
	Now      func() time.Time
}

// Limiter slows down guessing at every door that checks a secret (the
// password grant, the login page, HTTP Basic on POST /v3/tokens, client
// secrets). Failures are counted per account and address together, with a
// looser cap per account (from every address) and per address (for every
// account); once a key's free failures are spent, each further attempt must
// wait a delay that doubles per failure, up to MaxDelay, instead of meeting a
// hard wall; failures are forgotten after Forget without attempts. An address where the account signed in before is exempt from
// the looser caps, so an attacker spraying an account from elsewhere slows
// down without locking its owner out. Attempts count before the secret is
// checked, so parallel guesses cannot slip under a limit; a success takes the
// attempt back.
type Limiter struct {
	cfg LimiterConfig
}

// NewLimiter returns a Limiter.
func NewLimiter(cfg LimiterConfig) *Limiter {
	if cfg.Store == nil {
		cfg.Store = &MemoryAttempts{}
	}
	cfg.MaxFailures = cmpOr(cfg.MaxFailures, 10)
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = 5 * time.Minute
	}
	if cfg.Forget <= 0 {
		cfg.Forget = time.Hour
	}
	if cfg.FirstDelay <= 0 {
		cfg.FirstDelay = time.Second
	}
	if cfg.TrustFor <= 0 {
		cfg.TrustFor = 30 * 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Limiter{cfg: cfg}
}

// Config returns the effective configuration.
func (l *Limiter) Config() LimiterConfig { return l.cfg }

// RateLimitError says how long to wait (Retry-After).
type RateLimitError struct {
	Wait    time.Duration
	Message string
}

func (e *RateLimitError) Error() string { return e.Message }

// Is makes a RateLimitError match ErrRateLimited.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// RetryAfter is the wait in whole seconds, at least 1.
func (e *RateLimitError) RetryAfter() int {
	return max(1, int(math.Ceil(e.Wait.Seconds())))
}

// Attempt is one counted attempt at a secret; Succeeded takes it back.
type Attempt struct {
	l    *Limiter
	keys []string // pair, account, trust mark, address (when known)
}

// Door names the namespace of the account a secret belongs to: users and
// service accounts share one (a tenant's usernames), so a lock earned at the
// password grant or the login page holds at HTTP Basic too; clients have
// their own.
type Door string

// The doors.
const (
	DoorAccount Door = "a"
	DoorClient  Door = "c"
)

func normalizeAccount(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// Begin counts an attempt of account (of the door's kind in tenant) from
// addr (empty when unknown) before its secret is checked. It refuses with a
// *RateLimitError when a limit says to wait; then nothing is counted.
func (l *Limiter) Begin(ctx context.Context, door Door, tenantID, account, addr string) (*Attempt, error) {
	acct := string(door) + "|" + tenantID + "|" + normalizeAccount(account)
	keys := []string{"p|" + acct + "|" + addr, acct, "t|" + acct + "|" + addr}
	if addr != "" {
		keys = append(keys, "a|"+addr)
	}
	caps := []int{l.cfg.MaxFailures, 5 * l.cfg.MaxFailures, 0, 10 * l.cfg.MaxFailures}
	now := l.cfg.Now()
	var wait time.Duration
	err := l.cfg.Store.UpdateAttempts(ctx, keys, func(st []AttemptState) error {
		trusted := now.Before(st[2].Expires)
		for i := range st {
			if i == 2 {
				continue
			}
			if !now.Before(st[i].Expires) {
				st[i] = AttemptState{}
			}
			if i > 0 && trusted {
				continue
			}
			wait = max(wait, l.wait(st[i], caps[i], now))
		}
		if wait > 0 {
			return ErrRateLimited
		}
		for i := range st {
			if i != 2 {
				st[i] = AttemptState{Count: st[i].Count + 1, Last: now, Expires: now.Add(l.cfg.Forget)}
			}
		}
		return nil
	})
	if wait > 0 {
		return nil, &RateLimitError{Wait: wait,
			Message: fmt.Sprintf("Too many failed attempts; try again in %s.", roundUp(wait))}
	}
	if err != nil {
		return nil, fmt.Errorf("oauth2: count an attempt: %w", err)
	}
	return &Attempt{l: l, keys: keys}, nil
}

// wait is how long a key with state s must still wait given its free count.
func (l *Limiter) wait(s AttemptState, free int, now time.Time) time.Duration {
	over := s.Count - free
	if over < 0 {
		return 0
	}
	delay := l.cfg.MaxDelay
	if over < 30 {
		delay = min(l.cfg.MaxDelay, l.cfg.FirstDelay<<over)
	}
	return max(0, s.Last.Add(delay).Sub(now))
}

func roundUp(d time.Duration) time.Duration {
	if d < time.Second {
		return time.Second
	}
	return d.Round(time.Second)
}

// Succeeded takes the attempt back: the account's failures from this address
// are forgotten and the address is trusted for the account.
func (a *Attempt) Succeeded(ctx context.Context) error {
	now := a.l.cfg.Now()
	return a.l.cfg.Store.UpdateAttempts(ctx, a.keys, func(st []AttemptState) error {
		st[0] = AttemptState{}
		st[2] = AttemptState{Count: 1, Last: now, Expires: now.Add(a.l.cfg.TrustFor)}
		for i := 1; i < len(st); i++ {
			if i != 2 && st[i].Count > 0 {
				st[i].Count--
			}
		}
		return nil
	})
}

// Abandon takes the attempt back without trusting anything: the check could
// not be made (a store or directory error), so it proves nothing.
func (a *Attempt) Abandon(ctx context.Context) error {
	return a.l.cfg.Store.UpdateAttempts(ctx, a.keys, func(st []AttemptState) error {
		for i := range st {
			if i != 2 && st[i].Count > 0 {
				st[i].Count--
			}
		}
		return nil
	})
}

// Count counts one request of a kind that is limited whether or not it
// succeeds (device codes: each stores a row): after free requests of key
// in a window, each must wait as after failures.
func (l *Limiter) Count(ctx context.Context, key string, free int) error {
	now := l.cfg.Now()
	var wait time.Duration
	err := l.cfg.Store.UpdateAttempts(ctx, []string{"r|" + key}, func(st []AttemptState) error {
		if !now.Before(st[0].Expires) {
			st[0] = AttemptState{}
		}
		if wait = l.wait(st[0], free, now); wait > 0 {
			return ErrRateLimited
		}
		st[0] = AttemptState{Count: st[0].Count + 1, Last: now, Expires: now.Add(l.cfg.Forget)}
		return nil
	})
	if wait > 0 {
		return &RateLimitError{Wait: wait, Message: fmt.Sprintf("Too many requests; try again in %s.", roundUp(wait))}
	}
	if err != nil && !errors.Is(err, ErrRateLimited) {
		return fmt.Errorf("oauth2: count a request: %w", err)
	}
	return nil
}

// Purge forgets expired counters and trust marks (housekeeping).
func (l *Limiter) Purge(ctx context.Context) (int, error) {
	return l.cfg.Store.PurgeAttempts(ctx, l.cfg.Now())
}
