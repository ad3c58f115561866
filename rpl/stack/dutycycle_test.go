package stack

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// ContikiMAC at 8 Hz: the receivers' check interval and the senders'
// strobe (interval plus a few ms).
const (
	testInterval = 125 * time.Millisecond
	testStrobe   = 130 * time.Millisecond // enough for the small frames the tests time
)

var testPrefix = netip.MustParsePrefix("fd00:1::/64")

// capFrame is one frame the medium carried.
type capFrame struct {
	at time.Time
	f  ieee802154.Frame
	n  int
}

// capture records every frame on the medium, decoded.
type capture struct {
	mu     sync.Mutex
	frames []capFrame
}

func (c *capture) WriteFrame(at time.Time, psdu []byte) error {
	f, _, err := ieee802154.Decode(bytes.Clone(psdu))
	if err != nil {
		return nil
	}
	c.mu.Lock()
	c.frames = append(c.frames, capFrame{at, f, len(psdu)})
	c.mu.Unlock()
	return nil
}

// data returns the data frames from src to dst whose payload ends with
// tail (the UDP payload, uncompressed at the end of the 6LoWPAN packet),
// sent at or after since.
func (c *capture) data(src, dst ieee802154.Address, tail []byte, since time.Time) []capFrame {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []capFrame
	for _, x := range c.frames {
		if x.f.Type == ieee802154.TypeData && x.f.Src == src && x.f.Dst == dst &&
			!x.at.Before(since) && bytes.HasSuffix(x.f.Payload, tail) {
			out = append(out, x)
		}
	}
	return out
}

// dnode is one node of a test mesh.
type dnode struct {
	x   float64
	cfg Config
}

type dnet struct {
	clk    *clock.Virtual
	m      *medium.Medium
	cap    *capture
	s      []*Stack
	mac    []ieee802154.Address
	listen []time.Duration // sum of OnListen calls per node
	txMu   sync.Mutex
	tx     [][]txRec // frames each node sent (OnFrame Tx)
}

// txRec is one frame a node sent: when it began and its length.
type txRec struct {
	at time.Time
	n  int
}

func rootCfg(strobe time.Duration) Config {
	return Config{StrobeTime: strobe, RPL: dodag.Config{Root: true, Prefix: testPrefix}}
}

func leafCfg() Config {
	return Config{ChannelCheckInterval: testInterval, StrobeTime: StrobeTimeFor(testInterval)}
}

// newDutyNet starts nodes on a line (unit disk of 50 m) on a virtual clock.
func newDutyNet(t *testing.T, nodes ...dnode) *dnet {
	t.Helper()
	v := clock.NewVirtual(epoch)
	n := &dnet{clk: v, cap: &capture{}, listen: make([]time.Duration, len(nodes)), tx: make([][]txRec, len(nodes))}
	n.m = medium.New(medium.Config{Clock: v, Seed: 1, Range: 50, Capture: n.cap})
	for i, nd := range nodes {
		addr := ieee802154.Ext(extAddr(byte(i + 1)))
		n.m.SetPosition(addr, medium.Position{X: nd.x})
		port, err := n.m.Attach(addr, uint16(i+1))
		if err != nil {
			t.Fatal(err)
		}
		c := nd.cfg
		c.Addr, c.Radio, c.Clock, c.Seed = addr.Ext, port, v, uint64(i+1)
		c.OnListen = func(d time.Duration) { n.listen[i] += d }
		c.OnFrame = func(d Dir, octets int) {
			if d == Tx {
				n.txMu.Lock()
				n.tx[i] = append(n.tx[i], txRec{v.Now(), octets})
				n.txMu.Unlock()
			}
		}
		s, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		n.s = append(n.s, s)
		n.mac = append(n.mac, addr)
	}
	t.Cleanup(func() {
		for _, s := range n.s {
			s.Close()
		}
		n.m.Close()
	})
	return n
}

// newDutyPair starts a root and one node 10 m from it, lets the node join
// and settle for 5 s, and opens UDP port 1000 on the root (cr) and 2000 on
// the node (cl).
func newDutyPair(t *testing.T, root, node Config) (n *dnet, cr, cl *UDPConn) {
	t.Helper()
	n = newDutyNet(t, dnode{0, root}, dnode{10, node})
	n.waitJoined(t, 1)
	n.clk.Advance(5 * time.Second)
	cr, _ = n.s[0].ListenUDP(1000)
	cl, _ = n.s[1].ListenUDP(2000)
	return n, cr, cl
}

// readNow returns a datagram c holds, without advancing the clock: every
// step of a test that uses it is driven by the clock alone, so its timing
// is deterministic.
func (n *dnet) readNow(c *UDPConn) ([]byte, error) {
	b, _, err := n.readFromNow(c)
	return b, err
}

func (n *dnet) readFromNow(c *UDPConn) ([]byte, netip.AddrPort, error) {
	c.SetReadDeadline(n.clk.Now())
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, 2048)
	k, from, err := c.ReadFromAddrPort(buf)
	return buf[:k], from, err
}

// waitJoined advances the clock until node i has a global address.
func (n *dnet) waitJoined(t *testing.T, i int) {
	t.Helper()
	for deadline := n.clk.Now().Add(60 * time.Second); n.clk.Now().Before(deadline); n.clk.Advance(10 * time.Millisecond) {
		if _, ok := n.s[i].GlobalAddr(); ok {
			return
		}
	}
	t.Fatalf("node %d did not join in 60 s", i)
}

// waitRoute advances the clock until the root (node 0) has a route to node i.
func (n *dnet) waitRoute(t *testing.T, i int) netip.Addr {
	t.Helper()
	for deadline := n.clk.Now().Add(60 * time.Second); n.clk.Now().Before(deadline); n.clk.Advance(10 * time.Millisecond) {
		a, ok := n.s[i].GlobalAddr()
		if !ok {
			continue
		}
		for _, r := range n.s[0].Routes() {
			if r.Target == a {
				return a
			}
		}
	}
	t.Fatalf("the root has no route to node %d after 60 s", i)
	return netip.Addr{}
}

// ackFor returns the time of the first ACK with seq sent at or after since.
func (n *dnet) ackAt(seq uint8, since time.Time) (time.Time, bool) {
	n.cap.mu.Lock()
	defer n.cap.mu.Unlock()
	for _, x := range n.cap.frames {
		if x.f.Type == ieee802154.TypeAck && x.f.Seq == seq && !x.at.Before(since) {
			return x.at, true
		}
	}
	return time.Time{}, false
}

// worstWait is the longest a strobe of an n-octet frame to a node with a
// testInterval check takes to be acknowledged: the check falls at most one
// interval after the strobe began, possibly just after a repetition began
// (missed), so the next one is received.
func worstWait(n int) time.Duration {
	return testInterval + 2*medium.Airtime(n) + StrobeGap + 10*time.Microsecond
}

// maxReps is the most repetitions a strobe of an n-octet frame may send.
func maxReps(n int) int {
	return int(testStrobe/(medium.Airtime(n)+StrobeGap)) + 1
}

// TestStrobedUnicastReachesSleepingNode: an always-on strobing sender (a
// border router) reaches a duty-cycled node within one check interval of
// starting the strobe, with a bounded number of repetitions, and the node
// acknowledges the repetition it hears. Several sends at different phases
// show the node really sleeps: early repetitions are slept through.
func TestStrobedUnicastReachesSleepingNode(t *testing.T) {
	n, cr, cl := newDutyPair(t, rootCfg(testStrobe), leafCfg())
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[1].LinkLocal(), 2000))
	var slowest time.Duration
	for i := range 6 {
		n.clk.Advance(time.Duration(i)*37*time.Millisecond + 3*time.Millisecond)
		since := n.clk.Now()
		msg := []byte{'d', 'o', 'w', 'n', byte(i)}
		if _, err := cr.WriteTo(msg, to); err != nil {
			t.Fatal(err)
		}
		n.clk.Advance(400 * time.Millisecond)
		if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
		reps := n.cap.data(n.mac[0], n.mac[1], msg, since)
		if len(reps) == 0 || len(reps) > maxReps(reps[0].n) {
			t.Fatalf("message %d: %d repetitions, want 1..%d", i, len(reps), maxReps(reps[0].n))
		}
		ack, ok := n.ackAt(reps[0].f.Seq, reps[0].at)
		if !ok {
			t.Fatalf("message %d: no ACK", i)
		}
		// Delivered within one interval of the strobe's start, plus the
		// repetition the check caught mid-air and the next one, which the
		// node receives and acknowledges.
		took := ack.Sub(reps[0].at)
		if limit := worstWait(reps[0].n); took > limit {
			t.Fatalf("message %d: acknowledged %v after the strobe began, want <= %v", i, took, limit)
		}
		slowest = max(slowest, took)
	}
	if slowest < 10*time.Millisecond {
		t.Fatalf("every message was acknowledged within %v: the node never slept", slowest)
	}
	if c := n.s[1].Counters(); c.SleptThrough == 0 {
		t.Fatal("no frame was slept through")
	}
	if c := n.s[0].Counters(); c.StrobeRepeats == 0 || c.MACTxFailed != 0 {
		t.Fatalf("sender: %d repeats, %d failed", c.StrobeRepeats, c.MACTxFailed)
	}
}

// TestUnstrobedFrameToSleepingNodeIsLost: without strobing, a frame sent
// between two checks reaches a sleeping radio: not received, not
// acknowledged, counted.
func TestUnstrobedFrameToSleepingNodeIsLost(t *testing.T) {
	root := rootCfg(0)
	root.MaxFrameRetries = -1
	n, cr, cl := newDutyPair(t, root, Config{ChannelCheckInterval: testInterval})
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[1].LinkLocal(), 2000))
	leaf := n.s[1]
	// Send just after a check window, while nothing holds the radio on.
	sent := false
	for range 40 {
		leaf.mu.Lock()
		c, _ := leaf.duty.lastCheck(n.clk.Now())
		leaf.mu.Unlock()
		n.clk.AdvanceTo(c.Add(testInterval + CheckWindow + time.Millisecond))
		leaf.mu.Lock()
		asleep := !leaf.duty.onAt(n.clk.Now()) && leaf.mac.inflight == nil
		leaf.mu.Unlock()
		if asleep {
			sent = true
			break
		}
	}
	if !sent {
		t.Fatal("the node never slept")
	}
	before, rb := leaf.Counters(), n.s[0].Counters()
	cr.WriteTo([]byte("lost"), to)
	n.clk.Advance(200 * time.Millisecond)
	if got, err := n.readNow(cl); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a frame to a sleeping radio was received: %q, %v", got, err)
	}
	after, ra := leaf.Counters(), n.s[0].Counters()
	if after.SleptThrough <= before.SleptThrough {
		t.Error("the lost frame was not counted as slept through")
	}
	if after.AcksSent != before.AcksSent || after.UDPRx != before.UDPRx {
		t.Errorf("the sleeping node acknowledged (%d→%d) or delivered (%d→%d)", before.AcksSent, after.AcksSent, before.UDPRx, after.UDPRx)
	}
	if ra.MACTxFailed != rb.MACTxFailed+1 {
		t.Errorf("sender failures %d→%d, want one more", rb.MACTxFailed, ra.MACTxFailed)
	}
}

// TestStrobedBroadcastReachesSleepingNode: a broadcast strobe lasts a whole
// interval, so a sleeping neighbour's check falls inside it; the node hears
// it once (it sleeps again after receiving it, and drops a repetition
// heard at a second check as a duplicate). RPL DIOs reach joined sleeping
// nodes this way.
func TestStrobedBroadcastReachesSleepingNode(t *testing.T) {
	n := newDutyNet(t, dnode{0, rootCfg(testStrobe)}, dnode{10, leafCfg()})
	n.waitJoined(t, 1)
	n.clk.Advance(5 * time.Second)
	dio := n.s[1].Status().Stats.Rx.DIO
	cr, _ := n.s[0].ListenUDP(1000)
	cl, _ := n.s[1].ListenUDP(2000)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(AllNodes, 2000))
	before := n.s[1].Counters()
	for i := range 5 {
		n.clk.Advance(time.Duration(i)*41*time.Millisecond + time.Second)
		msg := []byte{'b', 'c', 'a', 's', 't', byte(i)}
		cr.WriteTo(msg, to)
		n.clk.Advance(400 * time.Millisecond)
		if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("broadcast %d: %q, %v", i, got, err)
		}
		n.clk.Advance(300 * time.Millisecond)
		if _, err := n.readNow(cl); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("broadcast %d delivered twice: %v", i, err)
		}
	}
	after := n.s[1].Counters()
	if after.SleptThrough == before.SleptThrough {
		t.Error("no broadcast repetition was slept through: the node was awake throughout")
	}
	n.clk.Advance(30 * time.Second)
	if got := n.s[1].Status().Stats.Rx.DIO; got <= dio {
		t.Errorf("the sleeping node heard no DIO in 35 s (%d → %d)", dio, got)
	}
}

// TestAlwaysOnReceiverAcksFirstRepetition: a strobe to an always-on radio
// (the border router) ends with its first repetition.
func TestAlwaysOnReceiverAcksFirstRepetition(t *testing.T) {
	n, cr, cl := newDutyPair(t, rootCfg(testStrobe), leafCfg())
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[0].LinkLocal(), 1000))
	quiet := 0
	for i := range 8 {
		n.clk.Advance(150 * time.Millisecond) // past any strobe on the air
		since := n.clk.Now()
		msg := []byte{'u', 'p', byte(i)}
		cl.WriteTo(msg, to)
		n.clk.Advance(400 * time.Millisecond)
		if got, err := n.readNow(cr); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
		reps := n.cap.data(n.mac[1], n.mac[0], msg, since)
		if len(reps) == 0 {
			t.Fatalf("message %d: not on the air", i)
		}
		// The medium models no collisions and delivers each radio's
		// frames in order: a DIO strobe on the air at the same time
		// delays the ACK. Judge only strobes on a quiet channel.
		if !n.quiet(reps[0].at, n.mac[1], n.mac[0]) {
			continue
		}
		quiet++
		if len(reps) != 1 {
			t.Fatalf("message %d: %d repetitions to an always-on radio, want 1", i, len(reps))
		}
	}
	if quiet < 3 {
		t.Fatalf("only %d of 8 messages went out on a quiet channel", quiet)
	}
}

// quiet reports whether no frame other than a and b's data and ACKs was
// on the air within 10 ms of at.
func (n *dnet) quiet(at time.Time, a, b ieee802154.Address) bool {
	n.cap.mu.Lock()
	defer n.cap.mu.Unlock()
	for _, x := range n.cap.frames {
		if x.at.Before(at.Add(-10*time.Millisecond)) || x.at.After(at.Add(10*time.Millisecond)) {
			continue
		}
		if x.f.Type == ieee802154.TypeAck || (x.f.Src == a && x.f.Dst == b) {
			continue
		}
		return false
	}
	return true
}

// TestDutyCycledMeshCarriesUDPBothWays: root, relay and leaf in a line
// (the leaf out of the root's range), relay and leaf duty-cycled: both join
// (scanning with the radio on), routes form, and UDP flows up and down
// through the sleeping relay.
func TestDutyCycledMeshCarriesUDPBothWays(t *testing.T) {
	root := rootCfg(StrobeTimeFor(testInterval)) // fragments up to 127 octets
	n := newDutyNet(t, dnode{0, root}, dnode{40, leafCfg()}, dnode{80, leafCfg()})
	n.waitJoined(t, 2)
	leafAddr := n.waitRoute(t, 2)
	if st := n.s[2].Status(); st.Rank <= n.s[1].Status().Rank {
		t.Fatalf("leaf rank %d not below the relay's %d", st.Rank, n.s[1].Status().Rank)
	}
	rootAddr, _ := n.s[0].GlobalAddr()
	cr, _ := n.s[0].ListenUDP(1000)
	cl, _ := n.s[2].ListenUDP(2000)
	for i := range 4 {
		up := bytes.Repeat([]byte{byte('u' + i)}, 40+60*i) // the larger ones fragment
		if _, err := cl.WriteToAddrPort(up, netip.AddrPortFrom(rootAddr, 1000)); err != nil {
			t.Fatal(err)
		}
		n.clk.Advance(3 * time.Second)
		got, from, err := n.readFromNow(cr)
		if err != nil || !bytes.Equal(got, up) || from.Addr() != leafAddr {
			t.Fatalf("up %d: %d bytes from %v, %v", i, len(got), from, err)
		}
		down := bytes.Repeat([]byte{byte('d' + i)}, 40+60*i)
		if _, err := cr.WriteToAddrPort(down, from); err != nil {
			t.Fatal(err)
		}
		n.clk.Advance(3 * time.Second)
		if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, down) {
			t.Fatalf("down %d: %d bytes, %v", i, len(got), err)
		}
	}
	for i := 1; i <= 2; i++ {
		c := n.s[i].Counters()
		t.Logf("node %d: %d frames slept through, %d strobe repeats, listened %v", i, c.SleptThrough, c.StrobeRepeats, c.ListenTime)
		if c.SleptThrough == 0 {
			t.Errorf("node %d never slept through a frame", i)
		}
	}
}

// TestIdleListenTime: an idle joined node's listen time is about its check
// windows (CheckWindow per interval, 0.4 %), plus a little for DIOs; an
// unjoined node scans with its radio on. OnListen's sum is
// Counters.ListenTime.
func TestIdleListenTime(t *testing.T) {
	n := newDutyNet(t, dnode{0, rootCfg(testStrobe)}, dnode{10, leafCfg()}, dnode{1000, leafCfg()})
	n.waitJoined(t, 1)
	n.clk.Advance(20 * time.Second)
	l0, lone0 := n.s[1].Counters().ListenTime, n.s[2].Counters().ListenTime
	const span = 2 * time.Minute
	n.clk.Advance(span)
	c := n.s[1].Counters()
	frac := float64(c.ListenTime-l0) / float64(span)
	floor := float64(CheckWindow) / float64(testInterval)
	t.Logf("idle joined node: listened %v in %v (%.3f %%; checks alone %.3f %%)", c.ListenTime-l0, span, 100*frac, 100*floor)
	if frac < 0.9*floor || frac > 2.5*floor {
		t.Errorf("idle joined node listened %.3f %% of the time, want %.3f–%.3f %%", 100*frac, 90*floor, 250*floor)
	}
	if c.ListenTime != n.listen[1] {
		t.Errorf("Counters.ListenTime %v, OnListen sum %v", c.ListenTime, n.listen[1])
	}
	// Node 2 is out of everyone's range: never joined, radio on.
	lone := n.s[2].Counters().ListenTime - lone0
	if lf := float64(lone) / float64(span); lf < 0.9 {
		t.Errorf("unjoined node listened %.1f %% of the time, want > 90 %%", 100*lf)
	}
	// SettleListen reports at once what the periodic report has not yet.
	n.clk.Advance(500 * time.Millisecond)
	n.s[1].SettleListen()
	n.s[1].mu.Lock()
	settled := n.s[1].duty.acctTo
	n.s[1].mu.Unlock()
	if want := n.clk.Now().Add(-listenLag); !settled.Equal(want) {
		t.Errorf("SettleListen settled up to %v, want %v", settled, want)
	}
	if got := n.s[1].Counters().ListenTime; got != n.listen[1] {
		t.Errorf("after SettleListen: Counters.ListenTime %v, OnListen sum %v", got, n.listen[1])
	}
	// An always-on radio reports nothing.
	if n.listen[0] != 0 || n.s[0].Counters().ListenTime != 0 {
		t.Errorf("always-on root reported listen time %v", n.listen[0])
	}
}

// TestDutyCycleAccountingIsExact drives the radio-on bookkeeping with
// random receptions (reaching back one airtime), transmissions, forced
// stretches and settles, and checks the settled radio-on time against the
// exact measure of the union of check windows and those stretches.
func TestDutyCycleAccountingIsExact(t *testing.T) {
	type iv struct{ from, to time.Time }
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		d := newDutyCycle(100*time.Millisecond, seed, epoch)
		var ivs []iv
		now := epoch
		var forcedFrom time.Time
		forced := false
		for now.Sub(epoch) < 5*time.Second {
			now = now.Add(time.Duration(rng.Int64N(int64(30 * time.Millisecond))))
			switch rng.IntN(4) {
			case 0: // a frame received: on over its airtime, then a hold
				air := time.Duration(rng.Int64N(int64(4 * time.Millisecond)))
				d.on(now.Add(-air), now)
				d.on(now, now.Add(BurstHold))
				ivs = append(ivs, iv{now.Add(-air), now.Add(BurstHold)})
			case 1: // a frame sent
				d.on(now, now.Add(time.Millisecond))
				ivs = append(ivs, iv{now, now.Add(time.Millisecond)})
			case 2:
				if !forced {
					d.force(forcedTx, now)
					forced, forcedFrom = true, now
				} else {
					d.release(forcedTx, now)
					forced = false
					ivs = append(ivs, iv{forcedFrom, now})
				}
			case 3:
				d.settle(now)
			}
		}
		if forced {
			d.release(forcedTx, now)
			ivs = append(ivs, iv{forcedFrom, now})
		}
		horizon := now.Add(time.Second)
		d.settle(horizon.Add(listenLag))
		for c := epoch.Add(d.phase); c.Before(horizon); c = c.Add(d.interval) {
			ivs = append(ivs, iv{c, c.Add(CheckWindow)})
		}
		slices.SortFunc(ivs, func(a, b iv) int { return a.from.Compare(b.from) })
		var want time.Duration
		var cur iv
		for i, x := range ivs {
			x.to = minTime(x.to, horizon)
			switch {
			case i == 0:
				cur = x
			case !x.from.After(cur.to):
				cur.to = maxTime(cur.to, x.to)
			default:
				want += cur.to.Sub(cur.from)
				cur = x
			}
		}
		want += cur.to.Sub(cur.from)
		if d.onTotal != want {
			t.Fatalf("seed %d: settled radio-on %v, exact union %v", seed, d.onTotal, want)
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestDownlinkLatencyIsAboutHalfAnInterval: downlinks from an always-on
// strobing border router to a duty-cycled node wait for the node's next
// check: uniform over one interval, so about half an interval on average
// and never more than one (plus the repetition on the air). Driven by the
// clock alone, so the figures reproduce exactly; docs/BENCHMARKS.md
// "## Radio mesh" quotes them.
func TestDownlinkLatencyIsAboutHalfAnInterval(t *testing.T) {
	leaf := leafCfg()
	leaf.RPL.Leaf = true // as a patient's mote: no DIOs of its own
	n, cr, cl := newDutyPair(t, rootCfg(testStrobe), leaf)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[1].LinkLocal(), 2000))
	const msgs = 40
	t0, l0 := n.clk.Now(), n.s[1].Counters().ListenTime
	var sum, worst time.Duration
	reps := 0
	for i := range msgs {
		n.clk.Advance(211*time.Millisecond + time.Duration(i)*7*time.Millisecond)
		since := n.clk.Now()
		msg := []byte{'l', 'a', 't', byte(i)}
		cr.WriteTo(msg, to)
		n.clk.Advance(400 * time.Millisecond)
		if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %q, %v", i, got, err)
		}
		r := n.cap.data(n.mac[0], n.mac[1], msg, since)
		ack, ok := n.ackAt(r[0].f.Seq, r[0].at)
		if !ok {
			t.Fatalf("message %d: no ACK", i)
		}
		d := ack.Sub(r[0].at)
		sum += d
		worst = max(worst, d)
		reps += len(r)
	}
	mean := sum / msgs
	el := n.clk.Since(t0)
	extra := (n.s[1].Counters().ListenTime - l0 - el*CheckWindow/testInterval) / msgs
	t.Logf("downlink to a sleeping node: mean %v, worst %v after the strobe began; %.1f repetitions per frame; the node listened %v per downlink beyond its checks (the root's DIOs included)",
		mean, worst, float64(reps)/msgs, extra)
	if mean < testInterval/4 || mean > 3*testInterval/4 {
		t.Errorf("mean downlink wait %v, want about half the %v interval", mean, testInterval)
	}
	if limit := worstWait(n.cap.data(n.mac[0], n.mac[1], []byte{'l', 'a', 't', 0}, epoch)[0].n); worst > limit {
		t.Errorf("worst downlink wait %v, want <= %v", worst, limit)
	}
}

// TestDutyCycleOnRealClockClosesCleanly: on the real clock the listen
// flush timer is a time.AfterFunc; Close stops it (goleak checks in
// TestMain) and a closed stack reports no more listen time.
func TestDutyCycleOnRealClockClosesCleanly(t *testing.T) {
	m := medium.New(medium.Config{})
	defer m.Close()
	addr := ieee802154.Ext(extAddr(9))
	port, err := m.Attach(addr, 9)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var heard time.Duration
	s, err := New(Config{Addr: addr.Ext, Radio: port, ChannelCheckInterval: testInterval, StrobeTime: testStrobe,
		OnListen: func(d time.Duration) { mu.Lock(); heard += d; mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Counters()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if heard != c.ListenTime {
		t.Fatalf("OnListen sum %v, Counters.ListenTime %v", heard, c.ListenTime)
	}
}

// TestFragmentBurstNeedsOneCheck: a fragmented datagram to a sleeping node
// waits for one check only; the radio stays on (BurstHold) after each
// fragment that has more behind it, and sleeps after the last. Without
// the hold each further fragment would wait about a whole interval.
func TestFragmentBurstNeedsOneCheck(t *testing.T) {
	leaf := leafCfg()
	leaf.RPL.Leaf = true
	n, cr, cl := newDutyPair(t, rootCfg(StrobeTimeFor(testInterval)), leaf)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[1].LinkLocal(), 2000))
	for i := range 5 {
		n.clk.Advance(300*time.Millisecond + time.Duration(i)*29*time.Millisecond)
		since := n.clk.Now()
		msg := bytes.Repeat([]byte{byte('f' + i)}, 300) // three fragments
		cr.WriteTo(msg, to)
		n.clk.Advance(time.Second)
		if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("datagram %d: %d bytes, %v", i, len(got), err)
		}
		// The last ACK the node sent for the root's frames.
		var first, last time.Time
		n.cap.mu.Lock()
		for _, x := range n.cap.frames {
			if x.at.Before(since) {
				continue
			}
			if x.f.Type == ieee802154.TypeData && x.f.Src == n.mac[0] && x.f.Dst == n.mac[1] && first.IsZero() {
				first = x.at
			}
			if x.f.Type == ieee802154.TypeAck && x.at.Before(since.Add(500*time.Millisecond)) {
				last = x.at
			}
		}
		n.cap.mu.Unlock()
		if took, limit := last.Sub(first), worstWait(127)+4*(medium.Airtime(127)+StrobeGap); took > limit {
			t.Fatalf("datagram %d: %v from the first fragment's strobe to the last ACK, want <= %v (one check)", i, took, limit)
		}
	}
	if c := n.s[0].Counters(); c.FragmentedTx != 5 {
		t.Fatalf("fragmented datagrams %d, want 5", c.FragmentedTx)
	}
}
