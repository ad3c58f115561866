// Package clock gives lsmqtt's timers a time source the caller can replace:
// Real for production, Virtual for tests and faster-than-real-time simulation.
package clock

import "time"

// Clock tells the time and schedules callbacks.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine (Real) or from Advance (Virtual)
	// once d has elapsed.
	AfterFunc(d time.Duration, f func()) Timer
	// Since is Now().Sub(t).
	Since(t time.Time) time.Duration
}

// Timer is a scheduled callback.
type Timer interface {
	// Stop cancels the timer; it reports whether the call stopped it before it fired.
	Stop() bool
	// Reset reschedules the timer to fire d from now; it reports whether it was active.
	Reset(d time.Duration) bool
}

// Real is the wall clock.
type Real struct{}

func (Real) Now() time.Time                            { return time.Now() }
func (Real) Since(t time.Time) time.Duration           { return time.Since(t) }
func (Real) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }
