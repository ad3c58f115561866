package stack

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// TestForgedSequenceNumberDoesNotSuppressTheRealFrame: a rogue radio sends
// b a frame with a's source address and the sequence number a uses next
// (802.15.4 without security cannot tell it from a's). a's real frame,
// which b acknowledges, must still be delivered: duplicate detection
// compares the whole frame (its FCS), not only the sequence number. An
// exact replay of the real frame is still dropped as a duplicate.
func TestForgedSequenceNumberDoesNotSuppressTheRealFrame(t *testing.T) {
	p := newPair(t, -1, -1, Config{})
	rogueAddr := ieee802154.Ext(extAddr(0x66))
	p.m.SetPosition(rogueAddr, medium.Position{X: 5})
	rogue, err := p.m.Attach(rogueAddr, 0x66)
	if err != nil {
		t.Fatal(err)
	}
	var captured [][]byte
	rogue.SetReceiver(func(psdu []byte, _ medium.RxInfo) { captured = append(captured, append([]byte(nil), psdu...)) })
	ca, _ := p.a.ListenUDP(1000)
	cb, _ := p.b.ListenUDP(2000)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(p.b.LinkLocal(), 2000))

	p.a.mu.Lock()
	next := p.a.mac.seq + 1
	p.a.mu.Unlock()
	forged := ieee802154.DataFrame(next, p.a.cfg.PAN, p.mb, p.ma, []byte{0x41, 0x60}, false) // a truncated IPv6 packet
	b, err := forged.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := rogue.Transmit(b); err != nil {
		t.Fatal(err)
	}
	p.clk.Advance(10 * time.Millisecond)

	ca.WriteTo([]byte("real"), to)
	if got, _, err := p.recv(t, cb, time.Second); err != nil || string(got) != "real" {
		t.Fatalf("a's real frame after the forgery: %q, %v", got, err)
	}
	// The rogue replays a's real frame exactly: a duplicate.
	var real []byte
	for _, f := range captured {
		if fr, _, err := ieee802154.Decode(f); err == nil && fr.Type == ieee802154.TypeData && fr.Src == p.ma && fr.Seq == next {
			real = f
		}
	}
	if real == nil {
		t.Fatal("the rogue did not overhear a's frame")
	}
	dups := p.b.Counters().MACDuplicates
	if err := rogue.Transmit(real); err != nil {
		t.Fatal(err)
	}
	if got, _, err := p.recv(t, cb, 100*time.Millisecond); err == nil {
		t.Fatalf("an exact replay was delivered: %q", got)
	}
	if n := p.b.Counters().MACDuplicates; n != dups+1 {
		t.Fatalf("duplicates %d, want %d", n, dups+1)
	}
}
