package memory_test

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tapis-go/tapis/adapters/memory"
	"github.com/tapis-go/tapis/systems"
	"github.com/tapis-go/tapis/systems/systemstest"
)

// TestSearchRandom: random filters agree between the memory store and
// search.Eval (a fixed seed and one from the clock, or only
// TAPIS_SEARCH_SEED when it is set).
func TestSearchRandom(t *testing.T) {
	seeds := []int64{20260601, time.Now().UnixNano()}
	if s, err := strconv.ParseInt(os.Getenv("TAPIS_SEARCH_SEED"), 10, 64); err == nil {
		seeds = []int64{s}
	} else {
		t.Logf("random search seeds: %d (replay one with TAPIS_SEARCH_SEED=<seed>)", seeds)
	}
	for _, seed := range seeds {
		t.Run(strconv.FormatInt(seed, 10), func(t *testing.T) {
			systemstest.RunRandomSearchTests(t, func(*testing.T) systems.Store { return memory.New() }, seed, 300)
		})
	}
}
