package energy

import (
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

func z1(t testing.TB) *profile.Profile {
	t.Helper()
	p, err := profile.Load("z1")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want))
}

// A known sequence of operations on the z1 gives ticks and energy computed
// here by hand from the z1 figures (8 MHz, 3 V, CPU 10 mA, LPM 23 µA,
// RX 18.8 mA, TX 17.4 mA at 0 dBm and 8.5 mA at -25 dBm, 32 µs per byte,
// 6 bytes of PHY overhead, ContikiMAC 0.4 %).
func TestKnownSequence(t *testing.T) {
	m := NewMeter(z1(t))
	m.CPU(8_000_000) // 1 s of CPU = 32768 ticks
	if err := m.TX(100); err != nil {
		t.Fatal(err)
	}
	// (6+100) bytes × 32 µs = 3392 µs = 111.149... ticks → 111
	if err := m.SetTXPower(-25); err != nil {
		t.Fatal(err)
	}
	if err := m.TX(20); err != nil { // 26 × 32 µs = 832 µs = 27.26 ticks → 27
		t.Fatal(err)
	}
	if err := m.RX(5); err != nil { // 11 × 32 µs = 352 µs = 11.53 ticks → 11
		t.Fatal(err)
	}
	m.Listen(192 * time.Microsecond) // 6.29 ticks → 6
	if err := m.Sample("pulse-oximeter"); err != nil {
		t.Fatal(err)
	}
	// sensor: 1 s at 1.5 mA = 32768 ticks; its 200,000 CPU cycles = 25 ms =
	// 819.2 CPU ticks, which adds to the 1 s above without losing the .2:
	// 8,200,000 cycles → 33587.2 → 33587 ticks.
	m.Advance(10 * time.Second) // 327680 ticks

	const (
		cpu    = 33587
		txHi   = 111
		txLo   = 27
		rx     = 11 + 6
		sensor = 32768
		time_  = 327680
		lpm    = time_ - cpu
		idle   = (time_ - (txHi + txLo + rx)) * 4000 / 1_000_000 // 327525 × 0.004 = 1310.1 → 1310
	)
	s := m.Snapshot()
	want := StateTicks{CPU: cpu, LPM: lpm, TX: txHi + txLo, RX: rx, IdleListen: idle, Sensor: sensor}
	if s.Ticks != want {
		t.Fatalf("ticks = %+v\nwant    %+v", s.Ticks, want)
	}
	if s.Time != time_ {
		t.Fatalf("time = %d, want %d", s.Time, time_)
	}
	const v = 3.0
	e := StateEnergy{
		CPU:        cpu * 10 * v / 32768,
		LPM:        lpm * 0.023 * v / 32768,
		TX:         txHi*17.4*v/32768 + txLo*8.5*v/32768,
		RX:         rx * 18.8 * v / 32768,
		IdleListen: idle * 18.8 * v / 32768,
		Sensor:     sensor * 1.5 * v / 32768,
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"cpu", s.Energy.CPU, e.CPU}, {"lpm", s.Energy.LPM, e.LPM}, {"tx", s.Energy.TX, e.TX},
		{"rx", s.Energy.RX, e.RX}, {"idle", s.Energy.IdleListen, e.IdleListen}, {"sensor", s.Energy.Sensor, e.Sensor},
	} {
		if !near(c.got, c.want) {
			t.Errorf("energy %s = %.9f mJ, want %.9f", c.name, c.got, c.want)
		}
	}
	// 1 s of CPU at 10 mA and 3 V is 30 mJ; the sensor's second 4.5 mJ.
	if s.Energy.CPU < 30 || s.Energy.CPU > 30.8 || !near(s.Energy.Sensor, 4.5) {
		t.Errorf("sanity: cpu %v mJ, sensor %v mJ", s.Energy.CPU, s.Energy.Sensor)
	}
	if s.FramesTX != 2 || s.FramesRX != 1 || s.BytesTX != 120 || s.BytesRX != 5 || s.Samples != 1 {
		t.Errorf("counters: %+v", s)
	}
	if s.Cycles.Sensor != 200_000 || s.Cycles.Other != 8_000_000 {
		t.Errorf("cycles: %+v", s.Cycles)
	}
	if p := s.AveragePowerMW(); !near(p, e.Total()*32768/time_) {
		t.Errorf("power = %v", p)
	}
}

// Remainders carry: many small events equal one large one.
func TestNoDrift(t *testing.T) {
	p := z1(t)
	a, b := NewMeter(p), NewMeter(p)
	for range 1_000_000 {
		a.CPU(8) // 0.032768 ticks each
	}
	b.CPU(8_000_000)
	for range 1000 {
		a.Advance(time.Millisecond)
		a.Listen(time.Microsecond)
		_ = a.TX(10)
	}
	b.Advance(time.Second)
	b.Listen(time.Millisecond)
	for range 1000 {
		_ = b.TX(10)
	}
	sa, sb := a.Snapshot(), b.Snapshot()
	if sa.Ticks != sb.Ticks || sa.Ticks.CPU != 32768 {
		t.Fatalf("drift: %+v vs %+v", sa.Ticks, sb.Ticks)
	}
	// 1000 frames of (6+10) bytes: 16 × 32 µs × 1000 = 0.512 s = 16777.216 ticks
	if sa.Ticks.TX != 16777 {
		t.Fatalf("TX ticks = %d, want 16777", sa.Ticks.TX)
	}
}

func TestAirtime(t *testing.T) {
	p := z1(t)
	for _, c := range []struct {
		psdu  int
		d     time.Duration
		ticks uint64
	}{
		{AckPSDUBytes, 352 * time.Microsecond, 11},                    // (6+5)×32 µs; 11.53 ticks
		{127, 4256 * time.Microsecond, 139},                           // (6+127)×32 µs; 139.46 ticks
		{0, 192 * time.Microsecond, 6},                                // PHY header alone
		{50, 56 * 32 * time.Microsecond, 56 * 32768 * 32 / 1_000_000}, // 58.72 → 58
	} {
		if got := Airtime(p, c.psdu); got != c.d {
			t.Errorf("Airtime(%d) = %v, want %v", c.psdu, got, c.d)
		}
		if got := AirtimeTicks(p, c.psdu); got != c.ticks {
			t.Errorf("AirtimeTicks(%d) = %d, want %d", c.psdu, got, c.ticks)
		}
	}
}

func TestIdleHourAndLifetime(t *testing.T) {
	p := z1(t)
	m := NewMeter(p)
	m.Advance(time.Hour)
	s := m.Snapshot()
	// LPM: 3600 s × 0.023 mA × 3 V = 248.4 mJ; listening: 0.4 % of the
	// hour at 18.8 mA = 14.4 s × 56.4 mW = 812.16 mJ (tick-rounded).
	if !near(s.Energy.LPM, 248.4) {
		t.Errorf("LPM hour = %v mJ, want 248.4", s.Energy.LPM)
	}
	if math.Abs(s.Energy.IdleListen-812.16) > 0.002 {
		t.Errorf("idle listening hour = %v mJ, want 812.16", s.Energy.IdleListen)
	}
	// Without listening the battery lasts 2800 mAh / 0.023 mA = 121,739 h.
	q := p.Clone()
	q.MAC.IdleListenPPM = 0
	m = NewMeter(q)
	m.Advance(time.Hour)
	if h := m.Snapshot().LifetimeHours(q.Battery); math.Abs(h-2800/0.023) > 0.01 {
		t.Errorf("LPM-only lifetime = %v h, want %v", h, 2800/0.023)
	}
	q.Battery.Derating = 0.8
	if h := m.Snapshot().LifetimeHours(q.Battery); math.Abs(h-0.8*2800/0.023) > 0.01 {
		t.Errorf("derated lifetime = %v h", h)
	}
	if !math.IsInf(LifetimeHours(q.Battery, 0), 1) {
		t.Error("zero power must give an infinite lifetime")
	}
}

func TestOverrunAndSub(t *testing.T) {
	m := NewMeter(z1(t))
	m.CPU(16_000_000) // 2 s of CPU, no time advanced
	s := m.Snapshot()
	if s.Time != 65536 || s.Ticks.LPM != 0 {
		t.Fatalf("overrun: time %d lpm %d", s.Time, s.Ticks.LPM)
	}
	m.Advance(5 * time.Second)
	before := m.Snapshot()
	_ = m.TX(40)
	m.Advance(time.Second)
	d := m.Snapshot().Sub(before)
	if d.Time != 32768 || d.FramesTX != 1 || d.BytesTX != 40 || d.Ticks.CPU != 0 || d.Ticks.LPM != 32768 {
		t.Fatalf("sub: %+v", d)
	}
}

func TestRejects(t *testing.T) {
	m := NewMeter(z1(t))
	for _, n := range []int{-1, 0, 2, 128} {
		if err := m.TX(n); !errors.Is(err, ErrFrameSize) {
			t.Errorf("TX(%d) = %v", n, err)
		}
		if err := m.RX(n); !errors.Is(err, ErrFrameSize) {
			t.Errorf("RX(%d) = %v", n, err)
		}
	}
	if err := m.Sample("thermometer"); !errors.Is(err, ErrUnknownSensor) {
		t.Errorf("Sample: %v", err)
	}
	if err := m.SetTXPower(20); !errors.Is(err, ErrTXPower) {
		t.Errorf("SetTXPower: %v", err)
	}
	if _, err := m.Crypto(NoSuite, Seal, 10, 0); !errors.Is(err, ErrUnknownSuite) {
		t.Errorf("Crypto: %v", err)
	}
	if _, err := m.Crypto(Ascon128, Seal, -1, 0); !errors.Is(err, ErrBadLength) {
		t.Errorf("Crypto: %v", err)
	}
	s := m.Snapshot()
	if s.Rejected != 11 || s.FramesTX != 0 || s.Ticks.CPU != 0 {
		t.Fatalf("rejected events counted wrong or charged: %+v", s)
	}
	m.Advance(-time.Second)
	m.Listen(-time.Second)
	if s := m.Snapshot(); s.Time != 0 {
		t.Fatalf("negative durations charged: %+v", s)
	}
}

func TestConcurrent(t *testing.T) {
	m := NewMeter(z1(t))
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				m.CPU(1000)
				_ = m.TX(20)
				m.Advance(time.Millisecond)
				_ = m.Snapshot()
			}
		})
	}
	wg.Wait()
	s := m.Snapshot()
	// 8,000,000 cycles = 1 s; 8000 × 1 ms = 8 s; 8000 frames × 26 × 32 µs = 6.656 s
	if s.Ticks.CPU != 32768 || s.Time != 8*32768 || s.Ticks.TX != 6656*32768/1000 {
		t.Fatalf("%+v", s.Ticks)
	}
}

func TestEventsDoNotAllocate(t *testing.T) {
	m := NewMeter(z1(t))
	testutil.AssertAllocs(t, 0, func() {
		m.CPU(100)
		_ = m.TX(60)
		_ = m.RX(5)
		m.Listen(time.Millisecond)
		_, _ = m.Crypto(Ascon128, Seal, 32, 12)
		_ = m.Sample("ecg")
		m.Advance(time.Second)
		_ = m.Snapshot()
	})
}

func BenchmarkMeterFrame(b *testing.B) {
	m := NewMeter(z1(b))
	b.ReportAllocs()
	for b.Loop() {
		m.Stack(4000)
		_ = m.TX(86)
		m.Listen(192 * time.Microsecond)
		_ = m.RX(AckPSDUBytes)
	}
}

func BenchmarkMeterCrypto(b *testing.B) {
	m := NewMeter(z1(b))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = m.Crypto(Ascon128, Seal, 32, 12)
	}
}

func BenchmarkSnapshot(b *testing.B) {
	m := NewMeter(z1(b))
	m.Advance(time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		_ = m.Snapshot()
	}
}
