package tapis_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/bcrypt"

	"github.com/tapis-go/tapis"
	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/cluster"
	"github.com/tapis-go/tapis/cluster/clustertest"
	"github.com/tapis-go/tapis/internal/testenv"
	"github.com/tapis-go/tapis/oauth2"
	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/tenancy"
)

// twoServers starts a seeded Server A and a second Server B, each on its own
// store opened on one database (two instances of one deployment), with one
// KEK.
func twoServers(t *testing.T, dsn string) (a, b *tapis.Server) {
	t.Helper()
	ctx := context.Background()
	open := func() *bunstore.Store {
		st, err := bunstore.Open(ctx, dsn)
		require.NoError(t, err)
		require.NoError(t, st.Migrate(ctx))
		return st
	}
	kek := seal.NewKey()
	stA := open()
	envA := testenv.NewWithStore(t, stA, nil, func(c *tapis.Config) { c.KEK = kek })
	t.Cleanup(func() { _ = stA.Close() })
	stB := open()
	t.Cleanup(func() { _ = stB.Close() })
	b, err := tapis.New(tapis.Config{Store: stB, KEK: kek, PasswordCost: bcrypt.MinCost})
	require.NoError(t, err)
	t.Cleanup(func() { _ = b.Close() })
	require.NoError(t, envA.Server.CheckKEK(ctx))
	require.NoError(t, b.CheckKEK(ctx))
	return envA.Server, b
}

// kidOf reads the kid of a JWT's header.
func kidOf(t *testing.T, raw string) string {
	t.Helper()
	head, _, ok := strings.Cut(raw, ".")
	require.True(t, ok)
	js, err := base64.RawURLEncoding.DecodeString(head)
	require.NoError(t, err)
	var h struct{ Kid string }
	require.NoError(t, json.Unmarshal(js, &h))
	return h.Kid
}

// within polls cond until it holds, for at most clustertest.Propagation, and
// returns how long it took.
func within(t *testing.T, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > clustertest.Propagation {
			t.Fatalf("%s: not within %s", what, clustertest.Propagation)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// TestChangesReachTheOtherInstance: what one instance changes (a
// revocation, a key rotation, a tenant's status) holds on another sharing
// its database within a second, though the other cached the old state.
func TestChangesReachTheOtherInstance(t *testing.T) {
	backends := map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + filepath.Join(t.TempDir(), "tapis.db") },
		"postgres": func(t *testing.T) string { return testenv.PostgresSchemaDSN(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := twoServers(t, backends[name](t))
			mint := func(s *tapis.Server) string {
				pair, err := s.Tokens().Mint(ctx, oauth2.MintRequest{TenantID: "dev", Username: "testuser1", AccountType: tenancy.AccountUser})
				require.NoError(t, err)
				return pair.Access.Raw
			}
			valid := func(s *tapis.Server, tok string) bool {
				_, err := s.Tokens().Validate(ctx, tok, "access")
				return err == nil
			}

			var revoke []time.Duration
			for i := range 10 {
				tok := mint(a)
				require.True(t, valid(b, tok), "B accepts (and caches) A's token")
				require.True(t, valid(b, tok))
				_, err := a.Tokens().Revoke(ctx, tok)
				require.NoError(t, err)
				assert.False(t, valid(a, tok), "refused at once where revoked")
				revoke = append(revoke, within(t, fmt.Sprintf("revocation %d refused on B", i), func() bool { return !valid(b, tok) }))
			}
			p50, worst := clustertest.Summary(revoke)
			t.Logf("%s revocation A -> B: p50 %s, max %s over %d", name, p50, worst, len(revoke))

			var rotate []time.Duration
			for i := range 5 {
				before := kidOf(t, mint(b)) // B has the key ring cached
				_, err := a.Tokens().RotateKeys(ctx, adminPrincipal(), "dev")
				require.NoError(t, err)
				kid := kidOf(t, mint(a))
				require.NotEqual(t, before, kid, "A signs with the new key at once")
				rotate = append(rotate, within(t, fmt.Sprintf("rotation %d used by B", i), func() bool { return kidOf(t, mint(b)) == kid }))
			}
			p50, worst = clustertest.Summary(rotate)
			t.Logf("%s rotation A -> B: p50 %s, max %s over %d", name, p50, worst, len(rotate))

			tok := mint(a)
			require.True(t, valid(b, tok))
			inactive := tenancy.StatusInactive
			_, err := a.Tenancy().UpdateTenant(ctx, adminPrincipal(), "dev", tenancy.TenantUpdate{Status: &inactive})
			require.NoError(t, err)
			d := within(t, "deactivated tenant refused on B", func() bool { return !valid(b, tok) })
			t.Logf("%s deactivation A -> B: %s", name, d)
			got, err := b.Tenancy().GetTenant(ctx, "dev")
			require.NoError(t, err)
			assert.Equal(t, tenancy.StatusInactive, got.Status, "B's registry has the new status")
		})
	}
}

// TestCheckKEK: the first check writes the canary; a KEK that cannot open
// it is refused with the fix; a previous KEK still opens it, and
// RewrapSecrets moves it to the current KEK.
func TestCheckKEK(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	kek := seal.NewKey()
	first, err := tapis.New(tapis.Config{Store: st, KEK: kek})
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Close() })
	canary, err := st.KEKCanary(ctx)
	require.NoError(t, err)
	require.Nil(t, canary, "New writes nothing")
	require.NoError(t, first.CheckKEK(ctx))
	canary, err = st.KEKCanary(ctx)
	require.NoError(t, err)
	require.NotNil(t, canary, "the first check writes the canary")
	assert.Equal(t, seal.KeyID(kek), seal.SealedKeyID(canary))
	require.NoError(t, first.CheckKEK(ctx), "and opens it again")

	other := seal.NewKey()
	wrong, err := tapis.New(tapis.Config{Store: st, KEK: other})
	require.NoError(t, err)
	t.Cleanup(func() { _ = wrong.Close() })
	err = wrong.CheckKEK(ctx)
	require.ErrorIs(t, err, tapis.ErrWrongKEK)
	assert.ErrorContains(t, err, seal.KeyID(kek), "names the database's KEK")
	assert.ErrorContains(t, err, seal.KeyID(other), "and this server's")
	assert.ErrorContains(t, err, "-kek-file")
	assert.ErrorContains(t, err, "PreviousKEKs")
	assert.NotContains(t, err.Error(), base64.StdEncoding.EncodeToString(kek), "never the key itself")
	again, err := st.KEKCanary(ctx)
	require.NoError(t, err)
	assert.Equal(t, canary, again, "a failed check changes nothing")

	rotated, err := tapis.New(tapis.Config{Store: st, KEK: other, PreviousKEKs: [][]byte{kek}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = rotated.Close() })
	require.NoError(t, rotated.CheckKEK(ctx), "a previous KEK opens it")
	_, err = rotated.RewrapSecrets(ctx)
	require.NoError(t, err)
	canary, err = st.KEKCanary(ctx)
	require.NoError(t, err)
	assert.Equal(t, seal.KeyID(other), seal.SealedKeyID(canary), "rewrapped under the current KEK")
	require.NoError(t, wrong.CheckKEK(ctx), "the new KEK alone opens it now")
	assert.ErrorIs(t, first.CheckKEK(ctx), tapis.ErrWrongKEK, "the old KEK alone no longer does")
}

// TestCheckKEKWithoutCanary: a store sealed before canaries existed is
// checked by opening a sealed signing key; the canary is written only when
// it opens.
func TestCheckKEKWithoutCanary(t *testing.T) {
	ctx := context.Background()
	env := testenv.New(t) // seeded: sealed signing keys, no canary
	canary, err := env.Store.KEKCanary(ctx)
	require.NoError(t, err)
	require.Nil(t, canary)
	holds, err := env.Store.HoldsSealedData(ctx)
	require.NoError(t, err)
	require.True(t, holds)

	wrong, err := tapis.New(tapis.Config{Store: env.Store, KEK: seal.NewKey()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = wrong.Close() })
	err = wrong.CheckKEK(ctx)
	require.ErrorIs(t, err, tapis.ErrWrongKEK)
	assert.ErrorContains(t, err, "signing key")
	canary, err = env.Store.KEKCanary(ctx)
	require.NoError(t, err)
	assert.Nil(t, canary, "a wrong KEK writes no canary")

	require.NoError(t, env.Server.CheckKEK(ctx))
	canary, err = env.Store.KEKCanary(ctx)
	require.NoError(t, err)
	assert.Equal(t, seal.KeyID(env.KEK), seal.SealedKeyID(canary))
}

// TestHousekeepingOneInstanceAtATime: a round is skipped while another
// instance holds the housekeeping lock, and purges old changes when it
// runs.
func TestHousekeepingOneInstanceAtATime(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	srv, err := tapis.New(tapis.Config{Store: st, KEK: seal.NewKey()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	unlock, held, err := st.TryLock(ctx, "housekeeping")
	require.NoError(t, err)
	require.True(t, held)
	assert.False(t, srv.HousekeepOnce(ctx), "another instance holds the lock: skipped")
	unlock()
	assert.True(t, srv.HousekeepOnce(ctx))

	purged := &countingFeed{Feed: st}
	srv2, err := tapis.New(tapis.Config{Store: st, Stores: tapis.Stores{Changes: purged}, KEK: seal.NewKey()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv2.Close() })
	require.True(t, srv2.HousekeepOnce(ctx))
	require.Len(t, purged.before, 1, "old change notifications are purged")
	assert.WithinDuration(t, time.Now().Add(-time.Hour), purged.before[0], time.Minute)
}

// countingFeed records PurgeChanges calls.
type countingFeed struct {
	cluster.Feed
	before []time.Time
}

func (c *countingFeed) PurgeChanges(ctx context.Context, before time.Time) (int, error) {
	c.before = append(c.before, before)
	return c.Feed.PurgeChanges(ctx, before)
}
