package testutil

import "testing"

// AssertAllocs fails the test when f allocates more than max times per run on
// average. It skips under the race detector, which allocates on its own.
func AssertAllocs(t *testing.T, max float64, f func()) {
	t.Helper()
	if RaceEnabled {
		t.Skip("allocation counts are not meaningful under -race")
	}
	if n := testing.AllocsPerRun(100, f); n > max {
		t.Fatalf("allocations per run = %v, want <= %v", n, max)
	}
}
