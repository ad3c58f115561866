package area_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestReliabilityRadioJunk: a rogue radio in range of the border router and
// of every node puts malformed frames on the air — random octets, valid
// frames truncated, valid frames with bits flipped (FCS wrong) — before and
// during QoS 1 traffic. No node or
// router fails, the DODAG stays formed, every reading is delivered, and the
// junk is counted (medium and stacks count refused input by reason).
func TestReliabilityRadioJunk(t *testing.T) {
	const perNode = 20
	r, tap, rogue := newRogueRig(t)

	rng := rand.New(rand.NewPCG(1, 2))
	offered, accepted := 0, 0
	junk := func() []byte {
		src := tap.pick(rng.IntN)
		switch rng.IntN(3) {
		case 0: // random octets
			b := make([]byte, rng.IntN(128))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return b
		case 1: // a valid frame truncated
			return slices.Clone(src[:rng.IntN(len(src))])
		default: // bits flipped, FCS left wrong
			b := slices.Clone(src)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
			}
			return b
		}
		// Frames with a valid FCS but altered fields (forgeries) are
		// TestReliabilityRadioForged's.
	}
	spray := func(n int) {
		for range n {
			offered++
			if rogue.Transmit(junk()) == nil {
				accepted++ // passed the medium's checks: reaches the radios in range
			}
		}
	}
	r.publishUnderSpray("junk", 21000, perNode, spray, 20, 50, 500*time.Millisecond)
	if !r.formed() {
		t.Fatal("DODAG broken by junk frames")
	}
	refused := uint64(0)
	for _, n := range append(r.nodes, r.a.Router.Stack()) {
		for _, c := range n.Counters().Bad {
			refused += c
		}
	}
	for _, c := range r.a.Medium.Stats().Bad {
		refused += c
	}
	if refused == 0 {
		t.Fatal("no junk frame counted as refused")
	}
	got, _ := r.received()
	t.Logf("%d junk frames offered (%d passed the medium to the radios); %d refusals counted by the medium and the stacks; %d readings delivered; DODAG formed throughout",
		offered, accepted, refused, got)
}
