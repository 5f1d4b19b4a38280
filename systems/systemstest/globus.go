package systemstest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/systems"
)

// globusWhen has nanoseconds and a zone other than UTC; stores give it back
// in UTC with microsecond precision.
var globusWhen = time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.FixedZone("UTC-5", -5*3600))

// GlobusSession returns a session of tenant for system and user whose id
// and verifier derive from tag.
func GlobusSession(tenant, system, user, tag string) systems.GlobusSession {
	id := fmt.Sprintf("%-43s", "sess-"+tag)[:43]
	return systems.GlobusSession{ID: id, Tenant: tenant, SystemID: system, User: user,
		Collection: "6f1c2e1a-8d0b-4c55-9a3e-0c6b7f2d4e91", Verifier: "verifier-" + tag + "-dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
		Created: globusWhen, Expires: globusWhen.Add(systems.GlobusSessionTTL)}
}

func keyOf(s systems.GlobusSession) systems.GlobusSessionKey {
	return systems.GlobusSessionKey{Tenant: s.Tenant, SystemID: s.SystemID, User: s.User, ID: s.ID}
}

// storedSession is s as every store gives it back.
func storedSession(s systems.GlobusSession) systems.GlobusSession {
	s.Created = s.Created.UTC().Truncate(time.Microsecond)
	s.Expires = s.Expires.UTC().Truncate(time.Microsecond)
	return s
}

// assertSession compares sessions field by field (GlobusSession's String
// redacts, so a failed assert.Equal would show nothing useful).
func assertSession(t *testing.T, want, got systems.GlobusSession) {
	t.Helper()
	type plain systems.GlobusSession
	assert.Equal(t, plain(storedSession(want)), plain(got))
	assert.Equal(t, time.UTC, got.Expires.Location(), "times come back in UTC")
}

// RunGlobusSessionTests runs the conformance suite of
// systems.GlobusSessionStore against fresh, empty stores from newStore.
func RunGlobusSessionTests(t *testing.T, newStore func(t *testing.T) systems.GlobusSessionStore) {
	ctx := context.Background()
	t.Run("put then take returns every field, once", func(t *testing.T) {
		st := newStore(t)
		s := GlobusSession("dev", "gl1", "alice", "once")
		require.NoError(t, st.PutGlobusSession(ctx, s))
		got, err := st.TakeGlobusSession(ctx, keyOf(s))
		require.NoError(t, err)
		assertSession(t, s, got)
		_, err = st.TakeGlobusSession(ctx, keyOf(s))
		require.ErrorIs(t, err, systems.ErrNotFound, "a session is taken once")
	})
	t.Run("the binding must match: another user, system or tenant takes nothing", func(t *testing.T) {
		st := newStore(t)
		s := GlobusSession("dev", "gl1", "alice", "bound")
		require.NoError(t, st.PutGlobusSession(ctx, s))
		for _, k := range []systems.GlobusSessionKey{
			{Tenant: "dev", SystemID: "gl1", User: "mallory", ID: s.ID},
			{Tenant: "dev", SystemID: "gl2", User: "alice", ID: s.ID},
			{Tenant: "other", SystemID: "gl1", User: "alice", ID: s.ID},
			{Tenant: "dev", SystemID: "gl1", User: "Alice", ID: s.ID},
			{Tenant: "dev", SystemID: "gl1", User: "alice", ID: s.ID[:42] + "x"},
			{Tenant: "dev", SystemID: "gl1", User: "", ID: s.ID},
		} {
			_, err := st.TakeGlobusSession(ctx, k)
			require.ErrorIs(t, err, systems.ErrNotFound, "%+v", k)
		}
		got, err := st.TakeGlobusSession(ctx, keyOf(s))
		require.NoError(t, err, "failed attempts leave the session to its owner")
		assertSession(t, s, got)
	})
	t.Run("an id is unique per tenant only", func(t *testing.T) {
		st := newStore(t)
		a := GlobusSession("dev", "gl1", "alice", "dup")
		require.NoError(t, st.PutGlobusSession(ctx, a))
		b := GlobusSession("dev", "gl2", "bob", "dup")
		require.ErrorIs(t, st.PutGlobusSession(ctx, b), systems.ErrAlreadyExists)
		o := GlobusSession("other", "gl1", "alice", "dup")
		o.Verifier = "the-other-tenant-verifier-0123456789abcdefghijk"
		require.NoError(t, st.PutGlobusSession(ctx, o))
		got, err := st.TakeGlobusSession(ctx, keyOf(o))
		require.NoError(t, err)
		assertSession(t, o, got)
		got, err = st.TakeGlobusSession(ctx, keyOf(a))
		require.NoError(t, err)
		assertSession(t, a, got)
	})
	t.Run("concurrent takes: exactly one wins", func(t *testing.T) {
		st := newStore(t)
		s := GlobusSession("dev", "gl1", "alice", "race")
		require.NoError(t, st.PutGlobusSession(ctx, s))
		const n = 8
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			won  int
			errs []error
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := st.TakeGlobusSession(ctx, keyOf(s))
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					won++
				} else {
					errs = append(errs, err)
				}
			}()
		}
		wg.Wait()
		assert.Equal(t, 1, won)
		for _, err := range errs {
			assert.ErrorIs(t, err, systems.ErrNotFound)
		}
	})
	t.Run("expired sessions are returned; purge removes them", func(t *testing.T) {
		st := newStore(t)
		old := GlobusSession("dev", "gl1", "alice", "old")
		old.Expires = globusWhen.Add(-time.Hour)
		older := GlobusSession("other", "gl1", "alice", "older")
		older.Expires = globusWhen.Add(-2 * time.Hour)
		live := GlobusSession("dev", "gl1", "alice", "live")
		stale := GlobusSession("dev", "gl1", "alice", "stale")
		stale.Expires = globusWhen.Add(-time.Minute)
		for _, s := range []systems.GlobusSession{old, older, live, stale} {
			require.NoError(t, st.PutGlobusSession(ctx, s))
		}
		got, err := st.TakeGlobusSession(ctx, keyOf(stale))
		require.NoError(t, err, "the store returns an expired session; the caller decides")
		assertSession(t, stale, got)

		n, err := st.PurgeGlobusSessions(ctx, globusWhen)
		require.NoError(t, err)
		assert.Equal(t, 2, n, "both expired sessions, of every tenant")
		for _, s := range []systems.GlobusSession{old, older} {
			_, err := st.TakeGlobusSession(ctx, keyOf(s))
			assert.ErrorIs(t, err, systems.ErrNotFound)
		}
		got, err = st.TakeGlobusSession(ctx, keyOf(live))
		require.NoError(t, err, "a live session survives the purge")
		assertSession(t, live, got)
		n, err = st.PurgeGlobusSessions(ctx, globusWhen)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
	t.Run("odd characters stay apart", func(t *testing.T) {
		st := newStore(t)
		a := GlobusSession("dev", "a|b", "c", "odd-a")
		b := GlobusSession("dev", "a", "b|c", "odd-a")
		b.Tenant = "dév"
		require.NoError(t, st.PutGlobusSession(ctx, a))
		require.NoError(t, st.PutGlobusSession(ctx, b))
		_, err := st.TakeGlobusSession(ctx, systems.GlobusSessionKey{Tenant: "dev", SystemID: "a", User: "b|c", ID: a.ID})
		require.ErrorIs(t, err, systems.ErrNotFound)
		got, err := st.TakeGlobusSession(ctx, keyOf(b))
		require.NoError(t, err)
		assertSession(t, b, got)
	})
}
