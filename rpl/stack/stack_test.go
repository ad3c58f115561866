package stack

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var epoch = time.Unix(1_700_000_000, 0)

type pair struct {
	clk  *clock.Virtual
	m    *medium.Medium
	a, b *Stack
	ma   ieee802154.Address
	mb   ieee802154.Address
	evA  []frameEv
	evB  []frameEv
}

type frameEv struct {
	dir Dir
	n   int
}

func extAddr(n byte) ieee802154.ExtAddr { return ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0, 0, n} }

// newPair starts two neighbouring stacks 10 m apart; links, when set,
// replace the disk model with explicit probabilities a→b and b→a.
func newPair(t *testing.T, ab, ba float64, cfg Config) *pair {
	t.Helper()
	v := clock.NewVirtual(epoch)
	mcfg := medium.Config{Clock: v, Seed: 1}
	if ab >= 0 {
		mcfg.Model = medium.ModelLinks
	}
	p := &pair{clk: v, m: medium.New(mcfg), ma: ieee802154.Ext(extAddr(1)), mb: ieee802154.Ext(extAddr(2))}
	if ab >= 0 {
		p.m.SetLink(p.ma, p.mb, ab)
		p.m.SetLink(p.mb, p.ma, ba)
	}
	p.m.SetPosition(p.ma, medium.Position{})
	p.m.SetPosition(p.mb, medium.Position{X: 10})
	mk := func(addr ieee802154.Address, ev *[]frameEv) *Stack {
		port, err := p.m.Attach(addr, 1)
		if err != nil {
			t.Fatal(err)
		}
		c := cfg
		c.Addr, c.Radio, c.Clock, c.Seed = addr.Ext, port, v, uint64(addr.Ext[7])
		c.OnFrame = func(d Dir, n int) { *ev = append(*ev, frameEv{d, n}) }
		s, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	p.a = mk(p.ma, &p.evA)
	p.b = mk(p.mb, &p.evB)
	t.Cleanup(func() { p.a.Close(); p.b.Close(); p.m.Close() })
	return p
}

// recv reads one datagram from c while advancing the virtual clock.
func (p *pair) recv(t *testing.T, c *UDPConn, max time.Duration) ([]byte, netip.AddrPort, error) {
	t.Helper()
	type res struct {
		b    []byte
		from netip.AddrPort
		err  error
	}
	ch := make(chan res, 1)
	c.SetReadDeadline(time.Time{})
	go func() {
		buf := make([]byte, 2048)
		n, from, err := c.ReadFromAddrPort(buf)
		ch <- res{buf[:n], from, err}
	}()
	deadline := p.clk.Now().Add(max)
	for {
		select {
		case r := <-ch:
			return r.b, r.from, r.err
		default:
		}
		if p.clk.Now().After(deadline) {
			c.SetReadDeadline(p.clk.Now()) // unblock the reader
			r := <-ch
			return r.b, r.from, r.err
		}
		p.clk.Advance(time.Millisecond)
	}
}

func TestLinkLocalUDPAndFragments(t *testing.T) {
	p := newPair(t, -1, -1, Config{})
	ca, err := p.a.ListenUDP(1000)
	if err != nil {
		t.Fatal(err)
	}
	cb, _ := p.b.ListenUDP(2000)
	if _, err := p.a.ListenUDP(1000); !errors.Is(err, ErrPortInUse) {
		t.Fatalf("second ListenUDP on a port: %v", err)
	}
	for _, size := range []int{10, 90, 600} {
		msg := bytes.Repeat([]byte{byte(size)}, size)
		to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.a.LinkLocal(), 1000))
		if _, err := cb.WriteTo(msg, to); err != nil {
			t.Fatal(err)
		}
		got, from, err := p.recv(t, ca, time.Second)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !bytes.Equal(got, msg) || from != netip.AddrPortFrom(p.b.LinkLocal(), 2000) {
			t.Fatalf("size %d: got %d bytes from %v", size, len(got), from)
		}
	}
	if c := p.b.Counters(); c.FragmentedTx != 1 || c.UDPTx != 3 {
		t.Fatalf("sender counters %+v: want one fragmented packet of three", c)
	}
	if c := p.a.Counters(); c.UDPRx != 3 {
		t.Fatalf("receiver counters %+v", c)
	}
}

func TestRetransmissionOverLossyLink(t *testing.T) {
	p := newPair(t, 0.7, 0.7, Config{})
	ca, _ := p.a.ListenUDP(1000)
	cb, _ := p.b.ListenUDP(2000)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.a.LinkLocal(), 1000))
	const n = 40
	got := 0
	for i := 0; i < n; i++ {
		cb.WriteTo([]byte{byte(i)}, to)
		if _, _, err := p.recv(t, ca, time.Second); err == nil {
			got++
		}
	}
	c := p.b.Counters()
	if c.MACRetries == 0 {
		t.Fatal("no retransmissions over a 70% link")
	}
	if uint64(got) != uint64(n)-c.MACTxFailed {
		t.Fatalf("received %d of %d with %d MAC failures", got, n, c.MACTxFailed)
	}
	// 7 retries: a frame is lost only if 8 attempts all fail (each succeeds
	// with 0.7·0.7 = 0.49 including the ack), about 0.5 % of frames.
	if got < n-2 {
		t.Fatalf("received %d of %d", got, n)
	}
}

func TestLostAcksCauseDuplicatesThatAreDropped(t *testing.T) {
	p := newPair(t, 1, 0, Config{}) // b hears a, a never hears b's acks
	ca, _ := p.a.ListenUDP(1000)
	cb, _ := p.b.ListenUDP(2000)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.b.LinkLocal(), 2000))
	ca.WriteTo([]byte("once"), to)
	if b, _, err := p.recv(t, cb, time.Second); err != nil || string(b) != "once" {
		t.Fatalf("got %q, %v", b, err)
	}
	p.clk.Advance(5 * time.Second)
	if _, _, err := p.recv(t, cb, 100*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a duplicate was delivered: %v", err)
	}
	ac, bc := p.a.Counters(), p.b.Counters()
	if ac.MACTxFailed != 1 || ac.MACRetries != DefaultMaxFrameRetries {
		t.Fatalf("sender: failed %d retries %d", ac.MACTxFailed, ac.MACRetries)
	}
	if bc.MACDuplicates != DefaultMaxFrameRetries || bc.AcksSent != DefaultMaxFrameRetries+1 {
		t.Fatalf("receiver: duplicates %d acks %d", bc.MACDuplicates, bc.AcksSent)
	}
}

func TestOnFrameMatchesMedium(t *testing.T) {
	p := newPair(t, -1, -1, Config{})
	ca, _ := p.a.ListenUDP(1000)
	cb, _ := p.b.ListenUDP(2000)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.a.LinkLocal(), 1000))
	cb.WriteTo(bytes.Repeat([]byte("x"), 300), to)
	if _, _, err := p.recv(t, ca, time.Second); err != nil {
		t.Fatal(err)
	}
	p.clk.Advance(3 * time.Second) // DIS traffic too
	sum := func(ev []frameEv, dirs ...Dir) (frames, octets uint64) {
		for _, e := range ev {
			for _, d := range dirs {
				if e.dir == d {
					frames++
					octets += uint64(e.n)
				}
			}
		}
		return
	}
	for _, x := range []struct {
		s   *Stack
		ev  []frameEv
		mac ieee802154.Address
	}{{p.a, p.evA, p.ma}, {p.b, p.evB, p.mb}} {
		ms := p.m.Node(x.mac)
		txf, txo := sum(x.ev, Tx)
		rxf, rxo := sum(x.ev, Rx, Overheard)
		if txf != ms.TxFrames || txo != ms.TxOctets || rxf != ms.RxFrames || rxo != ms.RxOctets {
			t.Errorf("%v: hook tx %d/%d rx %d/%d, medium %+v", x.mac, txf, txo, rxf, rxo, ms)
		}
		c := x.s.Counters()
		if c.TxFrames != txf || c.RxFrames+c.OverheardFrames != rxf {
			t.Errorf("%v: counters %+v disagree with the hook", x.mac, c)
		}
	}
}

func TestPing(t *testing.T) {
	p := newPair(t, -1, -1, Config{})
	p.a.Ping(p.b.LinkLocal(), 7, 1, []byte("ping"))
	p.clk.Advance(time.Second)
	if c := p.a.Counters(); c.EchoReplies != 1 {
		t.Fatalf("echo replies %d", c.EchoReplies)
	}
}

func TestUDPConnDeadlinesAndClose(t *testing.T) {
	p := newPair(t, -1, -1, Config{})
	c, _ := p.a.ListenUDP(0)
	if c.Port() < 49152 {
		t.Fatalf("ephemeral port %d", c.Port())
	}
	c.SetReadDeadline(p.clk.Now().Add(-time.Second))
	if _, _, err := c.ReadFrom(make([]byte, 10)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("past deadline: %v", err)
	}
	c.SetReadDeadline(p.clk.Now().Add(time.Second))
	done := make(chan error, 1)
	go func() { _, _, err := c.ReadFrom(make([]byte, 10)); done <- err }()
	p.clk.Advance(time.Second)
	if err := <-done; !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline on the virtual clock: %v", err)
	}
	var ne net.Error
	c.SetReadDeadline(time.Time{})
	go func() { _, _, err := c.ReadFrom(make([]byte, 10)); done <- err }()
	c.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) || !errors.As(err, &ne) {
		t.Fatalf("read after close: %v", err)
	}
	if _, err := c.WriteTo([]byte("x"), &net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 1}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
	c2, _ := p.a.ListenUDP(5)
	if _, err := c2.WriteTo([]byte("x"), &net.UDPAddr{IP: net.IPv4(1, 2, 3, 4), Port: 1}); err == nil {
		t.Fatal("wrote to an IPv4 address")
	}
	if _, err := c2.WriteTo([]byte("x"), &net.IPAddr{}); err == nil {
		t.Fatal("wrote to a non-UDP address")
	}
}

func TestWriteWithoutRouteIsDroppedQuietly(t *testing.T) {
	p := newPair(t, -1, -1, Config{})
	c, _ := p.a.ListenUDP(0)
	n, err := c.WriteTo([]byte("x"), net.UDPAddrFromAddrPort(netip.MustParseAddrPort("[fd00::1]:1883")))
	if err != nil || n != 1 {
		t.Fatalf("WriteTo = %d, %v; want the datagram accepted like UDP does", n, err)
	}
	if d := p.a.Counters().Drops["no source address"]; d != 1 {
		t.Fatalf("drops %v", p.a.Counters().Drops)
	}
}

func TestInsertSRHAndForwardingOrder(t *testing.T) {
	hops := []netip.Addr{
		netip.MustParseAddr("fd00::2"), netip.MustParseAddr("fd00::3"),
		netip.MustParseAddr("fd00::4"), netip.MustParseAddr("fd00::5:6"),
	}
	src := netip.MustParseAddr("fd00::1")
	pkt, err := ipv6.AppendUDPPacket(nil, netip.AddrPortFrom(src, 1883), netip.AddrPortFrom(hops[3], 5000), 64, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	out := insertSRH(pkt, hops)
	h, _, err := ipv6.Packet(out)
	if err != nil || h.Dst != hops[0] || h.NextHeader != ipv6.ProtoRouting {
		t.Fatalf("header %+v, %v", h, err)
	}
	// Each hop advances the header as ipInput does; the destination walks
	// the route and the UDP checksum (over the final destination) holds.
	for i := 1; i < len(hops); i++ {
		dst := [16]byte(out[24:40])
		if ok, err := rplmsg.AdvanceSRH(out[40:], &dst); !ok || err != nil {
			t.Fatalf("step %d: %v %v", i, ok, err)
		}
		copy(out[24:40], dst[:])
		if got := netip.AddrFrom16(dst); got != hops[i] {
			t.Fatalf("step %d: destination %v, want %v", i, got, hops[i])
		}
	}
	proto, off, err := ipv6.UpperLayer(out)
	if err != nil || proto != ipv6.ProtoUDP {
		t.Fatalf("upper layer %d, %v", proto, err)
	}
	if !ipv6.VerifyChecksum(src, hops[3], ipv6.ProtoUDP, out[off:]) {
		t.Fatal("UDP checksum broken by SRH insertion")
	}
}
