package bunstore_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

// searchRandomRounds is the number of random filters per seed.
const searchRandomRounds = 300

// searchRandomSeeds are a fixed seed and one from the clock, or only
// TAPIS_SEARCH_SEED when it is set (to replay a failure).
func searchRandomSeeds(t *testing.T) []int64 {
	if s, err := strconv.ParseInt(os.Getenv("TAPIS_SEARCH_SEED"), 10, 64); err == nil {
		return []int64{s}
	}
	now := time.Now().UnixNano()
	t.Logf("random search seeds: 20260601 and %d (replay one with TAPIS_SEARCH_SEED=<seed>)", now)
	return []int64{20260601, now}
}

func runSearchRandom(t *testing.T, open backend) {
	for _, seed := range searchRandomSeeds(t) {
		t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
			systemstest.RunRandomSearchTests(t, func(t *testing.T) systems.Store { return open(t) }, seed, searchRandomRounds)
		})
	}
}

// TestSearchRandomSQLiteFile: random filters agree between the SQLite store
// and search.Eval.
func TestSearchRandomSQLiteFile(t *testing.T) { runSearchRandom(t, sqliteFile) }

// TestSearchRandomPostgres skips unless TAPIS_TEST_POSTGRES_DSN is set.
func TestSearchRandomPostgres(t *testing.T) { runSearchRandom(t, postgres(t)) }
