package oauth2

import (
	"sync"
	"time"
)

// limiter counts failed password attempts per key in a sliding window.
type limiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	fails  map[string][]time.Time
}

func newLimiter(max int, window time.Duration) *limiter {
	return &limiter{max: max, window: window, fails: map[string][]time.Time{}}
}

func (l *limiter) recent(key string, now time.Time) []time.Time {
	keep := l.fails[key][:0]
	for _, t := range l.fails[key] {
		if now.Sub(t) < l.window {
			keep = append(keep, t)
		}
	}
	if len(keep) == 0 {
		delete(l.fails, key)
		return nil
	}
	l.fails[key] = keep
	return keep
}

// try records an attempt for every key before the password is checked, so
// that parallel attempts cannot all pass the check: it fails (and records
// nothing) when a key has reached its limit. undo takes the attempt back
// for a good password.
func (l *limiter) try(now time.Time, keys []string, limits []int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, k := range keys {
		if len(l.recent(k, now)) >= limits[i] {
			return false
		}
	}
	for _, k := range keys {
		l.fails[k] = append(l.recent(k, now), now)
	}
	if len(l.fails) > 100_000 { // bound memory under a spray attack
		for k := range l.fails {
			delete(l.fails, k)
			if len(l.fails) < 50_000 {
				break
			}
		}
	}
	return true
}

// undo removes the attempt try recorded at now.
func (l *limiter) undo(now time.Time, keys []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		list := l.fails[k]
		for i := len(list) - 1; i >= 0; i-- {
			if list[i].Equal(now) {
				l.fails[k] = append(list[:i], list[i+1:]...)
				break
			}
		}
	}
}

func (l *limiter) reset(key string) {
	l.mu.Lock()
	delete(l.fails, key)
	l.mu.Unlock()
}
