package memory_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tapis-go/tapis/adapters/bunstore"
	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/internal/testseed"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

// TestSearchRandom: random filters give the same rows, order and count on
// the memory store and on an SQLite store loaded with the same systems.
// The memory store filters with search.Eval, so search.Eval cannot be its
// oracle; the SQLite store is checked against search.Eval (and the fixed
// cases of systemstest.RunSearchTests against hand-computed answers) in its
// own tests. Seeds: internal/testseed (TAPIS_TEST_SEED replays one).
func TestSearchRandom(t *testing.T) {
	testseed.Run(t, []uint64{20260601}, func(t *testing.T, seed uint64) {
		systemstest.RunRandomSearchTestsAgainst(t, func(*testing.T) systems.Store { return memory.New() },
			sqliteStore, int64(seed), 300)
	})
}

// sqliteStore is a migrated SQLite store in a file of the test's temporary
// directory.
func sqliteStore(t *testing.T) systems.Store {
	t.Helper()
	ctx := context.Background()
	st, err := bunstore.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "oracle.db"))
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, st.Close()) })
	require.NoError(t, st.Migrate(ctx))
	return st
}
