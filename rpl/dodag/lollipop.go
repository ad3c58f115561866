package dodag

// Lollipop sequence counters (RFC 6550 §7.2) for DODAG versions, DTSNs,
// DAO and path sequences.
const (
	lollipopInit   = 240 // 256 − SEQUENCE_WINDOW
	circularRegion = 127
	sequenceWindow = 16
)

// lollipopNext increments a lollipop counter.
func lollipopNext(v uint8) uint8 {
	if v >= 128 {
		return v + 1 // 255 wraps to 0, into the circular region
	}
	return (v + 1) & circularRegion
}

// lollipopGreater reports whether a is newer than b (RFC 6550 §7.2).
func lollipopGreater(a, b uint8) bool {
	switch {
	case a > circularRegion && b <= circularRegion:
		// a in the straight part, b circular: a is newer only if the gap
		// is too large to be a recent wrap.
		return 256+int(b)-int(a) > sequenceWindow
	case a <= circularRegion && b > circularRegion:
		return 256+int(a)-int(b) <= sequenceWindow
	}
	if a == b {
		return false
	}
	// Same region: serial arithmetic within the window.
	if a > b {
		return int(a)-int(b) <= sequenceWindow
	}
	mod := 256
	if a <= circularRegion {
		mod = 128
	}
	return mod+int(a)-int(b) <= sequenceWindow
}
