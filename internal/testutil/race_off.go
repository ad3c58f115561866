//go:build !race

package testutil

// RaceEnabled is true when the race detector is on; allocation counts are
// meaningless under it.
const RaceEnabled = false
