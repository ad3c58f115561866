package energy

import (
	"math"
	"math/bits"
	"time"
)

// TickRate is RTIMER_ARCH_SECOND on the MSP430 (Contiki cpu/msp430/rtimer-arch.h).
const TickRate = 32768

// acc accumulates amount/denom seconds as whole ticks plus an exact
// remainder in units of 1/denom tick.
type acc struct {
	ticks uint64
	rem   uint64 // < denom
}

// add adds amount/denom seconds: amount·TickRate/denom ticks, carrying the
// remainder so repeated small additions do not drift.
func (a *acc) add(amount, denom uint64) {
	hi, lo := bits.Mul64(amount, TickRate)
	var c uint64
	lo, c = bits.Add64(lo, a.rem, 0)
	hi += c
	var qhi uint64
	if hi >= denom {
		qhi, hi = hi/denom, hi%denom
	}
	q, r := bits.Div64(hi, lo, denom)
	a.rem = r
	if qhi != 0 {
		a.ticks = math.MaxUint64 // saturate: more than 2^64 ticks is not a real run
		return
	}
	a.ticks = satAdd(a.ticks, q)
}

func satAdd(a, b uint64) uint64 {
	s, c := bits.Add64(a, b, 0)
	if c != 0 {
		return math.MaxUint64
	}
	return s
}

func satSub(a, b uint64) uint64 {
	if b > a {
		return 0
	}
	return a - b
}

// Ticks converts a duration to whole ticks, rounding down.
func Ticks(d time.Duration) uint64 {
	if d <= 0 {
		return 0
	}
	var a acc
	a.add(uint64(d), uint64(time.Second))
	return a.ticks
}

// Duration converts ticks to a duration, rounding down to the nanosecond.
func Duration(ticks uint64) time.Duration {
	hi, lo := bits.Mul64(ticks, uint64(time.Second))
	if hi >= TickRate {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, TickRate)
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(q)
}

// MilliJoules is the Energest conversion: ticks × I_mA × V / TickRate.
func MilliJoules(ticks uint64, currentMA, volts float64) float64 {
	return float64(ticks) * currentMA * volts / TickRate
}
