package area_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// TestReliabilityRadioJunk: a rogue radio in range of the border router and
// of every node puts malformed frames on the air — random octets, valid
// frames truncated, valid frames with bits flipped (FCS wrong) — before and
// during QoS 1 traffic. No node or
// router fails, the DODAG stays formed, every reading is delivered, and the
// junk is counted (medium and stacks count refused input by reason).
func TestReliabilityRadioJunk(t *testing.T) {
	const perNode = 20
	tap := &frameTap{}
	r := newReliabilityRig(t, medium.Config{Range: 50, Seed: 3, Capture: tap},
		medium.Position{X: 30}, medium.Position{X: -30}, medium.Position{X: 60})
	rogue := r.rogue()
	if ok, _ := r.drv.RunUntil(r.ctx, r.formed, 5*time.Minute); !ok {
		t.Fatal("DODAG not formed")
	}

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
	for range 20 {
		spray(50)
		r.drv.RunFor(r.ctx, 500*time.Millisecond)
	}
	// During the traffic: a junk frame every 100 ms of virtual time.
	stopSpray := r.spray(func() { spray(1) })

	r.dial("junk", 21000)
	reading := func(i, k int) (string, string) { return fmt.Sprintf("ward/j%d", i), fmt.Sprintf("j%d-%d", i, k) }
	_, err := r.publish(20*time.Minute, perNode, reading)
	stopSpray()
	if err != nil {
		t.Fatalf("publishing among junk frames: %v", err)
	}
	if err := r.delivered(r.readings(perNode, reading)); err != nil {
		t.Fatal(err)
	}
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
