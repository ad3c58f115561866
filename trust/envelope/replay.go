package envelope

// WindowSize is the number of sequence numbers a replay window remembers
// below the highest one seen (RFC 4303 §3.4.3 style sliding window).
const WindowSize = 64

// Window is a sliding anti-replay window over 32-bit sequence numbers.
// The zero value has seen nothing. It is not safe for concurrent use.
type Window struct {
	top    uint32 // highest accepted sequence number, 0 = none
	bitmap uint64 // bit i set: top-i was accepted
}

// Check reports whether seq is new (neither seen nor too old). It does not
// record seq: call Accept once the message has been authenticated.
func (w *Window) Check(seq uint32) bool {
	if seq == 0 {
		return false
	}
	if seq > w.top {
		return true
	}
	d := w.top - seq
	if d >= WindowSize {
		return false // too old to tell: treated as a replay
	}
	return w.bitmap&(1<<d) == 0
}

// Accept records seq, which Check said is new.
func (w *Window) Accept(seq uint32) {
	if seq > w.top {
		shift := seq - w.top
		if shift >= WindowSize {
			w.bitmap = 0
		} else {
			w.bitmap <<= shift
		}
		w.bitmap |= 1
		w.top = seq
		return
	}
	w.bitmap |= 1 << (w.top - seq)
}
