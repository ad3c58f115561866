package loadgen

import (
	"math"
	"time"
)

// pacer schedules an open-loop stream: message k (from 0) is due at
// start + k/rate, whether or not earlier ones went out on time, so a sender
// that falls behind catches up in bursts instead of silently lowering the
// offered load. A zero rate means unpaced: everything is due at once.
type pacer struct {
	start time.Time
	rate  float64 // messages per second; 0 = unpaced
	limit int64   // messages offered in total; -1 = unbounded
}

// newPacer returns a pacer for rate messages/s, offering at most limit
// messages (-1: no limit) and none due at or after start+d when d > 0.
func newPacer(start time.Time, rate float64, limit int64, d time.Duration) pacer {
	p := pacer{start: start, rate: rate, limit: limit}
	if rate > 0 && d > 0 {
		// A paced run of duration d offers exactly the messages due inside it.
		n := int64(math.Ceil(d.Seconds() * rate))
		if p.limit < 0 || n < p.limit {
			p.limit = n
		}
	}
	return p
}

// due is the number of messages due by now, capped by the limit.
func (p *pacer) due(now time.Time) int64 {
	if p.rate <= 0 {
		if p.limit < 0 {
			return math.MaxInt64
		}
		return p.limit
	}
	el := now.Sub(p.start)
	if el < 0 {
		return 0
	}
	n := int64(el.Seconds()*p.rate) + 1 // message 0 is due at start
	if p.limit >= 0 && n > p.limit {
		n = p.limit
	}
	return n
}

// at is when message k is due.
func (p *pacer) at(k int64) time.Time {
	if p.rate <= 0 {
		return p.start
	}
	return p.start.Add(time.Duration(float64(k) / p.rate * 1e9))
}

// offered is how many messages the schedule holds (-1: unbounded).
func (p *pacer) offered() int64 { return p.limit }

// split divides a total rate and message limit among n senders; sender i gets
// an equal share of the rate and its share of the limit, the remainder going
// to the first senders. Start times are staggered across one interval so the
// senders don't fire in lockstep.
func split(start time.Time, rate float64, limit int64, d time.Duration, n int) []pacer {
	ps := make([]pacer, n)
	for i := range ps {
		lim := int64(-1)
		if limit >= 0 {
			lim = limit / int64(n)
			if int64(i) < limit%int64(n) {
				lim++
			}
		}
		r := rate / float64(n)
		s := start
		if r > 0 {
			s = start.Add(time.Duration(float64(i) / float64(n) / r * 1e9))
		}
		ps[i] = newPacer(s, r, lim, d-s.Sub(start))
	}
	return ps
}
