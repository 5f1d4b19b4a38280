// Package testseed gives randomized tests their seeds, so that every run
// explores new ones while any failure can be replayed:
//
//   - by default, the fixed seeds a test names (failures found before, kept
//     as regressions) plus one seed from the clock, new on every run;
//   - with TAPIS_TEST_SEED=<n>[,<n>...], only those seeds (to replay).
//
// Run names each sub-test seed=<n> and, when one fails, logs the command
// that replays it. It imports nothing of the project, so any package's
// tests may use it.
package testseed

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Env is the variable that replaces the seeds of every randomized test.
const Env = "TAPIS_TEST_SEED"

// Seeds returns the seeds a randomized test runs: those of TAPIS_TEST_SEED
// when it is set (a malformed value fails the test), else fixed plus one
// from the clock.
func Seeds(t testing.TB, fixed ...uint64) []uint64 {
	t.Helper()
	if v := strings.TrimSpace(os.Getenv(Env)); v != "" {
		var out []uint64
		for _, f := range strings.Split(v, ",") {
			s, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: want seeds (unsigned integers) separated by commas", Env, v)
			}
			out = append(out, s)
		}
		return out
	}
	clock := uint64(time.Now().UnixNano())
	t.Logf("random seeds: fixed %v and %d from the clock (replay one with %s=<seed>)", fixed, clock, Env)
	return append(append([]uint64(nil), fixed...), clock)
}

// Run runs f as a sub-test named seed=<n> for every seed of Seeds; a
// failing sub-test logs how to replay it.
func Run(t *testing.T, fixed []uint64, f func(t *testing.T, seed uint64)) {
	t.Helper()
	for _, seed := range Seeds(t, fixed...) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			t.Cleanup(func() {
				if t.Failed() {
					top, _, _ := strings.Cut(t.Name(), "/")
					t.Logf("replay this failure: %s=%d go test -run '^%s$' <this package>", Env, seed, top)
				}
			})
			f(t, seed)
		})
	}
}
