package stack

import (
	"math/rand/v2"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// ContikiMAC timing (Dunkels, "The ContikiMAC Radio Duty Cycling
// Protocol", SICS T2011:13, and Contiki's core/net/mac/contikimac.c).
const (
	// CheckWindow is how long one channel check keeps the radio on, and the
	// span in which a frame on the air is detected. ContikiMAC makes two
	// CCAs CCA_SLEEP_TIME (RTIMER_ARCH_SECOND/2000 = 0.5 ms) apart; a frame
	// on the air at either is detected. The radio-on time this charges,
	// 0.5 ms per 125 ms check, is the z1 profile's idle listening (0.4 %,
	// node/profile mac.idle_listen_ppm). It is longer than StrobeGap, so a
	// check that falls inside a strobe always overlaps a repetition (the
	// ContikiMAC rule t_c < t_r).
	CheckWindow = 500 * time.Microsecond
	// StrobeGap is the silence between two repetitions of a strobed frame,
	// in which the sender listens for the acknowledgment: ContikiMAC's
	// INTER_PACKET_INTERVAL (RTIMER_ARCH_SECOND/2500 = 0.4 ms). An ACK
	// (5 octets, 352 µs on the air, sent on reception without a turnaround
	// on our medium) arrives inside it when the medium adds no Delay; a
	// later ACK is still taken (it carries the same sequence number).
	StrobeGap = 400 * time.Microsecond
	// DetectListen is how long the radio stays on after a check detected a
	// frame it woke too late to receive, waiting for the next repetition:
	// ContikiMAC's LISTEN_TIME_AFTER_PACKET_DETECTED (RTIMER_ARCH_SECOND/80).
	// A received frame ends the wait.
	DetectListen = 12500 * time.Microsecond
	// BurstHold is how long the radio stays on after receiving a unicast
	// frame for it with Frame Pending set (framepending.go), or a 6LoWPAN
	// fragment for it that is not its datagram's last: the next frame
	// starts when our ACK (0.35 ms) has reached the sender and a LIFS
	// (0.64 ms) has passed, about 1 ms later. ContikiMAC does this with the
	// frame pending bit and INTER_PACKET_DEADLINE; the fragment header
	// serves a burst the receiver can tell from the payload.
	BurstHold = 5 * time.Millisecond
	// DefaultStrobeRetries is MaxFrameRetries when StrobeTime is set and
	// MaxFrameRetries is not: each try is a whole strobe, so Contiki's CSMA
	// over ContikiMAC makes CSMA_MAX_MAC_TRANSMISSIONS = 3 tries (Contiki
	// 2.x core/net/mac/csma.c), not the 8 of an always-on radio.
	DefaultStrobeRetries = 2

	// listenLag is how far behind the clock listen time is settled: a frame
	// delivered now started at most one maximum frame's airtime ago, and a
	// check that detected it started at most CheckWindow before that.
	listenLag = 10 * time.Millisecond
	// listenFlushEvery bounds the delay of OnListen reports.
	listenFlushEvery = time.Second
)

// StrobeTimeFor returns the StrobeTime that lets a frame of any size reach a
// neighbour checking the channel every interval in one strobe: the check
// comes at most one interval after the strobe began, may fall just after a
// repetition began (missing it), and the next repetition must still be
// sent: interval + 2 × (airtime of a 127-octet frame + StrobeGap), 134.3 ms
// at 8 Hz. ContikiMAC's STROBE_TIME is the interval plus two checks.
func StrobeTimeFor(interval time.Duration) time.Duration {
	return interval + 2*(medium.Airtime(ieee802154.MaxPSDU)+StrobeGap)
}

// Reasons the radio is held on regardless of the duty cycle.
const (
	forcedUnjoined uint8 = 1 << iota // scanning for a DODAG
	forcedTx                         // own frame in flight (strobe, ACK wait)
)

// farFuture ends a span that is held open.
var farFuture = time.Unix(1<<62, 0)

// dutyCycle is the receive side of the ContikiMAC-style duty cycle: when
// the radio is on, and how long it has listened. Guarded by Stack.mu.
//
// The radio is on in periodic check windows [t_k, t_k+CheckWindow),
// t_k = epoch + phase + k·interval, and in spans: stretches it is held on
// (own transmission, ACK wait, reception, burst hold, unjoined scanning).
// Spans never overlap; the current one may still grow or shrink while it
// has not ended. The medium delivers a frame when its last octet arrives,
// so the radio's state is judged after the fact, at most one frame airtime
// back; listen time is settled listenLag behind the clock for that reason.
type dutyCycle struct {
	interval time.Duration
	phase    time.Duration
	epoch    time.Time

	awake    bool      // a current span exists
	from     time.Time // its start
	hold     time.Time // its end unless forced
	forced   uint8     // forced* bits: the span is open-ended
	txUntil  time.Time // end of the last frame sent
	prevFrom time.Time // the span before it
	prevTo   time.Time

	acctTo   time.Time     // radio-on time is settled up to here
	onTotal  time.Duration // radio-on time up to acctTo
	busy     time.Duration // airtime of frames told to OnFrame
	reported time.Duration // listen time told to OnListen
	flushT   clock.Timer
}

func newDutyCycle(interval time.Duration, seed uint64, now time.Time) *dutyCycle {
	rng := rand.New(rand.NewPCG(seed, 0x6475747963796c65))
	return &dutyCycle{
		interval: interval,
		phase:    time.Duration(rng.Int64N(int64(interval))),
		epoch:    now,
		acctTo:   now,
	}
}

// end is the current span's end.
func (d *dutyCycle) end() time.Time {
	if d.forced != 0 {
		return farFuture
	}
	return d.hold
}

// lastCheck returns the start of the last check at or before t.
func (d *dutyCycle) lastCheck(t time.Time) (time.Time, bool) {
	off := t.Sub(d.epoch) - d.phase
	if off < 0 {
		return time.Time{}, false
	}
	return t.Add(-(off % d.interval)), true
}

// inCheck reports whether t falls in a check window.
func (d *dutyCycle) inCheck(t time.Time) bool {
	c, ok := d.lastCheck(t)
	return ok && t.Sub(c) < CheckWindow
}

// checkCov is the measure of the check windows in [epoch, t].
func (d *dutyCycle) checkCov(t time.Time) time.Duration {
	off := t.Sub(d.epoch) - d.phase
	if off < 0 {
		return 0
	}
	n := off / d.interval
	return time.Duration(n)*CheckWindow + min(off-n*d.interval, CheckWindow)
}

// onAt reports whether the radio was on at t (t at most listenLag ago).
func (d *dutyCycle) onAt(t time.Time) bool {
	if d.inCheck(t) {
		return true
	}
	if d.awake && !t.Before(d.from) && !t.After(d.end()) {
		return true
	}
	return !t.Before(d.prevFrom) && !t.After(d.prevTo)
}

// commit settles the current span, which has ended.
func (d *dutyCycle) commit() {
	if !d.awake {
		return
	}
	d.onTotal += d.checkCov(d.from) - d.checkCov(d.acctTo) + d.hold.Sub(d.from)
	d.acctTo = d.hold
	d.prevFrom, d.prevTo = d.from, d.hold
	d.awake = false
}

// on holds the radio on over [from, until].
func (d *dutyCycle) on(from, until time.Time) {
	if from.Before(d.acctTo) {
		from = d.acctTo
	}
	if until.Before(from) {
		return
	}
	if d.awake && !from.After(d.end()) {
		if from.Before(d.from) {
			d.from = from
		}
		if until.After(d.hold) {
			d.hold = until
		}
		return
	}
	d.commit()
	d.awake, d.from, d.hold = true, from, until
}

// sleepAt ends the current span at t unless something holds the radio on
// (ContikiMAC turns the radio off once a frame has been received), or at
// the end of a frame being sent (an ACK).
func (d *dutyCycle) sleepAt(t time.Time) {
	if d.txUntil.After(t) {
		t = d.txUntil
	}
	if d.awake && d.forced == 0 && d.hold.After(t) {
		d.hold = t
		if t.Before(d.from) {
			d.hold = d.from
		}
	}
}

func (d *dutyCycle) force(reason uint8, now time.Time) {
	if d.forced == 0 {
		d.on(now, now)
	}
	d.forced |= reason
}

func (d *dutyCycle) release(reason uint8, now time.Time) {
	if d.forced&reason == 0 {
		return
	}
	d.forced &^= reason
	if d.forced == 0 && d.hold.Before(now) {
		d.hold = now
	}
}

// settle accounts radio-on time up to now-listenLag.
func (d *dutyCycle) settle(now time.Time) {
	t := now.Add(-listenLag)
	if !t.After(d.acctTo) {
		return
	}
	if d.awake && d.end().Before(t) {
		d.commit()
	}
	switch {
	case d.awake && d.from.Before(t):
		// The settled part of an open span leaves it: queries never
		// reach back past t.
		d.onTotal += d.checkCov(d.from) - d.checkCov(d.acctTo) + t.Sub(d.from)
		d.from = t
	case d.awake:
		d.onTotal += d.checkCov(t) - d.checkCov(d.acctTo)
	default:
		if t.After(d.acctTo) {
			d.onTotal += d.checkCov(t) - d.checkCov(d.acctTo)
		}
	}
	if t.After(d.acctTo) {
		d.acctTo = t
	}
}

// listen is the settled listen time: radio on, neither sending nor
// receiving a frame.
func (d *dutyCycle) listen() time.Duration { return max(d.onTotal-d.busy, 0) }

// --- Stack glue; all with s.mu held. ---

// dutyBusy records airtime told to OnFrame.
func (s *Stack) dutyBusy(n int) {
	if s.duty != nil {
		s.duty.busy += medium.Airtime(n)
	}
}

// dutyReceive judges a frame of n octets delivered now: it reports whether
// the radio was on when the frame began (so it is received). A frame that
// began while the radio slept is lost; if a check overlapped it, the radio
// stays on for the next repetition.
func (s *Stack) dutyReceive(n int) bool {
	d := s.duty
	now := s.clk.Now()
	start := now.Add(-medium.Airtime(n))
	if d.onAt(start) {
		d.on(start, now)
		return true
	}
	s.cnt.SleptThrough++
	if c, ok := d.lastCheck(now); ok && c.Add(CheckWindow).After(start) {
		d.on(c, now.Add(DetectListen))
	}
	return false
}

// dutyAfterRx decides how long the radio stays on after a received frame:
// a burst hold when more frames follow (Frame Pending, or more fragments),
// off at once otherwise.
func (s *Stack) dutyAfterRx(more bool) {
	now := s.clk.Now()
	if more {
		s.duty.on(now, now.Add(BurstHold))
		return
	}
	s.duty.sleepAt(now)
}

// flushListen settles listen time and tells OnListen what is new.
func (s *Stack) flushListen() {
	d := s.duty
	if d == nil {
		return
	}
	d.settle(s.clk.Now())
	if l := d.listen(); l > d.reported {
		delta := l - d.reported
		d.reported = l
		if s.cfg.OnListen != nil {
			s.cfg.OnListen(delta)
		}
	}
	s.cnt.ListenTime = d.reported
}

// scheduleListenFlush runs flushListen every listenFlushEvery.
func (s *Stack) scheduleListenFlush() {
	s.duty.flushT = s.clk.AfterFunc(listenFlushEvery, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		s.flushListen()
		s.scheduleListenFlush()
	})
}

// SettleListen tells OnListen now of the listen time up to 10 ms ago,
// instead of at the next frame or periodic report: for an energy meter
// read at a chosen moment. OnListen runs on the caller's goroutine with
// the stack's lock held, so the caller must not hold a lock OnListen
// takes. It does nothing for an always-on radio or a closed stack.
func (s *Stack) SettleListen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.flushListen()
	}
}
