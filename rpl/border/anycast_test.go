package border

import (
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// TestAnycastGatewayAddress: a node addresses "the gateway" by an anycast
// address every border router answers on, and the reply comes from that
// address, so a client that checks its peer keeps working after a move.
func TestAnycastGatewayAddress(t *testing.T) {
	any := netip.MustParseAddr("fdff::1")
	w := newMesh(t, medium.Config{Range: 50, Seed: 2})
	mac := nodeMAC(1, 0)
	port, _ := w.m.Attach(ieee802154.Ext(mac), 1)
	w.m.SetPosition(ieee802154.Ext(mac), medium.Position{})
	r, err := New(Config{Prefix: netip.MustParsePrefix("fd00:1::/64"), Addr: mac, Radio: port, Clock: w.clk,
		Anycast: []netip.Addr{any}, RPL: dodag.Config{}})
	if err != nil {
		t.Fatal(err)
	}
	w.areas = append(w.areas, r)
	for i := 1; i <= 2; i++ {
		w.addNode(1, i, medium.Position{X: float64(35 * i)}, stack.Config{})
	}
	if _, ok := w.runUntil(func() bool { return joinedTo(r, w.nodes) }, time.Minute, 100*time.Millisecond); !ok {
		t.Fatal("no convergence")
	}
	e := startEcho(t, r.PacketConn())
	defer func() { r.PacketConn().Close(); <-e.done }()
	c, _ := w.nodes[1].ListenUDP(0)
	defer c.Close()
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(any, DefaultGatewayPort))
	type res struct {
		b    string
		from netip.AddrPort
	}
	ch := make(chan res, 1)
	go func() {
		buf := make([]byte, 64)
		n, from, err := c.ReadFromAddrPort(buf)
		if err == nil {
			ch <- res{string(buf[:n]), from}
		}
		close(ch)
	}()
	// Virtual time moves only here, a Gosched apart, so on a loaded host
	// the echo or the reader may not have run for many emulated seconds
	// (a bound of 2,000 steps once failed with the reply already in the
	// node's socket). Resend every emulated second, as an MQTT-SN client
	// retries, and give up only after a generous wall-clock guard: without
	// an anycast answer no reply ever comes.
	guard := time.NewTimer(30 * time.Second)
	defer guard.Stop()
	var sent time.Time
	for {
		if sent.IsZero() || w.clk.Since(sent) >= time.Second {
			sent = w.clk.Now()
			c.WriteTo([]byte("hi"), to)
		}
		select {
		case got := <-ch:
			if got.b != "echo:hi" || got.from != netip.AddrPortFrom(any, DefaultGatewayPort) {
				t.Fatalf("reply %q from %v, want echo:hi from the anycast address", got.b, got.from)
			}
			return
		case <-guard.C:
			t.Fatal("no reply via the anycast address")
		default:
			runtime.Gosched()
			w.clk.Advance(5 * time.Millisecond)
		}
	}
}
