// Package clustertest is the conformance suite of the cluster parts: every
// adapter runs RunFeedTests, RunLockerTests and RunCanaryTests. A pair is
// two instances sharing one store: the same store twice for one in process
// memory, two stores opened on one database file or schema for SQL.
package clustertest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/cluster"
)

// Propagation is how soon a change published by one instance must reach the
// subscriptions of every other.
const Propagation = time.Second

// recorder collects what a subscription receives.
type recorder struct {
	mu  sync.Mutex
	got []cluster.Change
	at  []time.Time
}

func (r *recorder) add(c cluster.Change) {
	r.mu.Lock()
	r.got = append(r.got, c)
	r.at = append(r.at, time.Now())
	r.mu.Unlock()
}

func (r *recorder) changes() []cluster.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// find returns the first received change like c (Seq ignored) and when it
// arrived.
func (r *recorder) find(c cluster.Change) (cluster.Change, time.Time, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, g := range r.got {
		if g.Kind == c.Kind && g.Tenant == c.Tenant && g.Key == c.Key {
			return g, r.at[i], true
		}
	}
	return cluster.Change{}, time.Time{}, false
}

func subscribe(t *testing.T, f cluster.Feed) *recorder {
	t.Helper()
	r := &recorder{}
	stop := f.SubscribeChanges(r.add)
	t.Cleanup(stop)
	return r
}

// awaitChange waits until r received c (at most Propagation) and returns it.
func awaitChange(t *testing.T, r *recorder, c cluster.Change) cluster.Change {
	t.Helper()
	var got cluster.Change
	require.Eventually(t, func() bool {
		var ok bool
		got, _, ok = r.find(c)
		return ok
	}, Propagation, 5*time.Millisecond, "%+v was not delivered within %s; got %+v", c, Propagation, r.changes())
	return got
}

// RunFeedTests is the conformance suite of cluster.Feed. newPair returns two
// feeds of instances sharing one store.
func RunFeedTests(t *testing.T, newPair func(t *testing.T) (a, b cluster.Feed)) {
	ctx := context.Background()

	t.Run("a change published on one instance reaches both within a second", func(t *testing.T) {
		a, b := newPair(t)
		ra, rb := subscribe(t, a), subscribe(t, b)
		c := cluster.Change{Kind: "revocation", Tenant: "dev", Key: "jti-1"}
		require.NoError(t, a.PublishChange(ctx, c))
		gb := awaitChange(t, rb, c)
		ga := awaitChange(t, ra, c)
		assert.Positive(t, gb.Seq)
		assert.Equal(t, gb.Seq, ga.Seq, "one change has one number on every instance")
	})

	t.Run("changes arrive once each, in publication order, numbered increasingly", func(t *testing.T) {
		a, b := newPair(t)
		ra, rb := subscribe(t, a), subscribe(t, b)
		var sent []cluster.Change
		for i := range 6 {
			c := cluster.Change{Kind: "tenant", Tenant: fmt.Sprintf("t%d", i), Key: fmt.Sprintf("k%d", i)}
			pub := a
			if i%2 == 1 {
				pub = b
			}
			require.NoError(t, pub.PublishChange(ctx, c))
			sent = append(sent, c)
		}
		for _, r := range []*recorder{ra, rb} {
			awaitChange(t, r, sent[len(sent)-1])
			got := r.changes()
			require.Len(t, got, len(sent), "%+v", got)
			for i, g := range got {
				assert.Equal(t, sent[i], cluster.Change{Kind: g.Kind, Tenant: g.Tenant, Key: g.Key}, "change %d", i)
				if i > 0 {
					assert.Greater(t, g.Seq, got[i-1].Seq)
				}
			}
		}
	})

	t.Run("only changes published after the subscription are delivered", func(t *testing.T) {
		a, b := newPair(t)
		before := cluster.Change{Kind: "registry", Key: "before"}
		require.NoError(t, a.PublishChange(ctx, before))
		rb := subscribe(t, b)
		after := cluster.Change{Kind: "registry", Key: "after"}
		require.NoError(t, a.PublishChange(ctx, after))
		awaitChange(t, rb, after)
		got := rb.changes()
		require.Len(t, got, 1, "neither the earlier change nor a resync: %+v", got)
	})

	t.Run("a stopped subscription receives nothing more", func(t *testing.T) {
		a, b := newPair(t)
		stopped := &recorder{}
		stop := b.SubscribeChanges(stopped.add)
		live := subscribe(t, b)
		stop()
		for i := range 2 {
			c := cluster.Change{Kind: "signing-keys", Tenant: "dev", Key: fmt.Sprint(i)}
			require.NoError(t, a.PublishChange(ctx, c))
			awaitChange(t, live, c)
		}
		assert.Empty(t, stopped.changes())
	})

	t.Run("concurrent publishers on both instances: each change once, in number order", func(t *testing.T) {
		a, b := newPair(t)
		rb := subscribe(t, b)
		const workers, each = 4, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			pub := a
			if w%2 == 1 {
				pub = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					errs <- pub.PublishChange(ctx, cluster.Change{Kind: "revocation", Tenant: "dev", Key: fmt.Sprintf("w%d-%d", w, i)})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		require.Eventually(t, func() bool { return len(rb.changes()) >= workers*each },
			Propagation, 5*time.Millisecond, "got %d of %d", len(rb.changes()), workers*each)
		got := rb.changes()
		require.Len(t, got, workers*each)
		keys := map[string]bool{}
		for i, g := range got {
			assert.NotEqual(t, cluster.Resync, g.Kind)
			assert.False(t, keys[g.Key], "%s delivered twice", g.Key)
			keys[g.Key] = true
			if i > 0 {
				assert.Greater(t, g.Seq, got[i-1].Seq, "number order")
			}
		}
	})

	t.Run("purging old changes does not disturb the subscriptions", func(t *testing.T) {
		a, b := newPair(t)
		rb := subscribe(t, b)
		for i := range 3 {
			c := cluster.Change{Kind: "registry", Key: fmt.Sprint(i)}
			require.NoError(t, a.PublishChange(ctx, c))
			awaitChange(t, rb, c)
		}
		n, err := a.PurgeChanges(ctx, time.Now().Add(time.Hour))
		require.NoError(t, err)
		assert.LessOrEqual(t, n, 3)
		late := subscribe(t, a)
		c := cluster.Change{Kind: "registry", Key: "after-purge"}
		require.NoError(t, b.PublishChange(ctx, c))
		awaitChange(t, rb, c)
		awaitChange(t, late, c)
		for _, r := range []*recorder{rb, late} {
			for _, g := range r.changes() {
				assert.NotEqual(t, cluster.Resync, g.Kind, "nothing was missed")
			}
		}
		assert.Len(t, late.changes(), 1)
	})

	t.Run("propagation delay", func(t *testing.T) {
		a, b := newPair(t)
		rb := subscribe(t, b)
		delays := make([]time.Duration, 0, 20)
		for i := range 20 {
			c := cluster.Change{Kind: "revocation", Tenant: "dev", Key: fmt.Sprintf("d%d", i)}
			sent := time.Now()
			require.NoError(t, a.PublishChange(ctx, c))
			awaitChange(t, rb, c)
			_, at, _ := rb.find(c)
			delays = append(delays, at.Sub(sent))
			time.Sleep(time.Duration(i%5) * 37 * time.Millisecond) // publish at varied phases of a poll
		}
		p50, worst := Summary(delays)
		t.Logf("propagation over %d changes: p50 %s, max %s", len(delays), p50, worst)
		assert.LessOrEqual(t, worst, Propagation)
	})
}

// Summary returns the median and the maximum of durations.
func Summary(d []time.Duration) (p50, worst time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)-1]
}

// RunLockerTests is the conformance suite of cluster.Locker. newPair returns
// two lockers of instances sharing one store.
func RunLockerTests(t *testing.T, newPair func(t *testing.T) (a, b cluster.Locker)) {
	ctx := context.Background()

	t.Run("a held lock excludes every other holder, on either instance", func(t *testing.T) {
		a, b := newPair(t)
		unlock, held, err := a.TryLock(ctx, "housekeeping")
		require.NoError(t, err)
		require.True(t, held)
		for name, l := range map[string]cluster.Locker{"other instance": b, "same instance": a} {
			u, held, err := l.TryLock(ctx, "housekeeping")
			require.NoError(t, err, name)
			assert.False(t, held, name)
			assert.Nil(t, u, name)
		}
		other, held, err := b.TryLock(ctx, "bootstrap")
		require.NoError(t, err)
		assert.True(t, held, "another name is another lock")
		other()
		unlock()
		again, held, err := b.TryLock(ctx, "housekeeping")
		require.NoError(t, err)
		assert.True(t, held, "free once unlocked")
		again()
	})

	t.Run("Lock waits for the holder to unlock", func(t *testing.T) {
		a, b := newPair(t)
		unlock, err := a.Lock(ctx, "bootstrap")
		require.NoError(t, err)
		got := make(chan error, 1)
		var unlockB func()
		go func() {
			var err error
			unlockB, err = b.Lock(ctx, "bootstrap")
			got <- err
		}()
		select {
		case err := <-got:
			t.Fatalf("Lock returned (%v) while another instance held the lock", err)
		case <-time.After(300 * time.Millisecond):
		}
		unlock()
		select {
		case err := <-got:
			require.NoError(t, err)
		case <-time.After(10 * time.Second):
			t.Fatal("Lock did not return after the holder unlocked")
		}
		_, held, err := a.TryLock(ctx, "bootstrap")
		require.NoError(t, err)
		assert.False(t, held, "the waiter holds it now")
		unlockB()
	})

	t.Run("Lock gives up when its context ends", func(t *testing.T) {
		a, b := newPair(t)
		unlock, err := a.Lock(ctx, "bootstrap")
		require.NoError(t, err)
		defer unlock()
		short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		u, err := b.Lock(short, "bootstrap")
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Nil(t, u)
	})

	t.Run("mutual exclusion under contention", func(t *testing.T) {
		a, b := newPair(t)
		var mu sync.Mutex
		inside, most, entries := 0, 0, 0
		var wg sync.WaitGroup
		errs := make(chan error, 8*5)
		for w := range 8 {
			l := a
			if w%2 == 1 {
				l = b
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 5 {
					unlock, err := l.Lock(ctx, "counter")
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					inside++
					entries++
					most = max(most, inside)
					mu.Unlock()
					time.Sleep(time.Millisecond)
					mu.Lock()
					inside--
					mu.Unlock()
					unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.Equal(t, 40, entries)
		assert.Equal(t, 1, most, "never two holders at once")
	})
}

// RunCanaryTests is the conformance suite of cluster.CanaryStore. newStore
// returns a fresh, empty store.
func RunCanaryTests(t *testing.T, newStore func(t *testing.T) cluster.CanaryStore) {
	ctx := context.Background()
	c1, c2, c3 := []byte("sealed-canary-1"), []byte("sealed-canary-2"), []byte("sealed-canary-3")

	t.Run("an empty store has no canary and holds nothing sealed", func(t *testing.T) {
		st := newStore(t)
		got, err := st.KEKCanary(ctx)
		require.NoError(t, err)
		assert.Nil(t, got)
		holds, err := st.HoldsSealedData(ctx)
		require.NoError(t, err)
		assert.False(t, holds)
	})

	t.Run("the first canary is stored, a second writer gets the first back", func(t *testing.T) {
		st := newStore(t)
		got, err := st.SwapKEKCanary(ctx, nil, c1)
		require.NoError(t, err)
		assert.Equal(t, c1, got)
		got, err = st.SwapKEKCanary(ctx, nil, c2)
		require.NoError(t, err)
		assert.Equal(t, c1, got, "a store with a canary keeps it")
		got, err = st.KEKCanary(ctx)
		require.NoError(t, err)
		assert.Equal(t, c1, got)
		holds, err := st.HoldsSealedData(ctx)
		require.NoError(t, err)
		assert.True(t, holds, "the canary is sealed data")
	})

	t.Run("a swap replaces only the canary it names", func(t *testing.T) {
		st := newStore(t)
		_, err := st.SwapKEKCanary(ctx, nil, c1)
		require.NoError(t, err)
		got, err := st.SwapKEKCanary(ctx, c2, c3)
		require.NoError(t, err)
		assert.Equal(t, c1, got, "old does not match: nothing changes")
		got, err = st.SwapKEKCanary(ctx, c1, c3)
		require.NoError(t, err)
		assert.Equal(t, c3, got)
		got, err = st.KEKCanary(ctx)
		require.NoError(t, err)
		assert.Equal(t, c3, got)
	})

	t.Run("an empty canary is refused", func(t *testing.T) {
		st := newStore(t)
		_, err := st.SwapKEKCanary(ctx, nil, nil)
		assert.ErrorIs(t, err, cluster.ErrEmptyCanary)
		got, err := st.KEKCanary(ctx)
		require.NoError(t, err)
		assert.Nil(t, got)
	})

	t.Run("concurrent first writers agree on one canary", func(t *testing.T) {
		st := newStore(t)
		const n = 8
		results := make([][]byte, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], errs[i] = st.SwapKEKCanary(ctx, nil, fmt.Appendf(nil, "canary-%d", i))
			}()
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			assert.Equal(t, results[0], results[i], "writer %d", i)
		}
		got, err := st.KEKCanary(ctx)
		require.NoError(t, err)
		assert.Equal(t, results[0], got)
	})
}
