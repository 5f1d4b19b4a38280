package bunstore_test

import (
	"testing"

	"github.com/tapis-go/tapis/internal/testseed"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

// searchRandomRounds is the number of random filters per seed.
const searchRandomRounds = 300

// runSearchRandom checks the store against search.Eval on random filters
// for the seeds of internal/testseed (a fixed one and one from the clock;
// TAPIS_TEST_SEED replays one).
func runSearchRandom(t *testing.T, open backend) {
	testseed.Run(t, []uint64{20260601}, func(t *testing.T, seed uint64) {
		systemstest.RunRandomSearchTests(t, func(t *testing.T) systems.Store { return open(t) }, int64(seed), searchRandomRounds)
	})
}

// TestSearchRandomSQLiteFile: random filters agree between the SQLite store
// and search.Eval.
func TestSearchRandomSQLiteFile(t *testing.T) { runSearchRandom(t, sqliteFile) }

// TestSearchRandomPostgres skips unless TAPIS_TEST_POSTGRES_DSN is set.
func TestSearchRandomPostgres(t *testing.T) { runSearchRandom(t, postgres(t)) }
