package stack

import (
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// Interframe spacing. One radio sends one frame at a time, and after a
// frame it waits an IFS before the next (IEEE 802.15.4-2006 §7.5.1.3): a
// short one (macMinSIFSPeriod, 12 symbols) after a frame of at most
// aMaxSIFSFrameSize octets, a long one (macMinLIFSPeriod, 40 symbols) after
// a longer one. For an acknowledged frame the IFS follows the
// acknowledgment. A symbol is 16 µs at 2.4 GHz (O-QPSK, §6.5.3.2).
//
// Without it a node answered at once — a border router whose gateway
// answers a mote in no emulated time, a mote whose next datagram was
// waiting for the one it just received — put its frame on the air at the
// very instant its own acknowledgment started (two frames at once from one
// radio) or the neighbour's acknowledgment ended, while a duty-cycled
// neighbour's radio was still on for that ACK exchange: the frame got
// through without waiting for the neighbour's next channel check, and a
// request/response exchange ran as if the neighbour's radio never slept.
// With the IFS the frame starts after the neighbour's radio went back to
// sleep (it sleeps when the ACK ends, see dutyAfterRx and finishInflight).
//
// ContikiMAC's strobe repetitions keep their own StrobeGap (shorter than
// the LIFS); they only wait for an ACK this radio is sending.
const (
	symbolTime       = 16 * time.Microsecond
	sifsPeriod       = 12 * symbolTime // macMinSIFSPeriod: 192 µs
	lifsPeriod       = 40 * symbolTime // macMinLIFSPeriod: 640 µs
	maxSIFSFrameSize = 18              // aMaxSIFSFrameSize, octets
)

// ifsAfter is the IFS that follows a frame of n octets (its PSDU).
func ifsAfter(n int) time.Duration {
	if n <= maxSIFSFrameSize {
		return sifsPeriod
	}
	return lifsPeriod
}

// txSent records that this radio put a frame of n octets on the air now:
// it is busy until the frame ends, and a new frame waits the IFS after it.
func (s *Stack) txSent(n int) {
	end := s.clk.Now().Add(medium.Airtime(n))
	s.mac.txEnd = end
	s.mac.nextTx = later(s.mac.nextTx, end.Add(ifsAfter(n)))
}

// txAcked records that the frame in flight, of n octets, was acknowledged
// now: the IFS follows the acknowledgment.
func (s *Stack) txAcked(n int) {
	s.mac.nextTx = later(s.mac.nextTx, s.clk.Now().Add(ifsAfter(n)))
}

// txWait is how long a new frame must wait before it may start.
func (s *Stack) txWait() time.Duration { return s.mac.nextTx.Sub(s.clk.Now()) }

// deferKick runs kickMAC again when the IFS has passed.
func (s *Stack) deferKick(d time.Duration) {
	if s.mac.kickT != nil {
		return
	}
	s.mac.kickT = s.clk.AfterFunc(d, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.mac.kickT = nil
		if !s.closed {
			s.kickMAC()
		}
	})
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
