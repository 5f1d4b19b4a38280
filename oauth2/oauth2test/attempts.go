package oauth2test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/oauth2"
)

// RunAttemptStoreTests is the conformance suite of oauth2.AttemptStore, the
// limiter's counters. Every adapter runs it with a fresh store per sub-test.
func RunAttemptStoreTests(t *testing.T, newStore func(t *testing.T) oauth2.AttemptStore) {
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	read := func(t *testing.T, st oauth2.AttemptStore, keys ...string) []oauth2.AttemptState {
		t.Helper()
		var out []oauth2.AttemptState
		require.NoError(t, st.UpdateAttempts(ctx, keys, func(s []oauth2.AttemptState) error {
			out = append([]oauth2.AttemptState(nil), s...)
			return nil
		}))
		return out
	}

	t.Run("unknown keys read as zero and fn's changes are stored", func(t *testing.T) {
		st := newStore(t)
		assert.Equal(t, []oauth2.AttemptState{{}, {}}, read(t, st, "a", "b"))
		require.NoError(t, st.UpdateAttempts(ctx, []string{"a", "b"}, func(s []oauth2.AttemptState) error {
			s[0] = oauth2.AttemptState{Count: 2, Last: at, Expires: at.Add(time.Hour)}
			s[1] = oauth2.AttemptState{Count: 7, Last: at.Add(time.Second), Expires: at.Add(time.Minute)}
			return nil
		}))
		got := read(t, st, "b", "a", "c")
		require.Len(t, got, 3)
		assert.Equal(t, 7, got[0].Count)
		assert.True(t, at.Add(time.Second).Equal(got[0].Last), "Last kept: %v", got[0].Last)
		assert.True(t, at.Add(time.Minute).Equal(got[0].Expires))
		assert.Equal(t, 2, got[1].Count)
		assert.Equal(t, oauth2.AttemptState{}, got[2])
	})

	t.Run("an error from fn stores nothing", func(t *testing.T) {
		st := newStore(t)
		boom := errors.New("refused")
		err := st.UpdateAttempts(ctx, []string{"k"}, func(s []oauth2.AttemptState) error {
			s[0] = oauth2.AttemptState{Count: 1, Last: at, Expires: at.Add(time.Hour)}
			return boom
		})
		assert.ErrorIs(t, err, boom)
		assert.Equal(t, oauth2.AttemptState{}, read(t, st, "k")[0])
	})

	t.Run("a zero state deletes the key", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.UpdateAttempts(ctx, []string{"k"}, func(s []oauth2.AttemptState) error {
			s[0] = oauth2.AttemptState{Count: 1, Last: at, Expires: at.Add(time.Hour)}
			return nil
		}))
		require.NoError(t, st.UpdateAttempts(ctx, []string{"k"}, func(s []oauth2.AttemptState) error {
			s[0] = oauth2.AttemptState{}
			return nil
		}))
		n, err := st.PurgeAttempts(ctx, at.Add(1000*time.Hour))
		require.NoError(t, err)
		assert.Zero(t, n, "nothing left to purge")
	})

	t.Run("parallel updates of one key never lose a count", func(t *testing.T) {
		st := newStore(t)
		const n = 40
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys := []string{"shared", fmt.Sprintf("own-%d", i)}
				errs <- st.UpdateAttempts(ctx, keys, func(s []oauth2.AttemptState) error {
					s[0] = oauth2.AttemptState{Count: s[0].Count + 1, Last: at, Expires: at.Add(time.Hour)}
					s[1] = oauth2.AttemptState{Count: 1, Last: at, Expires: at.Add(time.Hour)}
					return nil
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		assert.Equal(t, n, read(t, st, "shared")[0].Count)
	})

	t.Run("parallel successes and failures on shared keys neither fail nor deadlock", func(t *testing.T) {
		// A success zeroes (deletes) the keys a failure counts: on a store
		// with row locks, a key deleted by one transaction while another
		// waits for it must not make the other lock out of order.
		st := newStore(t)
		const n = 60
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				keys := []string{"c|client|addr", "c|client", "a|addr", fmt.Sprintf("u|%d", i%4)}
				errs <- st.UpdateAttempts(ctx, keys, func(s []oauth2.AttemptState) error {
					for j := range s {
						if i%2 == 0 {
							s[j] = oauth2.AttemptState{}
						} else {
							s[j] = oauth2.AttemptState{Count: s[j].Count + 1, Last: at, Expires: at.Add(time.Hour)}
						}
					}
					return nil
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		got := read(t, st, "c|client")[0]
		assert.LessOrEqual(t, got.Count, n/2, "a count never exceeds the failures")
	})

	t.Run("purge forgets what expired before the cutoff only", func(t *testing.T) {
		st := newStore(t)
		require.NoError(t, st.UpdateAttempts(ctx, []string{"old", "new"}, func(s []oauth2.AttemptState) error {
			s[0] = oauth2.AttemptState{Count: 3, Last: at, Expires: at.Add(time.Minute)}
			s[1] = oauth2.AttemptState{Count: 4, Last: at, Expires: at.Add(time.Hour)}
			return nil
		}))
		n, err := st.PurgeAttempts(ctx, at.Add(30*time.Minute))
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		got := read(t, st, "old", "new")
		assert.Equal(t, oauth2.AttemptState{}, got[0])
		assert.Equal(t, 4, got[1].Count)
	})

	t.Run("keys are compared exactly", func(t *testing.T) {
		st := newStore(t)
		long := fmt.Sprintf("p|a|dev|%0300d|2001:db8::1", 7)
		require.NoError(t, st.UpdateAttempts(ctx, []string{long, "K"}, func(s []oauth2.AttemptState) error {
			s[0] = oauth2.AttemptState{Count: 5, Last: at, Expires: at.Add(time.Hour)}
			s[1] = oauth2.AttemptState{Count: 6, Last: at, Expires: at.Add(time.Hour)}
			return nil
		}))
		got := read(t, st, long, "k", "K")
		assert.Equal(t, 5, got[0].Count)
		assert.Equal(t, 0, got[1].Count, "keys are case-sensitive")
		assert.Equal(t, 6, got[2].Count)
	})
}
