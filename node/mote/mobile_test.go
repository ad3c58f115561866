package mote

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/node/profile"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// MobileStack fills in the mobile parameters where the config leaves them
// zero, keeps what it sets, and always makes the node an RPL leaf.
func TestMobileStack(t *testing.T) {
	if got, want := MobileAckWait(0), 5120*time.Microsecond; got != want {
		t.Errorf("MobileAckWait(0) = %v, want %v (airtime of 127 octets + 864 µs)", got, want)
	}
	if got, want := MobileAckWait(time.Millisecond), 7120*time.Microsecond; got != want {
		t.Errorf("MobileAckWait(1 ms) = %v, want %v", got, want)
	}
	sc := MobileStack(stack.Config{}, 0)
	if sc.AckWait != MobileAckWait(0) || sc.RPL.ParentFailThreshold != MobileParentFailThreshold ||
		sc.RPL.DAODelay != MobileDAODelay || !sc.RPL.Leaf {
		t.Errorf("MobileStack(zero) = AckWait %v, ParentFailThreshold %d, DAODelay %v, Leaf %v",
			sc.AckWait, sc.RPL.ParentFailThreshold, sc.RPL.DAODelay, sc.RPL.Leaf)
	}
	var set stack.Config
	set.AckWait, set.RPL.ParentFailThreshold, set.RPL.DAODelay = 9*time.Millisecond, 3, time.Second
	sc = MobileStack(set, 0)
	if sc.AckWait != set.AckWait || sc.RPL.ParentFailThreshold != 3 || sc.RPL.DAODelay != time.Second || !sc.RPL.Leaf {
		t.Errorf("MobileStack overrode what was set: %v %d %v %v", sc.AckWait, sc.RPL.ParentFailThreshold, sc.RPL.DAODelay, sc.RPL.Leaf)
	}
}

func TestChannelCheckInterval(t *testing.T) {
	p, err := profile.Load("z1")
	if err != nil {
		t.Fatal(err)
	}
	if got := ChannelCheckInterval(p); got != 125*time.Millisecond {
		t.Errorf("z1: %v, want 125 ms (8 Hz)", got)
	}
	q := p.Clone()
	q.MAC.ChannelCheckHz = 0
	if got := ChannelCheckInterval(q); got != 0 {
		t.Errorf("no rate: %v, want 0", got)
	}
}

// A mote on a duty-cycled transport meters with the profile's idle-listen
// fraction zeroed (the stack reports the listening instead), without
// touching the caller's profile; on an always-on one it keeps it.
type fakeTransport struct {
	Transport
	duty bool
}

func (f fakeTransport) dutyCycled() bool     { return f.duty }
func (f fakeTransport) attach(*radioAccount) {}
func (f fakeTransport) notify(func())        {}
func (f fakeTransport) Kind() string         { return "fake" }

func TestDutyCycledMeterDropsIdleListen(t *testing.T) {
	p, err := profile.Load("z1")
	if err != nil {
		t.Fatal(err)
	}
	ppm := p.MAC.IdleListenPPM
	if ppm == 0 {
		t.Fatal("the z1 profile has no idle-listen fraction to drop")
	}
	for _, duty := range []bool{false, true} {
		m, err := New(Config{ID: "m", Profile: p, Transport: fakeTransport{duty: duty}, Manual: true})
		if err != nil {
			t.Fatal(err)
		}
		got := m.Meter().Profile().MAC.IdleListenPPM
		if want := map[bool]uint64{false: ppm, true: 0}[duty]; got != want {
			t.Errorf("duty-cycled %v: meter idle-listen %d ppm, want %d", duty, got, want)
		}
		if m.acct.dutyCycled != duty {
			t.Errorf("duty-cycled %v: the radio account says %v", duty, m.acct.dutyCycled)
		}
	}
	if p.MAC.IdleListenPPM != ppm {
		t.Error("New changed the caller's profile")
	}
}
