package lowpan

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
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
	"github.com/lsmqtt/lsmqtt/rpl/pcap"
)

// icmpPacket builds an IPv6 packet with optional extension headers before
// an ICMPv6 message, with a correct checksum.
func icmpPacket(t *testing.T, src, dst netip.Addr, hop uint8, first uint8, ext, msg []byte) []byte {
	t.Helper()
	m := bytes.Clone(msg)
	m[2], m[3] = 0, 0
	c := ipv6.UpperLayerChecksum(src, dst, ipv6.ProtoICMPv6, m)
	m[2], m[3] = byte(c>>8), byte(c)
	h := ipv6.Header{PayloadLen: uint16(len(ext) + len(m)), NextHeader: first, HopLimit: hop, Src: src, Dst: dst}
	b, _ := h.AppendBinary(nil)
	return append(append(b, ext...), m...)
}

// TestTsharkDecodesOurFrames writes 6LoWPAN frames produced by this package
// (stateless and context-based IPHC, NHC UDP, NHC extension headers,
// fragmentation) as 802.15.4 frames and has tshark dissect them.
func TestTsharkDecodesOurFrames(t *testing.T) {
	bin := testutil.NeedTool(t, "tshark")
	const pan = 0xabcd
	llA, llB := LinkLocal(nodeA), LinkLocal(nodeB)
	gA, gB := AddrFromPrefix(area, nodeA), AddrFromPrefix(area, nodeB)
	dis := []byte{0x9b, 0x00, 0, 0, 0, 0}
	hbh := []byte{ipv6.ProtoICMPv6, 0, 0x63, 4, 0, 0x1e, 3, 0}
	srh := unhex(t, "11 03 03 03 99 30 0000 05000500050005 06000600060006 02000200020002 000000")
	echo := append([]byte{0x80, 0, 0, 0, 0, 1, 0, 1}, []byte("ping")...)
	type tx struct {
		pkt      []byte
		src, dst ieee802154.Address
	}
	// A downward packet with the source routing header of vector 11b: the
	// IPv6 destination is the first hop (not listed again, RFC 6554 §4.1);
	// the UDP checksum covers the final
	// destination, the last SRH address (RFC 8200 §8.1).
	first, final := netip.MustParseAddr("fd00::204:4:4:4"), netip.MustParseAddr("fd00::202:2:2:2")
	srhPkt := udpPacket(t, 0, 0, 64, gA, final, 43000, 43001, []byte("down"))
	srhPkt = append(append(append([]byte{}, srhPkt[:40]...), srh...), srhPkt[40:]...)
	srhPkt[6] = ipv6.ProtoRouting
	srhPkt[5] += byte(len(srh))
	copy(srhPkt[24:40], first.AsSlice())
	txs := []tx{
		{udpPacket(t, 0, 0, 64, llA, llB, 0xf0b1, 0xf0b2, []byte("hello")), nodeA, nodeB},
		{udpPacket(t, 0x20, 0x12345, 3, gA, gB, 43003, 43004, []byte("context zero")), nodeA, nodeB},
		{udpPacket(t, 0, 0, 255, LinkLocal(shortA), netip.MustParseAddr("ff02::1"), 43002, 0xf005, []byte("short")), shortA, ieee802154.Broadcast},
		{icmpPacket(t, llA, netip.MustParseAddr("ff02::1a"), 64, ipv6.ProtoICMPv6, nil, dis), nodeA, ieee802154.Broadcast},
		{icmpPacket(t, gA, gB, 64, ipv6.ProtoHopByHop, hbh, echo), nodeA, nodeB},
		{srhPkt, nodeA, nodeB},
		{bigPacket(t, 400), nodeA, nodeB}, // fragmented
	}
	path := filepath.Join(t.TempDir(), "lowpan.pcap")
	var buf bytes.Buffer
	w, err := pcap.NewWriter(&buf, pcap.LinkTypeIEEE802154WithFCS, pcap.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fr := NewFragmenter(areaCT, 0x100)
	seq := uint8(0)
	ts := time.Unix(1700000000, 0)
	for _, x := range txs {
		f := ieee802154.DataFrame(0, pan, x.dst, x.src, nil, false)
		err := fr.Fragment(x.pkt, x.src, x.dst, f.MaxPayload(), func(p []byte) error {
			f.Seq, f.Payload = seq, p
			seq++
			b, err := f.AppendBinary(nil)
			if err != nil {
				return err
			}
			ts = ts.Add(time.Millisecond)
			return w.WritePacket(ts, b)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := []string{"-n", "-r", path, "-o", "6lowpan.context0:" + area.String(),
		"-o", "udp.check_checksum:TRUE", "-o", "wpan.fcs_format:TRUE"}
	run := func(args ...string) string {
		cmd := exec.Command(bin, append(opts, args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("tshark: %v\n%s", err, errb.String())
		}
		return out.String()
	}
	verbose := run("-V")
	for _, bad := range []string{"Malformed", "Bad FCS", "[Checksum Status: Bad]", "Expert Info (Error", "Expert Info (Warning"} {
		if strings.Contains(verbose, bad) {
			t.Errorf("tshark reports %q", bad)
		}
	}
	fields := run("-T", "fields", "-E", "separator=|", "-e", "frame.protocols", "-e", "ipv6.src", "-e", "ipv6.dst",
		"-e", "udp.checksum.status", "-e", "icmpv6.checksum.status")
	lines := strings.Split(strings.TrimSpace(fields), "\n")
	want := []string{
		"wpan:6lowpan:ipv6:udp:data|" + llA.String() + "|" + llB.String() + "|1|",
		"wpan:6lowpan:ipv6:udp:data|" + gA.String() + "|" + gB.String() + "|1|",
		"wpan:6lowpan:ipv6:udp:data|fe80::ff:fe00:a|ff02::1|1|",
		"wpan:6lowpan:ipv6:icmpv6|" + llA.String() + "|ff02::1a||1",
		// tshark shows the NHC extension header body as "data" before
		// the uncompressed IPv6 view.
		"wpan:6lowpan:data:ipv6:ipv6.hopopts:icmpv6:data|" + gA.String() + "|" + gB.String() + "||1",
		"wpan:6lowpan:data:ipv6:ipv6.routing:udp:data|" + gA.String() + "|" + first.String() + "|1|",
	}
	if len(lines) < len(want)+2 {
		t.Fatalf("tshark saw %d frames:\n%s", len(lines), fields)
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("frame %d:\n got %s\nwant %s", i+1, lines[i], w)
		}
	}
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "wpan:6lowpan:ipv6:udp:data|"+gA.String()+"|"+gB.String()+"|1|") {
		t.Errorf("reassembled datagram: %s\n(all frames:\n%s)", last, fields)
	}
}
