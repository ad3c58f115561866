package stack

import (
	"bytes"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// moteCfg is a duty-cycled patient's mote as node/mote runs it on the
// mesh: a RPL leaf that does not strobe (its one neighbour, the border
// router, is always on).
func moteCfg() Config {
	c := Config{ChannelCheckInterval: testInterval}
	c.RPL.Leaf = true
	return c
}

// nextCheck returns the start of node i's first check window that does
// not end before t: a frame that begins at t while the node sleeps is
// received no earlier than that (detected there, then its next repetition).
func (n *dnet) nextCheck(t *testing.T, i int, at time.Time) time.Time {
	t.Helper()
	s := n.s[i]
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.duty.lastCheck(at)
	if !ok {
		t.Fatalf("node %d: no check before %v", i, at)
	}
	if at.Sub(c) >= CheckWindow {
		c = c.Add(s.duty.interval)
	}
	return c
}

// checkOneFrameAtATime fails if a node began a data frame before its
// previous frame ended, or sooner than a SIFS after its own ACK (IEEE
// 802.15.4-2006 §7.5.1.3). ACKs are exempt: a node acknowledges on
// reception, and the medium lets a radio hear while it sends.
func (n *dnet) checkOneFrameAtATime(t *testing.T) {
	t.Helper()
	n.txMu.Lock()
	defer n.txMu.Unlock()
	for i, recs := range n.tx {
		var busy time.Time // the radio may not begin a data frame before
		for _, r := range recs {
			if r.n != 5 && r.at.Before(busy) {
				t.Fatalf("node %d began a %d-octet frame at %v, %v before its previous frame had ended (plus a SIFS after an ACK)",
					i, r.n, r.at.Sub(epoch), busy.Sub(r.at))
			}
			end := r.at.Add(medium.Airtime(r.n))
			if r.n == 5 { // an ACK
				end = end.Add(sifsPeriod)
			}
			busy = later(busy, end)
		}
	}
}

// TestAnswerAtOnceWaitsForTheNextCheck: a border router whose gateway
// answers a duty-cycled mote's datagram in no emulated time (the moment
// the datagram is delivered, while the router's ACK is going out) sends the
// answer after its ACK and a SIFS, when the mote's radio, on only for that
// ACK exchange, has gone back to sleep: the answer waits for the mote's
// next channel check, as under ContikiMAC. Before the interframe spacing
// the answer started together with the ACK, the mote heard it in its ACK
// wait, and a request/response exchange (MQTT-SN CONNECT, TS challenge,
// REGISTER, ...) ran as if the mote's radio never slept.
func TestAnswerAtOnceWaitsForTheNextCheck(t *testing.T) {
	n, cr, cl := newDutyPair(t, rootCfg(testStrobe), moteCfg())
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[0].LinkLocal(), 1000))
	const rounds = 16
	var sum time.Duration
	for i := range rounds {
		n.clk.Advance(211*time.Millisecond + time.Duration(i)*7*time.Millisecond)
		since := n.clk.Now()
		req := []byte{'r', 'e', 'q', byte(i)}
		if _, err := cl.WriteTo(req, to); err != nil {
			t.Fatal(err)
		}
		up := n.cap.data(n.mac[1], n.mac[0], req, since)
		if len(up) != 1 {
			t.Fatalf("round %d: the request is not on the air at once (%d frames)", i, len(up))
		}
		// To the instant the request is delivered: the router's ACK
		// starts now, and so does the gateway's answer.
		n.clk.AdvanceTo(up[0].at.Add(medium.Airtime(up[0].n)))
		got, from, err := n.readFromNow(cr)
		if err != nil || !bytes.Equal(got, req) {
			t.Fatalf("round %d: the router got %q, %v", i, got, err)
		}
		ans := []byte{'a', 'n', 's', byte(i)}
		if _, err := cr.WriteToAddrPort(ans, from); err != nil {
			t.Fatal(err)
		}
		n.clk.Advance(400 * time.Millisecond)
		if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, ans) {
			t.Fatalf("round %d: the mote got %q, %v", i, got, err)
		}
		down := n.cap.data(n.mac[0], n.mac[1], ans, since)
		ack, ok := n.ackAt(down[0].f.Seq, down[0].at)
		if !ok {
			t.Fatalf("round %d: the answer was not acknowledged", i)
		}
		if c := n.nextCheck(t, 1, down[0].at); ack.Before(c) {
			t.Fatalf("round %d: the answer began %v after the request was delivered and was acknowledged %v later, before the mote's next check (%v after the answer began): its radio had not gone to sleep",
				i, down[0].at.Sub(n.clk.Now().Add(-400*time.Millisecond)), ack.Sub(down[0].at), c.Sub(down[0].at))
		}
		sum += ack.Sub(down[0].at)
	}
	n.checkOneFrameAtATime(t)
	mean := sum / rounds
	t.Logf("answer given at once: acknowledged %v after its strobe began (mean of %d)", mean, rounds)
	if mean < testInterval/4 {
		t.Errorf("mean wait %v for an answer, want about half the %v interval", mean, testInterval)
	}
}

// TestSecondDatagramFollowsInTheFramePendingBurst: two datagrams queued
// together for a duty-cycled node. The second starts no sooner than a
// LIFS after the first one's ACK (before the interframe spacing it started
// the instant the ACK ended, which the node judged still awake), and it
// gets through in the same wake-up: the repetition of the first the node
// received carried Frame Pending, so the node stayed on (BurstHold) and
// acknowledged the second's first repetition, a few ms after the first,
// long before its next check. The second carries no Frame Pending. Before
// the frame-pending burst the second waited for the node's next check.
func TestSecondDatagramFollowsInTheFramePendingBurst(t *testing.T) {
	n, cr, cl := newDutyPair(t, rootCfg(testStrobe), moteCfg())
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[1].LinkLocal(), 2000))
	var worst time.Duration
	for i := range 8 {
		n.clk.Advance(300*time.Millisecond + time.Duration(i)*13*time.Millisecond)
		since := n.clk.Now()
		a, b := []byte{'o', 'n', 'e', byte(i)}, []byte{'t', 'w', 'o', byte(i)}
		cr.WriteTo(a, to)
		cr.WriteTo(b, to)
		n.clk.Advance(600 * time.Millisecond)
		for _, want := range [][]byte{a, b} {
			if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("round %d: got %q, %v; want %q", i, got, err, want)
			}
		}
		first, second := n.cap.data(n.mac[0], n.mac[1], a, since), n.cap.data(n.mac[0], n.mac[1], b, since)
		ack1, ok1 := n.ackAt(first[0].f.Seq, first[0].at)
		ack2, ok2 := n.ackAt(second[0].f.Seq, second[0].at)
		if !ok1 || !ok2 {
			t.Fatalf("round %d: ACKs %v %v", i, ok1, ok2)
		}
		if gap := second[0].at.Sub(ack1.Add(medium.Airtime(5))); gap < lifsPeriod {
			t.Fatalf("round %d: the second datagram began %v after the first one's ACK ended, want >= a LIFS (%v)", i, gap, lifsPeriod)
		}
		// The repetition the node acknowledged is the last one before
		// its ACK.
		var heard capFrame
		for _, r := range first {
			if r.at.Before(ack1) {
				heard = r
			}
		}
		if !heard.f.FramePending {
			t.Fatalf("round %d: the repetition of the first datagram the node acknowledged carries no Frame Pending", i)
		}
		for _, r := range second {
			if r.f.FramePending {
				t.Fatalf("round %d: the second datagram (nothing queued behind it) carries Frame Pending", i)
			}
		}
		if len(second) != 1 {
			t.Fatalf("round %d: the second datagram took %d repetitions, want 1 (the node still on from the first)", i, len(second))
		}
		if d := ack2.Sub(ack1); d > BurstHold {
			t.Fatalf("round %d: the second datagram was acknowledged %v after the first, want within BurstHold (%v)", i, d, BurstHold)
		}
		if c := n.nextCheck(t, 1, ack1.Add(CheckWindow)); !ack2.Before(c) {
			t.Fatalf("round %d: the second datagram waited for the node's next check", i)
		}
		worst = max(worst, ack2.Sub(ack1))
	}
	t.Logf("the second datagram acknowledged at most %v after the first (8 rounds)", worst)
	n.checkOneFrameAtATime(t)
}
