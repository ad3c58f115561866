package rplmsg

import (
	"bytes"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
	"github.com/lsmqtt/lsmqtt/rpl/pcap"
)

// TestTsharkDecodesRPL writes every sample message (and a packet with the
// RPL Hop-by-Hop option and one with a source routing header) as raw IPv6
// and has tshark check them.
func TestTsharkDecodesRPL(t *testing.T) {
	bin := testutil.NeedTool(t, "tshark")
	src, dst := addr("fe80::1"), addr("ff02::1a")
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.LinkTypeIPv6, pcap.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	write := func(pkt []byte) {
		if err := w.WritePacket(time.Unix(1700000000, 0), pkt); err != nil {
			t.Fatal(err)
		}
	}
	packet := func(src, dst netip.Addr, next uint8, ext, body []byte) []byte {
		h := ipv6.Header{PayloadLen: uint16(len(ext) + len(body)), NextHeader: next, HopLimit: 64, Src: src, Dst: dst}
		b, _ := h.AppendBinary(nil)
		return append(append(b, ext...), body...)
	}
	n := 0
	for _, m := range sampleMessages() {
		if _, ok := m.(*Unknown); ok {
			continue // a made-up code; tshark rightly flags it
		}
		msg, err := AppendICMP(nil, src, dst, m)
		if err != nil {
			t.Fatal(err)
		}
		write(packet(src, dst, ipv6.ProtoICMPv6, nil, msg))
		n++
	}
	// DAO with the RPL option in a Hop-by-Hop header.
	dao, _ := AppendICMP(nil, addr("fd00::202:2:2:2"), addr("fd00::201:1:1:1"), sampleMessages()[3])
	hbh, _ := AppendHopByHop(nil, ipv6.ProtoICMPv6, RPLOption{InstanceID: 0, SenderRank: 256})
	write(packet(addr("fd00::202:2:2:2"), addr("fd00::201:1:1:1"), ipv6.ProtoHopByHop, hbh, dao))
	// A DAO-ACK sent down a source route: the checksum uses the final hop.
	first, final := addr("fd00::204:4:4:4"), addr("fd00::202:2:2:2")
	ack, _ := AppendICMP(nil, addr("fd00::201:1:1:1"), final, &DAOACK{Seq: 241})
	sr := NewSourceRoute(ipv6.ProtoICMPv6, first, []netip.Addr{addr("fd00::205:5:5:5"), final})
	srh, err := sr.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	write(packet(addr("fd00::201:1:1:1"), first, ipv6.ProtoRouting, srh, ack))
	n += 2

	path := filepath.Join(t.TempDir(), "rpl.pcap")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		cmd := exec.Command(bin, append([]string{"-n", "-r", path}, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("tshark: %v\n%s", err, errb.String())
		}
		return out.String()
	}
	verbose := run("-V")
	for _, bad := range []string{"Malformed", "[Checksum Status: Bad]", "Expert Info (Error", "Expert Info (Warning"} {
		if strings.Contains(verbose, bad) {
			t.Errorf("tshark reports %q:\n%s", bad, verbose)
		}
	}
	out := run("-T", "fields", "-E", "separator=|", "-e", "icmpv6.type", "-e", "icmpv6.code", "-e", "icmpv6.checksum.status")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != n {
		t.Fatalf("tshark saw %d packets, want %d", len(lines), n)
	}
	codes := []string{"0", "0", "1", "2", "2", "3", "3", "2", "3"}
	for i, l := range lines {
		if want := "155|" + codes[i] + "|1"; l != want {
			t.Errorf("packet %d: %q, want %q", i+1, l, want)
		}
	}
	// tshark decodes the option fields we put in.
	if !strings.Contains(verbose, "Sender Rank: 0x0100") || !strings.Contains(verbose, "Segments Left: 2") {
		t.Error("RPL option or SRH not dissected")
	}
}
