package stack

import "github.com/lsmqtt/lsmqtt/rpl/ieee802154"

// Frame Pending bursts (IEEE 802.15.4-2006 §7.2.1.1.3; ContikiMAC's
// bursts, Contiki's contikimac.c: a receiver keeps its radio on after a
// frame with the pending bit set).
// A strobing sender (Config.StrobeTime) that has another frame queued for
// the same neighbour right behind the unicast frame it sends sets the
// frame's Frame Pending bit; a duty-cycled receiver that gets a unicast
// frame for it with the bit set stays on BurstHold after its ACK, so the
// next frame — sent an ACK and a LIFS later — gets through without waiting
// for the receiver's next channel check. The fragment hold (a 6LoWPAN
// fragment with more of its datagram behind it) is the same rule for a
// burst the receiver can tell from the payload.
//
// The PSDU is built at enqueue; the bit is patched in at transmit time
// and the FCS recomputed in place (no allocation). Each repetition of a
// strobe looks at the queue again, so a datagram queued a moment after
// its predecessor's strobe began (a gateway writing two answers one after
// the other) still sets the bit on the later repetitions, the ones a
// sleeping receiver hears. Once set the bit stays set on every later
// repetition and retry (the queue behind a frame in flight only grows).
// An always-on network (no StrobeTime) never sets it, so its frames stay
// octet-identical to what they were.

// fcfFramePending is the Frame Pending bit in the frame control field's
// first octet (bit 4, §7.2.1.1).
const fcfFramePending = 1 << 4

// markPending sets Frame Pending on the unicast frame f, about to be sent,
// if the frame queued right behind it goes to the same neighbour.
func (s *Stack) markPending(f *txFrame) {
	if f.pending || !f.ack || s.cfg.StrobeTime <= 0 || len(s.mac.queue) == 0 || s.mac.queue[0].dst != f.dst {
		return
	}
	f.pending = true
	setFramePending(f.psdu)
}

// setFramePending sets the Frame Pending bit of a PSDU and recomputes its FCS.
func setFramePending(psdu []byte) {
	psdu[0] |= fcfFramePending
	n := len(psdu) - ieee802154.FCSLen
	c := ieee802154.FCS(psdu[:n])
	psdu[n], psdu[n+1] = byte(c), byte(c>>8)
}

// dedupFCS is the FCS duplicate detection compares: the frame's own, or for
// a frame with Frame Pending set, the FCS it would have without the bit. A
// strobe repetition that gained the bit after an earlier one was received
// (and its ACK lost) is still the same frame.
func dedupFCS(psdu []byte, pending bool) uint16 {
	if !pending {
		return frameFCS(psdu)
	}
	var buf [ieee802154.MaxPSDU]byte
	n := copy(buf[:], psdu[:len(psdu)-ieee802154.FCSLen])
	buf[0] &^= fcfFramePending
	return ieee802154.FCS(buf[:n])
}
