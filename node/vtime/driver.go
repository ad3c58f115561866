package vtime

import (
	"context"
	"errors"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// Driver advances a virtual clock. Set its fields before the first Run.
type Driver struct {
	Clock *clock.Virtual
	// Busy reports whether some actor has an operation in flight; while it
	// does, time advances by at most Step at once. Nil: never busy.
	Busy func() bool
	// Activity returns a counter that grows whenever the system does
	// something observable (frames on a medium, datagrams). Nil: only the
	// clock's timers are watched.
	Activity func() uint64
	// Step bounds one advance while busy (default 100 µs).
	Step time.Duration
	// Settle is the number of consecutive quiet yields before an advance
	// (default 8).
	Settle int
	// BusyWindow: a busy system whose Activity has not changed for this
	// long of emulated time is waiting for a timer (a retransmission, a
	// timeout), not for a goroutine, and the clock jumps again (default
	// 50 ms). Functions run with Do and Await are always stepped.
	BusyWindow time.Duration

	lastAct   uint64
	lastActAt time.Time

	running atomic.Int32 // functions running under Do
}

type signature struct {
	pending  int
	next     time.Time
	activity uint64
}

func (d *Driver) sig() signature {
	s := signature{pending: d.Clock.Pending()}
	s.next, _ = d.Clock.Next()
	if d.Activity != nil {
		s.activity = d.Activity()
	}
	return s
}

// settle yields until the system has been quiet for Settle yields (or a
// bound is reached).
func (d *Driver) settle() {
	n := d.Settle
	if n <= 0 {
		n = 8
	}
	last := d.sig()
	stable := 0
	for i := 0; stable < n && i < 100_000; i++ {
		runtime.Gosched()
		s := d.sig()
		if s == last {
			stable++
		} else {
			stable, last = 0, s
		}
	}
}

// advance moves the clock to the next timer, to end, or by at most Step
// while busy, whichever comes first. It reports false when the clock is at
// end. Call it after settle.
func (d *Driver) advance(end time.Time) bool {
	now := d.Clock.Now()
	if !now.Before(end) {
		return false
	}
	target := end
	if next, ok := d.Clock.Next(); ok && next.Before(target) {
		target = next
	}
	if d.running.Load() > 0 || d.busyRecently(now) {
		st := d.Step
		if st <= 0 {
			st = 100 * time.Microsecond
		}
		if lim := now.Add(st); lim.Before(target) {
			target = lim
		}
	}
	d.Clock.AdvanceTo(target)
	return true
}

// busyRecently reports whether Busy holds and the system did something
// observable within the last BusyWindow.
func (d *Driver) busyRecently(now time.Time) bool {
	if d.Busy == nil || !d.Busy() {
		return false
	}
	if d.Activity == nil {
		return true
	}
	w := d.BusyWindow
	if w <= 0 {
		w = 50 * time.Millisecond
	}
	if a := d.Activity(); a != d.lastAct || d.lastActAt.IsZero() {
		d.lastAct, d.lastActAt = a, now
	}
	return now.Sub(d.lastActAt) < w
}

// RunFor advances the clock by dur (emulated), letting the system work.
// It returns ctx's error if ctx ends first.
func (d *Driver) RunFor(ctx context.Context, dur time.Duration) error {
	_, err := d.RunUntil(ctx, func() bool { return false }, dur)
	return err
}

// RunUntil advances the clock until cond holds or max of emulated time has
// passed, and reports whether cond held. cond is checked on the Driver's
// goroutine whenever the system has settled, before each advance.
func (d *Driver) RunUntil(ctx context.Context, cond func() bool, max time.Duration) (bool, error) {
	end := d.Clock.Now().Add(max)
	for {
		d.settle()
		if cond() {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		if !d.advance(end) {
			return false, nil
		}
	}
}

// Await is RunUntil for an event already in flight (a message travelling
// through goroutines): the clock advances by at most Step at once until
// cond holds, as if some actor were busy.
func (d *Driver) Await(ctx context.Context, cond func() bool, max time.Duration) (bool, error) {
	d.running.Add(1)
	defer d.running.Add(-1)
	return d.RunUntil(ctx, cond, max)
}

// ErrTimeout is returned by Do when f did not finish within its emulated
// time budget.
var ErrTimeout = errors.New("vtime: emulated time budget exhausted")

// Do runs f on its own goroutine and advances the clock until f returns or
// max of emulated time has passed; then f's context is cancelled and Do
// waits for it (without advancing further) and returns ErrTimeout.
func (d *Driver) Do(ctx context.Context, max time.Duration, f func(ctx context.Context) error) error {
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	d.running.Add(1) // until Do returns: f's end is seen through done
	defer d.running.Add(-1)
	go func() { done <- f(fctx) }()
	var err error
	ok, rerr := d.RunUntil(ctx, func() bool {
		select {
		case err = <-done:
			return true
		default:
			return false
		}
	}, max)
	if ok {
		return err
	}
	cancel()
	<-done
	if rerr != nil {
		return rerr
	}
	return ErrTimeout
}
