package lowpan

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
)

var (
	nodeA  = ext("00:12:4b:00:00:00:00:0a")
	nodeB  = ext("00:12:4b:00:00:00:00:0b")
	shortA = ieee802154.Short(0x000a)
	area   = netip.MustParsePrefix("fd00:0:0:1::/64")
	areaCT = &ContextTable{0: area, 3: netip.MustParsePrefix("2001:db8:abcd::/48")}
)

// udpPacket builds an IPv6/UDP packet with a valid checksum.
func udpPacket(t testing.TB, tc uint8, fl uint32, hop uint8, src, dst netip.Addr, sport, dport uint16, data []byte) []byte {
	t.Helper()
	h := ipv6.Header{TrafficClass: tc, FlowLabel: fl, PayloadLen: uint16(8 + len(data)), NextHeader: ipv6.ProtoUDP, HopLimit: hop, Src: src, Dst: dst}
	b, err := h.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	u := ipv6.UDPHeader{SrcPort: sport, DstPort: dport, Length: uint16(8 + len(data))}
	b, _ = u.AppendBinary(b)
	b = append(b, data...)
	c := ipv6.UDPChecksum(src, dst, b[40:])
	b[46], b[47] = byte(c>>8), byte(c)
	return b
}

func TestCompressionModes(t *testing.T) {
	llA, llB := LinkLocal(nodeA), LinkLocal(nodeB)
	gA, gB := AddrFromPrefix(area, nodeA), AddrFromPrefix(area, nodeB)
	cases := []struct {
		name     string
		pkt      []byte
		ctx      *ContextTable
		iphc     [2]byte // expected IPHC base octets
		compLen  int     // expected compressed header length (IPHC + inline + NHC)
		consumed int
	}{
		{"link-local elided, ports 4-bit, hop 64", udpPacket(t, 0, 0, 64, llA, llB, 0xf0b1, 0xf0b2, []byte("x")),
			nil, [2]byte{0x7e, 0x33}, 2 + 2 + 2, 48},
		{"traffic class only (TF=10), hop 1", udpPacket(t, 0xb8, 0, 1, llA, llB, 0xf0b1, 0xf0b2, nil),
			nil, [2]byte{0x75, 0x33}, 2 + 1 + 2 + 2, 48},
		{"flow label, ECN (TF=01), hop 255", udpPacket(t, 0x01, 0x12345, 255, llA, llB, 0xf0b1, 0xf0b2, nil),
			nil, [2]byte{0x6f, 0x33}, 2 + 3 + 2 + 2, 48},
		{"everything inline (TF=00), hop 17", udpPacket(t, 0xb9, 0xfffff, 17, llA, llB, 0xf0b1, 0xf0b2, nil),
			nil, [2]byte{0x64, 0x33}, 2 + 4 + 1 + 2 + 2, 48},
		{"16-bit link-local IIDs", udpPacket(t, 0, 0, 64, netip.MustParseAddr("fe80::ff:fe00:1"), netip.MustParseAddr("fe80::ff:fe00:2"), 0xf001, 1000, nil),
			nil, [2]byte{0x7e, 0x22}, 2 + 2 + 2 + 1 + 2 + 1 + 2, 48},
		{"short-address IID, extended L2 source", udpPacket(t, 0, 0, 64, LinkLocal(shortA), llB, 1000, 0xf001, nil),
			nil, [2]byte{0x7e, 0x23}, 2 + 2 + 1 + 2 + 1 + 2, 48},
		{"64-bit link-local IIDs", udpPacket(t, 0, 0, 64, netip.MustParseAddr("fe80::1234:5678:9abc:def0"), llB, 1000, 2000, nil),
			nil, [2]byte{0x7e, 0x13}, 2 + 8 + 1 + 4 + 2, 48},
		{"global stateless inline", udpPacket(t, 0, 0, 64, gA, gB, 1000, 2000, nil),
			nil, [2]byte{0x7e, 0x00}, 2 + 32 + 1 + 4 + 2, 48},
		{"context 0 elided", udpPacket(t, 0, 0, 64, gA, gB, 1000, 2000, nil),
			areaCT, [2]byte{0x7e, 0x77}, 2 + 1 + 4 + 2, 48},
		{"context 0, 16-bit and 64-bit", udpPacket(t, 0, 0, 64, netip.MustParseAddr("fd00:0:0:1::ff:fe00:7"), netip.MustParseAddr("fd00:0:0:1:1:2:3:4"), 1000, 2000, nil),
			areaCT, [2]byte{0x7e, 0x65}, 2 + 2 + 8 + 1 + 4 + 2, 48},
		{"context 3 (CID octet), /48 prefix", udpPacket(t, 0, 0, 64, netip.MustParseAddr("2001:db8:abcd::1:2:3:4"), gB, 1000, 2000, nil),
			areaCT, [2]byte{0x7e, 0xd7}, 2 + 1 + 8 + 1 + 4 + 2, 48},
		{"multicast ff02::XX", udpPacket(t, 0, 0, 255, llA, netip.MustParseAddr("ff02::fb"), 5353, 5353, nil),
			nil, [2]byte{0x7f, 0x3b}, 2 + 1 + 1 + 4 + 2, 48},
		{"multicast ffXX::00XX:XXXX", udpPacket(t, 0, 0, 255, llA, netip.MustParseAddr("ff05::1:3"), 547, 547, nil),
			nil, [2]byte{0x7f, 0x3a}, 2 + 4 + 1 + 4 + 2, 48},
		{"multicast ffXX::00XX:XXXX:XXXX", udpPacket(t, 0, 0, 255, llA, netip.MustParseAddr("ff0e::12:3456:789a"), 1, 2, nil),
			nil, [2]byte{0x7f, 0x39}, 2 + 6 + 1 + 4 + 2, 48},
		{"multicast inline", udpPacket(t, 0, 0, 255, llA, netip.MustParseAddr("ff02::1:2:3:4:5"), 1, 2, nil),
			nil, [2]byte{0x7f, 0x38}, 2 + 16 + 1 + 4 + 2, 48},
		{"unspecified source", udpPacket(t, 0, 0, 255, netip.IPv6Unspecified(), netip.MustParseAddr("ff02::2"), 1, 2, nil),
			nil, [2]byte{0x7f, 0x4b}, 2 + 1 + 1 + 4 + 2, 48},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			enc, n, err := Compress([]byte{0xaa}, c.pkt, nodeA, nodeB, c.ctx)
			if err != nil {
				t.Fatal(err)
			}
			enc = enc[1:]
			if [2]byte(enc[:2]) != c.iphc || len(enc) != c.compLen || n != c.consumed {
				t.Fatalf("IPHC %x, %d octets for %d: %x", enc[:2], len(enc), n, enc)
			}
			full := append(enc, c.pkt[n:]...)
			got, err := Decompress(nil, full, nodeA, nodeB, c.ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, c.pkt) {
				t.Fatalf("round trip\n got %x\nwant %x", got, c.pkt)
			}
			// Every prefix of the compressed headers must fail.
			for i := range len(enc) {
				if _, err := Decompress(nil, enc[:i], nodeA, nodeB, c.ctx); err == nil {
					t.Fatalf("prefix of %d octets decompressed", i)
				}
			}
		})
	}
}

func TestDecompressOnlyModes(t *testing.T) {
	// DAC=1 multicast (RFC 3306 unicast-prefix-based), context 0 = fd00:0:0:1::/64:
	// ffXX:XXLL:PPPP:PPPP:PPPP:PPPP:XXXX:XXXX with 48 bits inline.
	in := unhex(t, "7b3c 3a 3e00 00000001")
	pkt, err := Decompress(nil, in, nodeA, nodeB, areaCT)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := ipv6.Packet(pkt)
	if h.Dst != netip.MustParseAddr("ff3e:40:fd00:0:0:1:0:1") || h.NextHeader != 0x3a {
		t.Fatalf("dst %v", h.Dst)
	}
	// UDP with the checksum elided (C=1) is recomputed.
	in = unhex(t, "7e33 f7 12 68656c6c6f")
	pkt, err = Decompress(nil, in, nodeA, nodeB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, u, data, err := ipv6.UDP(pkt); err != nil || u.SrcPort != 0xf0b1 || u.DstPort != 0xf0b2 || string(data) != "hello" {
		t.Fatalf("elided checksum: %+v %q %v", u, data, err)
	}
	// Hop-by-Hop with trailing padding elided gets PadN back (RFC 6282 §4.2).
	in = unhex(t, "7e33 e03a04 63020000 8000")
	pkt, err = Decompress(nil, in, nodeA, nodeB, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pkt[40:48], unhex(t, "3a00 63020000 0100")) {
		t.Fatalf("padded HBH %x", pkt[40:48])
	}
	in = unhex(t, "7e33 e03a05 6303000000 8000")
	pkt, _ = Decompress(nil, in, nodeA, nodeB, nil)
	if !bytes.Equal(pkt[40:48], unhex(t, "3a00 6303000000 00")) {
		t.Fatalf("Pad1 HBH %x", pkt[40:48])
	}
	// Uncompressed IPv6 dispatch.
	raw := udpPacket(t, 0, 0, 64, LinkLocal(nodeA), LinkLocal(nodeB), 1, 2, nil)
	pkt, err = Decompress(nil, append([]byte{DispatchIPv6}, raw...), nodeA, nodeB, nil)
	if err != nil || !bytes.Equal(pkt, raw) {
		t.Fatalf("uncompressed dispatch: %v", err)
	}
}

func TestDecompressErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		src  ieee802154.Address
		ctx  *ContextTable
		err  error
	}{
		{"empty", "", nodeA, nil, ErrDispatch},
		{"NALP", "00", nodeA, nil, ErrDispatch},
		{"mesh header", "80", nodeA, nil, ErrDispatch},
		{"fragment", "c0000000", nodeA, nil, ErrFragment},
		{"DAC=1 DAM=00 unicast", "7a34 3a" + zero(0), nodeA, areaCT, ErrReserved},
		{"DAC=1 M=1 DAM=01", "7a3d 3a", nodeA, areaCT, ErrReserved},
		{"unknown context", "7af3 50 3a", nodeA, areaCT, ErrContext},
		{"context table absent", "7a73 3a", nodeA, nil, ErrContext},
		{"SAM=11 without link address", "7a33 3a", ieee802154.Address{}, nil, ErrNoLinkAddr},
		{"unknown NHC", "7e33 c0", nodeA, nil, ErrUnsupported},
		{"NHC fragment EID", "7e33 e4", nodeA, nil, ErrUnsupported},
		{"NHC routing not 8-aligned", "7e33 e211 02 0000 3a", nodeA, nil, ErrLength},
		{"truncated NHC", "7e33", nodeA, nil, ErrTruncated},
	}
	for _, c := range cases {
		_, err := Decompress(nil, unhex(t, c.in), c.src, nodeB, c.ctx)
		var pe *ParseError
		if !errors.Is(err, c.err) || !errors.As(err, &pe) || pe.Reason() == "" {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.err)
		}
	}
	// Compress rejects a packet whose payload length disagrees with its size.
	p := udpPacket(t, 0, 0, 64, LinkLocal(nodeA), LinkLocal(nodeB), 1, 2, nil)
	if _, _, err := Compress(nil, p[:len(p)-1], nodeA, nodeB, nil); err == nil {
		t.Fatal("short packet compressed")
	}
}

func TestIIDHelpers(t *testing.T) {
	if got := LinkLocal(ext("02:00:00:ff:fe:00:00:02")); got != netip.MustParseAddr("fe80::ff:fe00:2") {
		t.Fatal(got)
	}
	if got := LinkLocal(ieee802154.Short(0x1234)); got != netip.MustParseAddr("fe80::ff:fe00:1234") {
		t.Fatal(got)
	}
	if got := AddrFromPrefix(netip.MustParsePrefix("fd00::1/64"), ext("00:01:00:01:00:01:00:01")); got != netip.MustParseAddr("fd00::201:1:1:1") {
		t.Fatal(got) // Cooja node 1, as in testdata vector 04
	}
	for _, a := range []ieee802154.Address{nodeA, shortA, ieee802154.Short(0xffff)} {
		if got := LinkAddr(LinkLocal(a)); got != a {
			t.Fatalf("LinkAddr(LinkLocal(%v)) = %v", a, got)
		}
	}
	if _, ok := IID(ieee802154.Address{}); ok {
		t.Fatal("IID of no address")
	}
	if _, ok := (*ContextTable)(nil).Lookup(0); ok {
		t.Fatal("nil table lookup")
	}
}

func TestNoAllocs(t *testing.T) {
	pkt := udpPacket(t, 0, 0, 64, AddrFromPrefix(area, nodeA), AddrFromPrefix(area, nodeB), 1000, 1883, make([]byte, 40))
	enc, err := AppendPacket(nil, pkt, nodeA, nodeB, areaCT)
	if err != nil {
		t.Fatal(err)
	}
	cbuf := make([]byte, 0, 256)
	dbuf := make([]byte, 0, 256)
	testutil.AssertAllocs(t, 0, func() {
		if _, err := AppendPacket(cbuf[:0], pkt, nodeA, nodeB, areaCT); err != nil {
			t.Fatal(err)
		}
		if _, err := Decompress(dbuf[:0], enc, nodeA, nodeB, areaCT); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkCompress(b *testing.B) {
	pkt := udpPacket(b, 0, 0, 64, AddrFromPrefix(area, nodeA), AddrFromPrefix(area, nodeB), 1000, 1883, make([]byte, 40))
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendPacket(buf[:0], pkt, nodeA, nodeB, areaCT); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecompress(b *testing.B) {
	pkt := udpPacket(b, 0, 0, 64, AddrFromPrefix(area, nodeA), AddrFromPrefix(area, nodeB), 1000, 1883, make([]byte, 40))
	enc, _ := AppendPacket(nil, pkt, nodeA, nodeB, areaCT)
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decompress(buf[:0], enc, nodeA, nodeB, areaCT); err != nil {
			b.Fatal(err)
		}
	}
}

// Regression (fuzz crasher testdata/fuzz/FuzzDecompress/0f20f24071c498a7):
// an inline UDP header with a wrong Length field must stay inline, since
// NHC UDP elides the length and would "fix" it.
func TestRegressionUDPBadLengthStaysInline(t *testing.T) {
	pkt := udpPacket(t, 0, 0, 64, LinkLocal(nodeA), LinkLocal(nodeB), 1, 2, []byte("abc"))
	pkt[45] = 0x30 // UDP length 0x0030, actual 11
	enc, n, err := Compress(nil, pkt, nodeA, nodeB, nil)
	if err != nil || n != 40 || enc[0]&iphcNH != 0 {
		t.Fatalf("compressed %x (%d): %v", enc, n, err)
	}
	got, err := Decompress(nil, append(enc, pkt[n:]...), nodeA, nodeB, nil)
	if err != nil || !bytes.Equal(got, pkt) {
		t.Fatalf("round trip changed the packet: %v", err)
	}
}
