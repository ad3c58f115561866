package stack

import (
	"bytes"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/pcap"
)

// TestSetFramePendingKeepsTheFrameValid: the patched PSDU decodes with
// Frame Pending set and a good FCS, everything else unchanged, and
// duplicate detection sees it as the frame it was; no allocation.
func TestSetFramePendingKeepsTheFrameValid(t *testing.T) {
	f := ieee802154.DataFrame(7, 0xabcd, ieee802154.Ext(extAddr(2)), ieee802154.Ext(extAddr(1)), []byte("payload"), true)
	orig, err := f.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	psdu := bytes.Clone(orig)
	setFramePending(psdu)
	if !ieee802154.CheckFCS(psdu) {
		t.Fatal("FCS wrong after setting Frame Pending")
	}
	g, _, err := ieee802154.Decode(psdu)
	if err != nil {
		t.Fatal(err)
	}
	if !g.FramePending || g.Seq != 7 || g.Dst != f.Dst || g.Src != f.Src || !bytes.Equal(g.Payload, f.Payload) || !g.AckRequest {
		t.Fatalf("decoded %+v", g)
	}
	want := f
	want.FramePending = true
	wantPSDU, _ := want.AppendBinary(nil)
	if !bytes.Equal(psdu, wantPSDU) {
		t.Fatalf("patched %x, built with the bit %x", psdu, wantPSDU)
	}
	if a, b := dedupFCS(psdu, true), dedupFCS(orig, false); a != b {
		t.Fatalf("dedup FCS %#04x with the bit, %#04x without", a, b)
	}
	testutil.AssertAllocs(t, 0, func() {
		setFramePending(psdu)
		_ = dedupFCS(psdu, true)
	})
}

// TestSingleDatagramCarriesNoFramePending: one datagram to a sleeping node
// carries no Frame Pending on any repetition, and the node goes back to
// sleep once its ACK has been sent.
func TestSingleDatagramCarriesNoFramePending(t *testing.T) {
	n, cr, cl := newDutyPair(t, rootCfg(testStrobe), moteCfg())
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[1].LinkLocal(), 2000))
	for i := range 8 {
		n.clk.Advance(300*time.Millisecond + time.Duration(i)*13*time.Millisecond)
		since := n.clk.Now()
		msg := []byte{'s', 'o', 'l', 'o', byte(i)}
		cr.WriteTo(msg, to)
		n.clk.Advance(300 * time.Millisecond)
		if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("round %d: got %q, %v", i, got, err)
		}
		reps := n.cap.data(n.mac[0], n.mac[1], msg, since)
		for _, r := range reps {
			if r.f.FramePending {
				t.Fatalf("round %d: a lone datagram carries Frame Pending", i)
			}
		}
		ack, ok := n.ackAt(reps[0].f.Seq, reps[0].at)
		if !ok {
			t.Fatalf("round %d: no ACK", i)
		}
		// 1 ms after its ACK ended the node sleeps (unless a check
		// window happens to fall there).
		at := ack.Add(medium.Airtime(5) + time.Millisecond)
		s := n.s[1]
		s.mu.Lock()
		on, inCheck := s.duty.onAt(at), s.duty.inCheck(at)
		s.mu.Unlock()
		if on && !inCheck {
			t.Fatalf("round %d: the node is still on 1 ms after acknowledging a lone datagram", i)
		}
	}
}

// TestFramePendingToAnAlwaysOnNodeChangesNothing: a strobing root sends
// three datagrams at once to an always-on strobing node. The first goes
// out before the others are queued; the second has the third behind it
// and carries Frame Pending. The always-on node acknowledges every frame's
// first repetition, delivers each datagram once, in order, and reports no
// listen time (it does not duty-cycle, so the bit has nothing to hold).
func TestFramePendingToAnAlwaysOnNodeChangesNothing(t *testing.T) {
	on := Config{StrobeTime: testStrobe}
	n, cr, cl := newDutyPair(t, rootCfg(testStrobe), on)
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(n.s[1].LinkLocal(), 2000))
	pending := 0
	for i := range 4 {
		n.clk.Advance(300 * time.Millisecond)
		since := n.clk.Now()
		msgs := [][]byte{{'a', byte(i)}, {'b', byte(i)}, {'c', byte(i)}}
		for _, m := range msgs {
			cr.WriteTo(m, to)
		}
		n.clk.Advance(300 * time.Millisecond)
		for _, want := range msgs {
			if got, err := n.readNow(cl); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("round %d: got %q, %v; want %q", i, got, err, want)
			}
		}
		if _, err := n.readNow(cl); err == nil {
			t.Fatalf("round %d: a datagram delivered twice", i)
		}
		for k, m := range msgs {
			reps := n.cap.data(n.mac[0], n.mac[1], m, since)
			if !n.quiet(reps[0].at, n.mac[0], n.mac[1]) {
				continue
			}
			if len(reps) != 1 {
				t.Fatalf("round %d: datagram %d took %d repetitions to an always-on node", i, k, len(reps))
			}
			if wantFP := k == 1; reps[0].f.FramePending != wantFP {
				t.Fatalf("round %d: datagram %d Frame Pending %v, want %v", i, k, reps[0].f.FramePending, wantFP)
			}
			if k == 1 {
				pending++
			}
		}
	}
	if pending == 0 {
		t.Fatal("no round on a quiet channel")
	}
	if l := n.s[1].Counters().ListenTime; l != 0 {
		t.Fatalf("always-on node reports listen time %v", l)
	}
}

// TestTsharkReadsFramePending: tshark decodes a patched frame with the
// Frame Pending bit set and a good FCS, and its unpatched twin without it.
func TestTsharkReadsFramePending(t *testing.T) {
	bin := testutil.NeedTool(t, "tshark")
	f := ieee802154.DataFrame(9, 0xabcd, ieee802154.Ext(extAddr(2)), ieee802154.Ext(extAddr(1)), []byte{0x41, 0x60, 0, 0, 0, 0, 8, 17, 64}, true)
	plain, err := f.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	pending := bytes.Clone(plain)
	setFramePending(pending)
	path := filepath.Join(t.TempDir(), "fp.pcap")
	fh, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pcap.NewWriter(fh, pcap.LinkTypeIEEE802154WithFCS, pcap.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ts := time.Unix(1700000000, 0)
	for i, p := range [][]byte{pending, plain} {
		if err := w.WritePacket(ts.Add(time.Duration(i)*time.Millisecond), p); err != nil {
			t.Fatal(err)
		}
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-r", path, "-T", "fields", "-e", "wpan.pending", "-e", "wpan.fcs_ok", "-e", "wpan.seq_no").Output()
	if err != nil {
		t.Fatalf("tshark: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"1\t1\t9", "0\t1\t9"}
	if len(lines) != 2 {
		t.Fatalf("tshark: %q", out)
	}
	for i := range want {
		if got := strings.ReplaceAll(strings.ReplaceAll(lines[i], "True", "1"), "False", "0"); got != want[i] {
			t.Errorf("frame %d: tshark %q, want %q (pending, fcs_ok, seq)", i, lines[i], want[i])
		}
	}
}
