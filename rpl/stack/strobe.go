package stack

import "github.com/lsmqtt/lsmqtt/rpl/medium"

// ContikiMAC transmit (Config.StrobeTime): the sender repeats a frame back
// to back, StrobeGap apart, so that a duty-cycled receiver's next channel
// check finds it. A unicast strobe ends with the acknowledgment (macFrame
// finishes the frame in flight) or, StrobeTime after it began, as one
// failed try for ackTimeout's retry and backoff. A broadcast strobe always
// runs for StrobeTime. The radio is held on for the whole strobe (the gaps
// are spent listening for the ACK). Everything runs with s.mu held, one
// clock timer at a time per stack.

// startStrobe begins a strobe of the frame in flight.
func (s *Stack) startStrobe(f *txFrame) {
	if s.duty != nil {
		s.duty.force(forcedTx, s.clk.Now())
	}
	f.strobeStart = s.clk.Now()
	f.reps = 0
	s.strobe(f)
}

// strobe sends one repetition and schedules the next step. A repetition
// waits for an ACK this radio sent in the gap to end, and a SIFS after it.
func (s *Stack) strobe(f *txFrame) {
	if d := s.mac.txEnd.Add(sifsPeriod).Sub(s.clk.Now()); f.reps > 0 && d > 0 {
		s.mac.gen++
		gen := s.mac.gen
		s.mac.timer = s.clk.AfterFunc(d, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.mac.inflight == f && gen == s.mac.gen && !s.closed {
				s.strobe(f)
			}
		})
		return
	}
	if f.reps > 0 {
		s.cnt.StrobeRepeats++
	}
	f.reps++
	s.markPending(f)
	s.radioTx(f.psdu)
	air := medium.Airtime(len(f.psdu))
	step := air + StrobeGap
	s.mac.gen++
	gen := s.mac.gen
	next := s.strobe
	switch {
	case s.clk.Since(f.strobeStart)+step < s.cfg.StrobeTime:
	case f.ack:
		// The last repetition's ACK window closes the try.
		s.mac.timer = s.clk.AfterFunc(step, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.ackTimeout(gen)
		})
		return
	default:
		next = s.finishBroadcast
		step = air
	}
	s.mac.timer = s.clk.AfterFunc(step, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.mac.inflight == f && gen == s.mac.gen && !s.closed {
			next(f)
		}
	})
}

// finishBroadcast ends a broadcast strobe.
func (s *Stack) finishBroadcast(f *txFrame) {
	s.mac.inflight = nil
	s.mac.gen++
	s.mac.timer = nil
	if s.duty != nil {
		s.duty.release(forcedTx, s.clk.Now())
	}
	if f.done != nil {
		f.done(true, 1)
	}
	s.kickMAC()
}
