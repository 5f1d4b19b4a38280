//go:build !race

package bunstore_test

// raceEnabled reports whether the race detector is on.
const raceEnabled = false
