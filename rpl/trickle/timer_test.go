package trickle

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

var epoch = time.Unix(1_700_000_000, 0)

// record returns a Timer on a virtual clock that logs the offsets of its
// transmissions from epoch.
func record(cfg Config) (*clock.Virtual, *Timer, *[]time.Duration) {
	v := clock.NewVirtual(epoch)
	cfg.Clock = v
	var at []time.Duration
	tm := New(cfg, func() { at = append(at, v.Since(epoch)) })
	return v, tm, &at
}

func TestFromRPLContikiDefaults(t *testing.T) {
	// RFC 6550 §6.7.6 fields as Contiki-NG RPL-Lite sends them (vector 04).
	c := FromRPL(12, 8, 0)
	if c.Imin != 4096*time.Millisecond || c.Doublings != 8 || c.K != 0 {
		t.Fatalf("FromRPL(12,8,0) = %+v", c)
	}
	if got, want := c.Imax(), 4096*256*time.Millisecond; got != want {
		t.Fatalf("Imax = %v, want %v", got, want)
	}
}

func TestOneTransmissionPerIntervalInSecondHalf(t *testing.T) {
	v, tm, at := record(Config{Imin: time.Second, Doublings: 3, Seed: 1})
	tm.Start()
	// Intervals: [0,1) [1,3) [3,7) [7,15) [15,23) [23,31)
	bounds := []time.Duration{0, 1, 3, 7, 15, 23, 31}
	v.AdvanceTo(epoch.Add(31 * time.Second))
	if len(*at) != len(bounds)-1 {
		t.Fatalf("transmissions at %v, want one per interval (%d)", *at, len(bounds)-1)
	}
	for i, x := range *at {
		lo, hi := bounds[i]*time.Second, bounds[i+1]*time.Second
		mid := lo + (hi-lo)/2
		if x < mid || x >= hi {
			t.Errorf("transmission %d at %v, want in [%v, %v)", i, x, mid, hi)
		}
	}
	if tm.Interval() != 8*time.Second {
		t.Fatalf("interval = %v, want Imax 8s", tm.Interval())
	}
	tm.Stop()
	if v.Pending() != 0 {
		t.Fatalf("%d timers pending after Stop", v.Pending())
	}
}

func TestSuppressionWithRedundancy(t *testing.T) {
	v, tm, at := record(Config{Imin: time.Second, Doublings: 0, K: 2, Seed: 7})
	tm.Start()
	// In every interval hear two consistent messages before t (t >= I/2).
	for i := 0; i < 5; i++ {
		tm.Hear()
		tm.Hear()
		v.Advance(time.Second)
	}
	if len(*at) != 0 {
		t.Fatalf("sent %d with c >= k, want 0", len(*at))
	}
	sent, supp, _ := tm.Stats()
	if sent != 0 || supp != 5 {
		t.Fatalf("stats sent=%d suppressed=%d, want 0 and 5", sent, supp)
	}
	tm.Hear() // one is below k: transmit
	v.Advance(time.Second)
	if len(*at) != 1 {
		t.Fatalf("sent %d with c < k, want 1", len(*at))
	}
}

func TestKZeroNeverSuppresses(t *testing.T) {
	v, tm, at := record(Config{Imin: time.Second, K: 0, Seed: 3})
	tm.Start()
	for i := 0; i < 4; i++ {
		for j := 0; j < 10; j++ {
			tm.Hear()
		}
		v.Advance(time.Second)
	}
	if len(*at) != 4 {
		t.Fatalf("sent %d, want 4 (k=0 disables suppression)", len(*at))
	}
}

func TestResetShrinksInterval(t *testing.T) {
	v, tm, at := record(Config{Imin: time.Second, Doublings: 6, Seed: 5})
	tm.Start()
	v.Advance(60 * time.Second)
	if tm.Interval() <= time.Second {
		t.Fatalf("interval %v did not grow", tm.Interval())
	}
	n := len(*at)
	tm.Reset()
	if tm.Interval() != time.Second {
		t.Fatalf("after Reset interval = %v, want Imin", tm.Interval())
	}
	v.Advance(time.Second)
	if len(*at) != n+1 {
		t.Fatalf("no transmission within Imin after Reset")
	}
	// Reset at Imin does nothing (rule 6): the pending interval keeps its t.
	before := v.Pending()
	tm.Reset()
	if v.Pending() != before {
		t.Fatalf("Reset at Imin rescheduled timers")
	}
}

func TestResetStartsStoppedTimer(t *testing.T) {
	v, tm, at := record(Config{Imin: time.Second, Seed: 9})
	tm.Reset()
	v.Advance(time.Second)
	if len(*at) != 1 {
		t.Fatalf("stopped timer did not start on Reset")
	}
	tm.Stop()
	tm.Stop()
	v.Advance(10 * time.Second)
	if len(*at) != 1 {
		t.Fatalf("stopped timer transmitted")
	}
}

func TestReconfigure(t *testing.T) {
	v, tm, _ := record(Config{Imin: time.Second, Doublings: 4, Seed: 2})
	tm.Start()
	v.Advance(10 * time.Second)
	tm.Reconfigure(100*time.Millisecond, 2, 1)
	if tm.Interval() != 100*time.Millisecond {
		t.Fatalf("interval after Reconfigure = %v", tm.Interval())
	}
	v.Advance(10 * time.Second)
	if tm.Interval() != 400*time.Millisecond {
		t.Fatalf("interval = %v, want new Imax 400ms", tm.Interval())
	}
}

func TestDeterministicUnderSeed(t *testing.T) {
	run := func(seed uint64) []time.Duration {
		v, tm, at := record(Config{Imin: 100 * time.Millisecond, Doublings: 5, Seed: seed})
		tm.Start()
		v.Advance(20 * time.Second)
		return *at
	}
	a, b, c := run(42), run(42), run(43)
	if len(a) != len(b) {
		t.Fatal("same seed, different runs")
	}
	same := len(a) == len(c)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed differs at %d: %v vs %v", i, a[i], b[i])
		}
		if same && a[i] != c[i] {
			same = false
		}
	}
	if same {
		t.Fatal("different seeds gave identical schedules")
	}
}

func TestRealClockStops(t *testing.T) {
	fired := make(chan struct{}, 16)
	tm := New(Config{Imin: time.Millisecond, Doublings: 1}, func() {
		select {
		case fired <- struct{}{}:
		default:
		}
	})
	tm.Start()
	<-fired
	tm.Stop()
}

// A DODAG Configuration may ask for Imin·2^Doublings beyond what a
// time.Duration holds (found by rpl/dodag's FuzzInput: DIOIntervalMin 14,
// 48 doublings overflowed to a negative Imax and the timer fired forever at
// one instant). Imax saturates instead.
func TestImaxSaturates(t *testing.T) {
	for _, c := range []Config{
		FromRPL(14, 48, 0),
		FromRPL(40, 255, 0),
		FromRPL(255, 255, 0),
		{Imin: time.Millisecond, Doublings: 62},
	} {
		if got := c.Imax(); got < c.Imin || got > MaxInterval {
			t.Errorf("Imin %v, %d doublings: Imax %v", c.Imin, c.Doublings, got)
		}
	}
	if got, want := FromRPL(3, 8, 0).Imax(), 2048*time.Millisecond; got != want {
		t.Errorf("Imax of RFC 6550's defaults-like (2^3 ms, 8 doublings) = %v, want %v", got, want)
	}
}
