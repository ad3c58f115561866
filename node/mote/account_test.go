package mote

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// A known sequence of frames gives known ticks, computed here from the
// documented rules: a 60-octet data frame sent (CCA before it), its ACK
// received (turnaround), an 80-octet frame received, our ACK sent
// (turnaround), a 40-octet frame overheard, two unacknowledged attempts.
func TestFrameAccountingRules(t *testing.T) {
	p, _ := profile.Load("z1")
	m := energy.NewMeter(p)
	a := newRadioAccount(m, true, false)
	a.frame(stack.Tx, 60)
	a.frame(stack.Rx, 5)
	a.frame(stack.Rx, 80)
	a.frame(stack.Tx, 5)
	a.frame(stack.Overheard, 40)
	a.unacked(2)
	s := m.Snapshot()
	txBits := uint64(6+60+6+5) * 8
	rxBits := uint64(6+5+6+80+6+40) * 8
	listen := 128*time.Microsecond + 2*192*time.Microsecond + 2*864*time.Microsecond
	if want := txBits * 32768 / 250000; s.Ticks.TX != want {
		t.Errorf("TX %d ticks, want %d", s.Ticks.TX, want)
	}
	if want := rxBits*32768/250000 + uint64(listen)*32768/uint64(time.Second); s.Ticks.RX != want {
		t.Errorf("RX %d ticks, want %d", s.Ticks.RX, want)
	}
	// Stack cycles for the two data frames, none for ACKs or overheard ones.
	if s.Cycles.Stack != 2*p.StackCyclesPerFrame {
		t.Errorf("stack cycles %d, want %d", s.Cycles.Stack, 2*p.StackCyclesPerFrame)
	}
	c := a.counts()
	if c.TxFrames != 2 || c.RxFrames != 2 || c.TxAcks != 1 || c.RxAcks != 1 || c.OverheardFrames != 1 || c.UnackedAttempts != 2 {
		t.Errorf("counts %+v", c)
	}
	// Not counting overheard frames leaves their airtime out.
	m2 := energy.NewMeter(p)
	newRadioAccount(m2, false, false).frame(stack.Overheard, 40)
	if m2.Snapshot().Ticks.RX != 0 {
		t.Error("an ignored overheard frame was charged")
	}
}

// Duty-cycled, the same frames charge airtime and CPU only; the listening
// is what the stack reports (listen), once, and the profile's idle-listen
// fraction is not added on top (New zeroes it in the meter's profile).
func TestFrameAccountingDutyCycled(t *testing.T) {
	p, _ := profile.Load("z1")
	m := energy.NewMeter(p)
	a := newRadioAccount(m, true, true)
	a.frame(stack.Tx, 60)
	a.frame(stack.Rx, 5)
	a.unacked(2)
	a.listen(3 * time.Millisecond)
	a.listen(-time.Millisecond) // ignored
	s := m.Snapshot()
	rxBits := uint64(6+5) * 8
	if want := rxBits*32768/250000 + uint64(3*time.Millisecond)*32768/uint64(time.Second); s.Ticks.RX != want {
		t.Errorf("RX %d ticks, want %d (the frame and the reported listening only)", s.Ticks.RX, want)
	}
	if c := a.counts(); c.Listen != 3*time.Millisecond || c.UnackedAttempts != 2 {
		t.Errorf("counts %+v", c)
	}
}

func TestFrameAccountingAllocs(t *testing.T) {
	p, _ := profile.Load("z1")
	a := newRadioAccount(energy.NewMeter(p), true, false)
	testutil.AssertAllocs(t, 0, func() {
		a.frame(stack.Tx, 76)
		a.frame(stack.Rx, 5)
	})
}

func BenchmarkFrameAccounting(b *testing.B) {
	p, _ := profile.Load("z1")
	a := newRadioAccount(energy.NewMeter(p), true, false)
	b.ReportAllocs()
	for b.Loop() {
		a.frame(stack.Tx, 76)
	}
}

func BenchmarkLinkModelFrames(b *testing.B) {
	lm := DefaultLinkModel()
	buf := make([]int, 0, 16)
	b.ReportAllocs()
	for b.Loop() {
		buf = lm.Frames(buf[:0], 600)
	}
}
