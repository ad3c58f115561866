package trickle

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// Config parameterises a Timer (RFC 6206 §4.1).
type Config struct {
	// Imin is the minimum interval length. RPL sends it as DIOIntervalMin,
	// the base-2 logarithm of milliseconds (RFC 6550 §6.7.6).
	Imin time.Duration
	// Doublings is the number of times Imin may double: Imax = Imin·2^Doublings.
	Doublings int
	// K is the redundancy constant; 0 disables suppression.
	K int
	// Clock schedules the intervals; clock.Real{} when nil.
	Clock clock.Clock
	// Rand picks t inside each interval. It is used only by this Timer and
	// under its lock; a nil Rand uses a generator seeded from Seed.
	Rand *rand.Rand
	// Seed seeds the generator when Rand is nil.
	Seed uint64
}

// MaxInterval bounds every Trickle interval (about 36 years). A DODAG
// Configuration may ask for more (DIOIntervalMin up to 255 and 255
// doublings, RFC 6550 §6.7.6): Imin·2^Doublings is computed without
// overflowing past it, since an overflowed, negative interval would fire
// the timer over and over at the same instant.
const MaxInterval = time.Duration(1) << 60

// Imax returns Imin·2^Doublings, at most MaxInterval.
func (c Config) Imax() time.Duration {
	d := c.Doublings
	if d < 0 {
		d = 0
	}
	if d > 62 {
		d = 62
	}
	if c.Imin <= 0 {
		return c.Imin
	}
	if c.Imin > MaxInterval>>d {
		return MaxInterval
	}
	return c.Imin << d
}

// FromRPL builds a Config from the DODAG Configuration option fields
// DIOIntervalMin (log2 of milliseconds), DIOIntervalDoublings and
// DIORedundancyConstant (RFC 6550 §6.7.6).
func FromRPL(intMin, doublings, redundancy uint8) Config {
	if intMin > 40 {
		intMin = 40
	}
	return Config{
		Imin:      time.Duration(uint64(1)<<intMin) * time.Millisecond,
		Doublings: int(doublings),
		K:         int(redundancy),
	}
}

// Timer is one Trickle timer. Its methods are safe for concurrent use. The
// transmit callback runs without the Timer's lock held, on the clock's
// goroutine (Real) or from Advance (Virtual).
type Timer struct {
	mu       sync.Mutex
	cfg      Config
	clk      clock.Clock
	rng      *rand.Rand
	transmit func()

	running bool
	i       time.Duration // current interval length I
	c       int           // consistent transmissions heard in this interval
	gen     uint64        // bumps on every new interval; stale timer callbacks compare it
	tTimer  clock.Timer   // fires at t
	iTimer  clock.Timer   // fires at the end of the interval

	sent, suppressed, resets uint64
}

// New returns a stopped Timer that calls transmit at each interval's point t
// unless suppressed.
func New(cfg Config, transmit func()) *Timer {
	if cfg.Imin <= 0 {
		cfg.Imin = time.Millisecond
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	rng := cfg.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(cfg.Seed, 0x7472_6963_6b6c_65))
	}
	return &Timer{cfg: cfg, clk: clk, rng: rng, transmit: transmit}
}

// Start begins the first interval with I = Imin (RFC 6206 §4.2 rule 1 allows
// any I in [Imin, Imax]; RPL starts at Imin, RFC 6550 §8.3.1). Starting a
// running timer restarts it.
func (t *Timer) Start() {
	t.mu.Lock()
	t.running = true
	t.i = t.cfg.Imin
	t.beginLocked()
	t.mu.Unlock()
}

// Stop halts the timer. It is idempotent.
func (t *Timer) Stop() {
	t.mu.Lock()
	t.running = false
	t.gen++
	t.stopTimersLocked()
	t.mu.Unlock()
}

// Hear records a consistent transmission (RFC 6206 §4.2 rule 3).
func (t *Timer) Hear() {
	t.mu.Lock()
	t.c++
	t.mu.Unlock()
}

// Reset handles an inconsistency (RFC 6206 §4.2 rule 6): if I > Imin, I
// becomes Imin and a new interval starts; at Imin nothing changes. A stopped
// timer is started.
func (t *Timer) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.resets++
	if !t.running {
		t.running = true
		t.i = t.cfg.Imin
		t.beginLocked()
		return
	}
	if t.i > t.cfg.Imin {
		t.i = t.cfg.Imin
		t.beginLocked()
	}
}

// Reconfigure changes Imin, Doublings and K (a new DODAG Configuration) and
// restarts a running timer at the new Imin.
func (t *Timer) Reconfigure(imin time.Duration, doublings, k int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if imin <= 0 {
		imin = time.Millisecond
	}
	if t.cfg.Imin == imin && t.cfg.Doublings == doublings && t.cfg.K == k {
		return
	}
	t.cfg.Imin, t.cfg.Doublings, t.cfg.K = imin, doublings, k
	if t.running {
		t.i = imin
		t.beginLocked()
	}
}

// Interval returns the current interval length I (0 when stopped).
func (t *Timer) Interval() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.running {
		return 0
	}
	return t.i
}

// Stats reports transmissions made, transmissions suppressed and resets.
func (t *Timer) Stats() (sent, suppressed, resets uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sent, t.suppressed, t.resets
}

func (t *Timer) stopTimersLocked() {
	if t.tTimer != nil {
		t.tTimer.Stop()
		t.tTimer = nil
	}
	if t.iTimer != nil {
		t.iTimer.Stop()
		t.iTimer = nil
	}
}

// beginLocked starts an interval of length t.i (RFC 6206 §4.2 rule 2).
func (t *Timer) beginLocked() {
	t.stopTimersLocked()
	t.gen++
	gen := t.gen
	t.c = 0
	half := t.i / 2
	at := half
	if span := int64(t.i - half); span > 0 {
		at += time.Duration(t.rng.Int64N(span)) // t in [I/2, I)
	}
	t.tTimer = t.clk.AfterFunc(at, func() { t.fire(gen) })
	t.iTimer = t.clk.AfterFunc(t.i, func() { t.expire(gen) })
}

// fire is point t of the interval numbered gen (rule 4).
func (t *Timer) fire(gen uint64) {
	t.mu.Lock()
	if !t.running || gen != t.gen {
		t.mu.Unlock()
		return
	}
	send := t.cfg.K == 0 || t.c < t.cfg.K
	if send {
		t.sent++
	} else {
		t.suppressed++
	}
	t.mu.Unlock()
	if send && t.transmit != nil {
		t.transmit()
	}
}

// expire ends the interval numbered gen (rule 5).
func (t *Timer) expire(gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.running || gen != t.gen {
		return
	}
	if t.i < MaxInterval {
		t.i *= 2
	}
	if imax := t.cfg.Imax(); t.i > imax {
		t.i = imax
	}
	t.beginLocked()
}
