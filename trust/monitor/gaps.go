package monitor

// seqTracker finds the sequence numbers that never arrived from one sender
// under one key (trust/envelope: 1, 2, 3, ... per key).
type seqTracker struct {
	highest uint32
	missing map[uint32]struct{} // below highest, not (yet) seen
	// dropped counts missing numbers forgotten because the set was full:
	// they stay counted as missing.
	dropped uint64
}

// maxMissing bounds the remembered missing numbers per sender and key.
const maxMissing = 4096

// see records seq and returns how many numbers it newly found missing and
// whether it filled an earlier gap (a late arrival). A number at or below
// the highest that is not missing is a duplicate (dup true).
func (t *seqTracker) see(seq uint32) (newMissing uint32, late, dup bool) {
	switch {
	case seq > t.highest:
		for s := t.highest + 1; s < seq; s++ {
			if len(t.missing) >= maxMissing {
				t.dropped += uint64(seq - s)
				break
			}
			if t.missing == nil {
				t.missing = make(map[uint32]struct{})
			}
			t.missing[s] = struct{}{}
		}
		newMissing = seq - t.highest - 1
		t.highest = seq
		return newMissing, false, false
	default:
		if _, ok := t.missing[seq]; ok {
			delete(t.missing, seq)
			return 0, true, false
		}
		return 0, false, true
	}
}

// open is the count of numbers still missing.
func (t *seqTracker) open() uint64 { return uint64(len(t.missing)) + t.dropped }

// gapKey identifies one sequence-number space.
type gapKey struct {
	sender uint16
	keyID  uint32
}
