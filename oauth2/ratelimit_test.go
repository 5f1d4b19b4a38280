package oauth2_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/oauth2/oauth2test"
)

func TestMemoryAttemptsConformance(t *testing.T) {
	oauth2test.RunAttemptStoreTests(t, func(*testing.T) oauth2.AttemptStore { return &oauth2.MemoryAttempts{} })
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newLimiter() (*oauth2.Limiter, *fakeClock) {
	clk := &fakeClock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	return oauth2.NewLimiter(oauth2.LimiterConfig{MaxFailures: 10, Now: clk.Now}), clk
}

// fail makes n failed attempts of account from addr, each allowed.
func fail(t *testing.T, l *oauth2.Limiter, account, addr string, n int) {
	t.Helper()
	for i := range n {
		_, err := l.Begin(context.Background(), oauth2.DoorAccount, "dev", account, addr)
		require.NoError(t, err, "failure %d of %s from %s", i+1, account, addr)
	}
}

func waitOf(t *testing.T, err error) time.Duration {
	t.Helper()
	var rle *oauth2.RateLimitError
	require.ErrorAs(t, err, &rle)
	assert.ErrorIs(t, err, oauth2.ErrRateLimited)
	return rle.Wait
}

func TestLimiterDelaysGrowAfterTheFreeFailures(t *testing.T) {
	ctx := context.Background()
	l, clk := newLimiter()
	fail(t, l, "alice", "10.0.0.1", 10)
	_, err := l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "10.0.0.1")
	assert.Equal(t, time.Second, waitOf(t, err), "the first wait after the free failures")
	for _, want := range []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second} {
		clk.Advance(want / 2) // the previous wait has passed: one more failure is allowed
		_, err := l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "10.0.0.1")
		require.NoError(t, err)
		_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "10.0.0.1")
		assert.Equal(t, want, waitOf(t, err), "each failure doubles the wait")
	}
	for range 20 {
		clk.Advance(5 * time.Minute)
		_, err := l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "10.0.0.1")
		require.NoError(t, err)
	}
	_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "10.0.0.1")
	assert.Equal(t, 5*time.Minute, waitOf(t, err), "the wait never exceeds MaxDelay")
	rle := &oauth2.RateLimitError{Wait: 1500 * time.Millisecond}
	assert.Equal(t, 2, rle.RetryAfter(), "Retry-After rounds up")

	clk.Advance(61 * time.Minute)
	_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "10.0.0.1")
	assert.NoError(t, err, "failures are forgotten after an hour without attempts")
}

func TestLimiterDoesNotLockTheOwnerOut(t *testing.T) {
	ctx := context.Background()
	l, clk := newLimiter()
	fail(t, l, "alice", "203.0.113.9", 10)
	_, err := l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "203.0.113.9")
	require.Error(t, err, "the guessing address waits")
	att, err := l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "198.51.100.7")
	require.NoError(t, err, "the owner at another address is not locked out by ten failures")
	require.NoError(t, att.Succeeded(ctx))

	// Spread over many addresses, 50 failures make the account wait for
	// new addresses; the owner's address, trusted after its success, is
	// exempt from that cap.
	for i := range 40 { // with the 10 above: the account's 50
		fail(t, l, "alice", fmt.Sprintf("192.0.2.%d", i+1), 1)
	}
	_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "192.0.2.200")
	assert.Greater(t, waitOf(t, err), time.Duration(0), "the account-wide cap holds for new addresses")
	_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "alice", "198.51.100.7")
	assert.NoError(t, err, "a trusted address is exempt from the account-wide cap")
	clk.Advance(time.Second)
	_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "bob", "192.0.2.200")
	assert.NoError(t, err, "other accounts are unaffected")
}

func TestLimiterCapsAnAddressAcrossAccounts(t *testing.T) {
	ctx := context.Background()
	l, _ := newLimiter()
	att, err := l.Begin(ctx, oauth2.DoorAccount, "dev", "carol", "10.9.9.9")
	require.NoError(t, err)
	require.NoError(t, att.Succeeded(ctx))
	for i := range 100 {
		fail(t, l, fmt.Sprintf("user%d", i), "10.9.9.9", 1)
	}
	_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "dave", "10.9.9.9")
	assert.Greater(t, waitOf(t, err), time.Duration(0), "one address spraying 100 accounts waits")
	_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "carol", "10.9.9.9")
	assert.NoError(t, err, "an account that signed in from this address before is exempt")
	_, err = l.Begin(ctx, oauth2.DoorAccount, "other", "dave", "10.9.9.10")
	assert.NoError(t, err, "other addresses are unaffected")
}

func TestLimiterSuccessTakesTheAttemptBack(t *testing.T) {
	ctx := context.Background()
	l, _ := newLimiter()
	fail(t, l, "erin", "10.0.0.2", 9)
	att, err := l.Begin(ctx, oauth2.DoorAccount, "dev", "Erin ", "10.0.0.2")
	require.NoError(t, err, "names are normalised: Erin is erin")
	require.NoError(t, att.Succeeded(ctx))
	fail(t, l, "erin", "10.0.0.2", 10) // the success reset this address's count
	_, err = l.Begin(ctx, oauth2.DoorAccount, "dev", "erin", "10.0.0.2")
	assert.Error(t, err)

	att, err = l.Begin(ctx, oauth2.DoorClient, "dev", "erin", "10.0.0.2")
	require.NoError(t, err, "clients are a namespace of their own")
	require.NoError(t, att.Abandon(ctx))
}

func TestLimiterParallelGuessesCannotSlipUnder(t *testing.T) {
	ctx := context.Background()
	l, _ := newLimiter()
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Begin(ctx, oauth2.DoorAccount, "dev", "frank", "10.0.0.3"); err == nil {
				allowed.Add(1)
			} else if !errors.Is(err, oauth2.ErrRateLimited) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, int32(10), allowed.Load(), "exactly the free failures pass")
}

func TestLimiterCountsRequests(t *testing.T) {
	ctx := context.Background()
	l, clk := newLimiter()
	for i := range 5 {
		require.NoError(t, l.Count(ctx, "d|dev|10.0.0.4", 5), "request %d", i+1)
	}
	assert.Equal(t, time.Second, waitOf(t, l.Count(ctx, "d|dev|10.0.0.4", 5)))
	assert.NoError(t, l.Count(ctx, "d|dev|10.0.0.5", 5), "per key")
	clk.Advance(time.Second)
	assert.NoError(t, l.Count(ctx, "d|dev|10.0.0.4", 5))
}

func TestMemoryAttemptsStaysBounded(t *testing.T) {
	ctx := context.Background()
	m := &oauth2.MemoryAttempts{Max: 100}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 250 {
		require.NoError(t, m.UpdateAttempts(ctx, []string{fmt.Sprint(i)}, func(s []oauth2.AttemptState) error {
			s[0] = oauth2.AttemptState{Count: 1, Last: at, Expires: at.Add(time.Duration(i) * time.Second)}
			return nil
		}))
	}
	count := func(key string) int {
		var st oauth2.AttemptState
		require.NoError(t, m.UpdateAttempts(ctx, []string{key}, func(s []oauth2.AttemptState) error {
			st = s[0]
			return nil
		}))
		return st.Count
	}
	assert.Equal(t, 1, count("249"), "the latest key is kept")
	assert.Equal(t, 0, count("0"), "the key expiring first was dropped")
	n, err := m.PurgeAttempts(ctx, at.Add(time.Hour))
	require.NoError(t, err)
	assert.LessOrEqual(t, n, 100, "never more than Max keys are kept")
	assert.Greater(t, n, 0)
}
