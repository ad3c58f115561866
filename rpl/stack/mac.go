package stack

import (
	"slices"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// MAC constants. IEEE 802.15.4-2006 §7.4.2 defaults macMaxFrameRetries to
// 3; Contiki-NG's CSMA driver, which the paper's z1 motes ran, retries up
// to 7 times (CSMA_CONF_MAX_FRAME_RETRIES), and so do we: at 20 % frame
// loss a hop then fails once in about 3,500 frames instead of once in 60.
// A backoff period is 20 symbols (320 µs at 2.4 GHz); macMinBE 3, macMaxBE 5.
const (
	DefaultMaxFrameRetries = 7
	backoffPeriod          = 320 * time.Microsecond
	minBE, maxBE           = 3, 5
)

// txFrame is one MAC frame waiting to go out.
type txFrame struct {
	psdu  []byte
	dst   ieee802154.Address
	ack   bool
	tries int
	// Strobing (Config.StrobeTime): when the current strobe began and how
	// many repetitions it has sent.
	strobeStart time.Time
	reps        int
	// pending: the PSDU carries Frame Pending (framepending.go).
	pending bool
	// done is called once with the outcome (acked is true for broadcasts).
	done func(acked bool, tries int)
}

// mac is the CSMA-less 802.15.4 MAC with acknowledgments and retransmission:
// one unicast frame in flight, retried after AckWait plus a random backoff
// up to macMaxFrameRetries times. Guarded by Stack.mu.
type mac struct {
	queue    []*txFrame
	inflight *txFrame
	timer    clock.Timer
	gen      uint64 // invalidates stale ack timers
	// Interframe spacing (ifs.go): the end of the last frame this radio
	// sent, the earliest start of a new frame, and the timer that starts
	// a queued frame then.
	txEnd  time.Time
	nextTx time.Time
	kickT  clock.Timer
	seq    uint8
	// recent remembers the last frame per sender — sequence number and
	// FCS — to drop the duplicates a lost acknowledgment causes
	// (§7.5.6.1): a retransmission repeats the frame octet for octet. The
	// FCS stops a forged frame that took a neighbour's next sequence
	// number from making its real frame look like a duplicate (dropped
	// after it was acknowledged: lost for good at this hop).
	recent     map[ieee802154.Address]lastFrame
	recentList []ieee802154.Address // least recently heard first
}

// lastFrame identifies the last frame heard from a sender.
type lastFrame struct {
	seq uint8
	fcs uint16
}

const recentMax = 16

// enqueueFrame builds and queues a data frame. done may be nil.
func (s *Stack) enqueueFrame(dst ieee802154.Address, payload []byte, done func(bool, int)) {
	if len(s.mac.queue) >= s.cfg.TxQueue {
		s.cnt.MACQueueDrops++
		if done != nil {
			done(false, 0)
		}
		return
	}
	s.mac.seq++
	f := ieee802154.DataFrame(s.mac.seq, s.cfg.PAN, dst, s.lladdr, payload, true)
	psdu, err := f.AppendBinary(make([]byte, 0, f.Len()))
	if err != nil {
		s.cnt.MACQueueDrops++
		if done != nil {
			done(false, 0)
		}
		return
	}
	s.mac.queue = append(s.mac.queue, &txFrame{psdu: psdu, dst: dst, ack: f.AckRequest, done: done})
	s.kickMAC()
}

// kickMAC starts the next queued frame if none is in flight and the
// interframe spacing after this radio's last frame has passed.
func (s *Stack) kickMAC() {
	for s.mac.inflight == nil && len(s.mac.queue) > 0 && !s.closed {
		if d := s.txWait(); d > 0 {
			s.deferKick(d)
			return
		}
		f := s.mac.queue[0]
		s.mac.queue[0] = nil
		s.mac.queue = s.mac.queue[1:]
		if !f.ack && s.cfg.StrobeTime > 0 {
			// A broadcast strobe: repeated for the whole StrobeTime so
			// that every sleeping neighbour's check falls inside it.
			s.mac.inflight = f
			f.tries = 1
			s.startStrobe(f)
			continue
		}
		if !f.ack {
			s.radioTx(f.psdu)
			if f.done != nil {
				f.done(true, 1)
			}
			continue
		}
		s.mac.inflight = f
		s.transmitInflight()
	}
}

func (s *Stack) transmitInflight() {
	f := s.mac.inflight
	f.tries++
	if f.tries > 1 {
		s.cnt.MACRetries++
	}
	if s.cfg.StrobeTime > 0 {
		s.startStrobe(f)
		return
	}
	if s.duty != nil {
		s.duty.force(forcedTx, s.clk.Now())
	}
	s.radioTx(f.psdu)
	s.mac.gen++
	gen := s.mac.gen
	s.mac.timer = s.clk.AfterFunc(s.cfg.AckWait, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.ackTimeout(gen)
	})
}

func (s *Stack) ackTimeout(gen uint64) {
	f := s.mac.inflight
	if f == nil || gen != s.mac.gen || s.closed {
		return
	}
	if f.tries <= s.cfg.MaxFrameRetries {
		// Random backoff before the retransmission (§7.5.1.4), the
		// exponent growing with each attempt.
		be := min(minBE+f.tries-1, maxBE)
		d := time.Duration(s.rng.IntN(1<<be)) * backoffPeriod
		d = max(d, s.txWait())
		s.mac.gen++
		gen := s.mac.gen
		s.mac.timer = s.clk.AfterFunc(d, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.mac.inflight == f && gen == s.mac.gen && !s.closed {
				s.transmitInflight()
			}
		})
		return
	}
	s.cnt.MACTxFailed++
	s.finishInflight(false)
}

func (s *Stack) finishInflight(acked bool) {
	f := s.mac.inflight
	s.mac.inflight = nil
	s.mac.gen++
	if s.mac.timer != nil {
		s.mac.timer.Stop()
		s.mac.timer = nil
	}
	if s.duty != nil {
		s.duty.release(forcedTx, s.clk.Now())
	}
	if acked {
		s.cnt.MACTxAcked++
		s.txAcked(len(f.psdu))
	}
	if f.dst.Mode != ieee802154.AddrNone {
		s.rpl.LinkResult(f.dst, f.tries, acked)
	}
	if f.done != nil {
		f.done(acked, f.tries)
	}
	s.kickMAC()
}

// radioTx puts a PSDU on the air.
func (s *Stack) radioTx(psdu []byte) {
	s.cnt.TxFrames++
	s.cnt.TxOctets += uint64(len(psdu))
	s.txSent(len(psdu))
	if s.duty != nil {
		now := s.clk.Now()
		s.duty.txUntil = now.Add(medium.Airtime(len(psdu)))
		s.duty.on(now, s.duty.txUntil)
		s.dutyBusy(len(psdu))
	}
	if s.cfg.OnFrame != nil {
		s.cfg.OnFrame(Tx, len(psdu))
	}
	if err := s.radio.Transmit(psdu); err != nil {
		s.cnt.RadioErrors++
	}
}

// macInput handles one PSDU that reached the radio; it holds s.mu. A
// duty-cycled radio receives it only if it was on when the frame began.
func (s *Stack) macInput(psdu []byte) {
	if s.duty == nil {
		s.macFrame(psdu)
		return
	}
	s.flushListen()
	if !s.dutyReceive(len(psdu)) {
		return
	}
	s.dutyAfterRx(s.macFrame(psdu))
}

// macFrame handles one received PSDU. It reports whether more frames of a
// burst are coming: the frame was a unicast for this node with Frame
// Pending set, or a 6LoWPAN fragment for it that is not its datagram's
// last (see BurstHold).
func (s *Stack) macFrame(psdu []byte) (more bool) {
	f, _, err := ieee802154.Decode(psdu)
	if err != nil {
		s.countBad("802.15.4", err)
		s.overheard(len(psdu))
		return false
	}
	if f.Type == ieee802154.TypeAck {
		if in := s.mac.inflight; in != nil && f.Seq == in.psdu[2] {
			s.rxFrame(len(psdu))
			s.finishInflight(true)
			return false
		}
		s.overheard(len(psdu))
		return false
	}
	if f.Type != ieee802154.TypeData {
		s.overheard(len(psdu))
		return false
	}
	if f.DstPAN != s.cfg.PAN && f.DstPAN != ieee802154.BroadcastPAN {
		s.overheard(len(psdu))
		return false
	}
	// Any frame a neighbour sends shows it is alive, even one addressed
	// to someone else: it spares probing a busy parent.
	s.rpl.Heard(f.Src)
	if f.Dst != s.lladdr && !f.Dst.IsBroadcast() {
		s.overheard(len(psdu))
		return false
	}
	s.rxFrame(len(psdu))
	if f.AckRequest && f.Dst == s.lladdr {
		ack := ieee802154.AckFrame(f.Seq, false)
		b, _ := ack.AppendBinary(make([]byte, 0, 5))
		s.cnt.AcksSent++
		s.radioTx(b)
	}
	// Broadcasts too in a strobing network: a strobed broadcast repeats
	// the frame octet for octet, an always-on neighbour hears every
	// repetition and a sleeping one may check twice inside one strobe.
	dedup := f.Dst == s.lladdr || s.cfg.StrobeTime > 0 || s.duty != nil
	more = f.Dst == s.lladdr && (f.FramePending || fragmentFollows(f.Payload))
	if dedup && s.duplicate(f.Src, lastFrame{f.Seq, dedupFCS(psdu, f.FramePending)}) {
		s.cnt.MACDuplicates++
		return more
	}
	s.lowpanInput(f.Payload, f.Src, f.Dst)
	return more
}

// fragmentFollows reports whether a 6LoWPAN payload is a fragment with more
// of its datagram after it (RFC 4944 §5.3): a FRAG1, or a FRAGN that does
// not reach datagram_size.
func fragmentFollows(payload []byte) bool {
	h, n, err := lowpan.DecodeFragHeader(payload)
	if err != nil {
		return false
	}
	return h.First || int(h.Offset)*8+len(payload)-n < int(h.Size)
}

func (s *Stack) rxFrame(n int) {
	s.cnt.RxFrames++
	s.cnt.RxOctets += uint64(n)
	s.dutyBusy(n)
	if s.cfg.OnFrame != nil {
		s.cfg.OnFrame(Rx, n)
	}
}

func (s *Stack) overheard(n int) {
	s.cnt.OverheardFrames++
	s.dutyBusy(n)
	if s.cfg.OnFrame != nil {
		s.cfg.OnFrame(Overheard, n)
	}
}

// frameFCS returns the FCS octets of a decoded PSDU.
func frameFCS(psdu []byte) uint16 {
	n := len(psdu)
	return uint16(psdu[n-2]) | uint16(psdu[n-1])<<8
}

// duplicate reports whether lf from src repeats the last frame heard from
// it, and records it. The table is bounded (recentMax senders); the sender
// heard least recently is forgotten first, so forged source addresses can
// only push out neighbours that have been quiet longest.
func (s *Stack) duplicate(src ieee802154.Address, lf lastFrame) bool {
	if s.mac.recent == nil {
		s.mac.recent = make(map[ieee802154.Address]lastFrame)
	}
	if last, ok := s.mac.recent[src]; ok {
		s.mac.recent[src] = lf
		if i := slices.Index(s.mac.recentList, src); i >= 0 {
			s.mac.recentList = append(append(s.mac.recentList[:i], s.mac.recentList[i+1:]...), src)
		}
		return last == lf
	}
	if len(s.mac.recentList) >= recentMax {
		delete(s.mac.recent, s.mac.recentList[0])
		s.mac.recentList = s.mac.recentList[1:]
	}
	s.mac.recentList = append(s.mac.recentList, src)
	s.mac.recent[src] = lf
	return false
}
