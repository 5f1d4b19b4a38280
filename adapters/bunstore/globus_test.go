package bunstore_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/seal"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

func runGlobusSessions(t *testing.T, open backend) {
	t.Run("conformance", func(t *testing.T) {
		systemstest.RunGlobusSessionTests(t, func(t *testing.T) systems.GlobusSessionStore {
			return open(t).GlobusSessions(newSealer(t))
		})
	})
	t.Run("SealedAndBound", func(t *testing.T) { testGlobusSessionSealed(t, open) })
}

func TestGlobusSessionsSQLiteFile(t *testing.T) { runGlobusSessions(t, sqliteFile) }

// TestGlobusSessionsPostgres skips unless TAPIS_TEST_POSTGRES_DSN is set.
func TestGlobusSessionsPostgres(t *testing.T) { runGlobusSessions(t, postgres(t)) }

// testGlobusSessionSealed: the verifier is not in the database in the
// clear; a sealed verifier moved to another session does not open (and the
// failed take removes nothing); another server's KEK opens nothing.
func testGlobusSessionSealed(t *testing.T, open backend) {
	ctx := context.Background()
	st := open(t)
	sealer := newSealer(t)
	gs := st.GlobusSessions(sealer)
	alice := systemstest.GlobusSession("dev", "gl1", "alice", "alice")
	bob := systemstest.GlobusSession("dev", "gl1", "bob", "bob")
	require.NoError(t, gs.PutGlobusSession(ctx, alice))
	require.NoError(t, gs.PutGlobusSession(ctx, bob))

	var raw [][]byte
	require.NoError(t, st.DB().NewSelect().Table("globus_sessions").Column("sealed").Scan(ctx, &raw))
	require.Len(t, raw, 2)
	for _, r := range raw {
		assert.False(t, bytes.Contains(r, []byte(alice.Verifier)), "no verifier in the clear")
		assert.False(t, bytes.Contains(r, []byte(bob.Verifier)), "no verifier in the clear")
	}

	var stolen []byte
	require.NoError(t, st.DB().NewSelect().Table("globus_sessions").Column("sealed").
		Where("tenant_id = ?", "dev").Where("id = ?", alice.ID).Scan(ctx, &stolen))
	_, err := st.DB().NewUpdate().Table("globus_sessions").Set("sealed = ?", stolen).
		Where("tenant_id = ?", "dev").Where("id = ?", bob.ID).Exec(ctx)
	require.NoError(t, err)
	bobKey := systems.GlobusSessionKey{Tenant: "dev", SystemID: "gl1", User: "bob", ID: bob.ID}
	got, err := gs.TakeGlobusSession(ctx, bobKey)
	require.ErrorIs(t, err, seal.ErrOpen, "alice's verifier does not open as bob's")
	assert.Empty(t, got.Verifier)
	assert.NotContains(t, err.Error(), alice.Verifier)

	aliceKey := systems.GlobusSessionKey{Tenant: "dev", SystemID: "gl1", User: "alice", ID: alice.ID}
	_, err = st.GlobusSessions(newSealer(t)).TakeGlobusSession(ctx, aliceKey)
	require.ErrorIs(t, err, seal.ErrOpen, "another KEK opens nothing")
	got, err = gs.TakeGlobusSession(ctx, aliceKey)
	require.NoError(t, err, "a take that failed to open removed nothing")
	assert.Equal(t, alice.Verifier, got.Verifier)
}
