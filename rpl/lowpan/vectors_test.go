package lowpan

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
)

// The vectors below are transcribed from testdata/NN-*.txt (copies of
// /work/shared/vectors/lowpan-rpl); each constant names its file.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ext(s string) ieee802154.Address {
	b, err := hex.DecodeString(strings.ReplaceAll(s, ":", ""))
	if err != nil || len(b) != 8 {
		panic("bad EUI-64 " + s)
	}
	return ieee802154.Ext(ieee802154.ExtAddr(b))
}

var (
	addr = netip.MustParseAddr
	zero = func(n int) string { return strings.Repeat("00", n) }
)

// collect runs a Fragmenter and returns copies of the emitted payloads.
func collect(t *testing.T, f *Fragmenter, pkt []byte, src, dst ieee802154.Address, mp int) [][]byte {
	t.Helper()
	var out [][]byte
	if err := f.Fragment(pkt, src, dst, mp, func(b []byte) error {
		if len(b) > mp {
			t.Fatalf("fragment of %d octets exceeds %d", len(b), mp)
		}
		out = append(out, bytes.Clone(b))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func reassemble(t *testing.T, frames [][]byte, src, dst ieee802154.Address) []byte {
	t.Helper()
	r := NewReassembler(ReassemblerConfig{})
	var pkt []byte
	for i, f := range frames {
		p, err := r.Input(f, src, dst)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if p != nil && i != len(frames)-1 {
			t.Fatalf("complete after frame %d of %d", i, len(frames))
		}
		pkt = p
	}
	if pkt == nil {
		t.Fatal("not reassembled")
	}
	return pkt
}

// testdata/01-riot-frag-iphc-nhc-udp.txt
func TestVector01(t *testing.T) {
	src, dst := ext("02:00:00:ff:fe:00:00:02"), ext("02:00:00:ff:fe:00:00:01")
	f1 := unhex(t, "c0940001 7f30 fd010000000000000000000000000001 f3 00 232f"+zero(48))
	f2 := unhex(t, "e0940001 0c"+zero(52))
	pkt := reassemble(t, [][]byte{f1, f2}, src, dst)
	h, u, data, err := ipv6.UDP(pkt) // also verifies the checksum 0x232f
	if err != nil {
		t.Fatal(err)
	}
	want := ipv6.Header{PayloadLen: 108, NextHeader: 17, HopLimit: 255, Src: addr("fe80::ff:fe00:2"), Dst: addr("fd01::1")}
	if h != want || u != (ipv6.UDPHeader{SrcPort: 61616, DstPort: 61616, Length: 108, Checksum: 0x232f}) ||
		!bytes.Equal(data, make([]byte, 100)) {
		t.Fatalf("decoded %+v %+v %d data octets", h, u, len(data))
	}
	// Re-encode: a 74-octet MAC payload budget reproduces both frames.
	got := collect(t, NewFragmenter(nil, 1), pkt, src, dst, 74)
	if len(got) != 2 || !bytes.Equal(got[0], f1) || !bytes.Equal(got[1], f2) {
		t.Fatalf("re-encoded\n%x\n%x", got[0], got[1:])
	}
}

// testdata/02-riot-frag1-iphc-inline-icmpv6.txt (the FRAGN is reconstructed:
// the remaining 84 data octets are 0x53, which the vector shows makes the
// checksum 0x8ea0 verify).
func TestVector02(t *testing.T) {
	src, dst := ext("2a:ab:dc:15:54:01:64:79"), ext("5a:9d:93:86:22:08:65:79")
	f1 := unhex(t, "c0bc000f 7a00 3a 20010db8000000000000000000000001 20010db8000000000000000000000002"+
		"80008ea0238f0002 9d4bb21c"+strings.Repeat("53", 52))
	if len(f1) != 103 {
		t.Fatalf("FRAG1 is %d octets", len(f1))
	}
	f2 := append(unhex(t, "e0bc000f 0d"), bytes.Repeat([]byte{0x53}, 84)...)
	pkt := reassemble(t, [][]byte{f1, f2}, src, dst)
	h, payload, err := ipv6.Packet(pkt)
	if err != nil {
		t.Fatal(err)
	}
	want := ipv6.Header{PayloadLen: 148, NextHeader: 58, HopLimit: 64, Src: addr("2001:db8::1"), Dst: addr("2001:db8::2")}
	if h != want {
		t.Fatalf("header %+v", h)
	}
	if !ipv6.VerifyChecksum(h.Src, h.Dst, ipv6.ProtoICMPv6, payload) {
		t.Fatal("ICMPv6 checksum 0x8ea0 does not verify")
	}
	got := collect(t, NewFragmenter(nil, 0x000f), pkt, src, dst, 103)
	if len(got) != 2 || !bytes.Equal(got[0], f1) || !bytes.Equal(got[1], f2) {
		t.Fatalf("re-encoded\n%x\n%x", got[0], got[1:])
	}
}

// roundTrip decompresses an unfragmented payload, checks the header, and
// re-compresses it to the same bytes.
func roundTrip(t *testing.T, in []byte, src, dst ieee802154.Address, ctx *ContextTable, want ipv6.Header) []byte {
	t.Helper()
	pkt, err := Decompress(nil, in, src, dst, ctx)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := ipv6.Packet(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if h != want {
		t.Fatalf("header\n got %+v\nwant %+v", h, want)
	}
	enc, err := AppendPacket(nil, pkt, src, dst, ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, in) {
		t.Fatalf("re-encoded\n%x\nwant\n%x", enc, in)
	}
	return pkt
}

// testdata/03-smoltcp-iphc-rpl-dis.txt
func TestVector03(t *testing.T) {
	in := unhex(t, "7a3b 3a 1a 9b00 0000 0000")
	pkt := roundTrip(t, in, ext("9e:d3:a2:9c:57:1a:4f:e4"), ieee802154.Broadcast, nil, ipv6.Header{
		PayloadLen: 6, NextHeader: 58, HopLimit: 64, Src: addr("fe80::9cd3:a29c:571a:4fe4"), Dst: addr("ff02::1a")})
	body := bytes.Clone(pkt[40:])
	if got := ipv6.UpperLayerChecksum(addr("fe80::9cd3:a29c:571a:4fe4"), addr("ff02::1a"), 58, body); got != 0x80b2 {
		t.Fatalf("correct DIS checksum = %#04x, want 0x80b2", got)
	}
}

// testdata/07-scapy-802154-iphc-dio-storing.txt (IPHC part, after the
// 15-octet MAC header).
const vector07 = "41c874cdabffffcf0da4feff6e95e47a3b3a1a9b01d45e1edc02ba957f00000001000000000000e6956efffeaffffd" +
	"081e40400000000000000000000000000001000000000000000000000000000003168010ffffffff0001000000000000e6956efffea4054f"

func TestVector07(t *testing.T) {
	fr, _, err := ieee802154.DecodeNoFCS(unhex(t, vector07))
	if err != nil {
		t.Fatal(err)
	}
	want := ipv6.Header{PayloadLen: 84, NextHeader: 58, HopLimit: 64, Src: addr("fe80::e695:6eff:fea4:dcf"), Dst: addr("ff02::1a")}
	pkt := roundTrip(t, fr.Payload, fr.Src, fr.Dst, nil, want)
	if !ipv6.VerifyChecksum(want.Src, want.Dst, 58, pkt[40:]) || pkt[42] != 0xd4 || pkt[43] != 0x5e {
		t.Fatal("DIO checksum 0xd45e does not verify")
	}
}

// testdata/08-smoltcp-802154-iphc-icmp-echo.txt
func TestVector08(t *testing.T) {
	a := unhex(t, `41cc3befbe4242424242420b1a623aa63457291c26 6a330a62173a 8000b0e300040001 82f28264000000006623
		0c00000000001011 12131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637`)
	fr, _, err := ieee802154.DecodeNoFCS(a)
	if err != nil {
		t.Fatal(err)
	}
	want := ipv6.Header{FlowLabel: 0xa6217, PayloadLen: 64, NextHeader: 58, HopLimit: 64,
		Src: addr("fe80::241c:2957:34a6:3a62"), Dst: addr("fe80::180b:4242:4242:4242")}
	pkt := roundTrip(t, fr.Payload, fr.Src, fr.Dst, nil, want)
	if !ipv6.VerifyChecksum(want.Src, want.Dst, 58, pkt[40:]) {
		t.Fatal("8a echo checksum 0xb0e3 does not verify")
	}

	// 8b: smoltcp's outgoing FRAG1 with SAM=DAM=01 (IIDs do not match L2).
	l2src, l2dst := ext("02:02:02:02:02:02:02:02"), ext("00:00:00:00:00:00:00:00")
	b := unhex(t, "c0b0054e 7a113a 92fc48c2a441fc76 4042424242420b1a 8100000000270002")
	fh, n, err := DecodeFragHeader(b)
	if err != nil || fh != (FragHeader{First: true, Size: 176, Tag: 0x054e}) {
		t.Fatalf("FRAG1 %+v %v", fh, err)
	}
	hdr, used, _, err := decompressHeaders(nil, b[n:], l2src, l2dst, nil, 176)
	if err != nil || used != 19 {
		t.Fatalf("used %d: %v", used, err)
	}
	h, _, _ := ipv6.DecodeHeader(hdr)
	want = ipv6.Header{PayloadLen: 136, NextHeader: 58, HopLimit: 64,
		Src: addr("fe80::92fc:48c2:a441:fc76"), Dst: addr("fe80::4042:4242:4242:b1a")}
	if h != want {
		t.Fatalf("8b header %+v", h)
	}
	full, _ := h.AppendBinary(nil)
	full = append(full, make([]byte, 136)...)
	enc, m, err := Compress(nil, full, l2src, l2dst, nil)
	if err != nil || m != 40 || !bytes.Equal(enc, b[n:n+19]) {
		t.Fatalf("8b re-encoded %x (%d) %v", enc, m, err)
	}

	// 8b's incoming request FRAG1 (SAM=DAM=11 from the L2 addresses).
	b = unhex(t, "c0b0008e 6a33 05252c 3a 8000e071")
	hdr, _, _, err = decompressHeaders(nil, b[4:], ext("42:42:42:42:42:42:0b:1a"), ext("90:fc:48:c2:a4:41:fc:76"), nil, 176)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ = ipv6.DecodeHeader(hdr)
	if h.Src != addr("fe80::4042:4242:4242:b1a") || h.Dst != addr("fe80::92fc:48c2:a441:fc76") || h.FlowLabel != 0x5252c {
		t.Fatalf("8b request header %+v", h)
	}
}

// testdata/09-smoltcp-frag-iphc-tf01-nhc-udp-inline-ports.txt
func TestVector09(t *testing.T) {
	src, dst := ext("42:42:42:42:42:42:0b:1a"), ext("90:fc:48:c2:a4:41:fc:76")
	text := "Lorem ipsum dolor sit amet, consectetur adipiscing elit. In at rhoncus tortor. Cras blandit tellus diam, varius vestibulum nibh commodo nec."
	if len(text) != 140 {
		t.Fatalf("text is %d octets", len(text))
	}
	f1 := append(unhex(t, "c0bc0092 6e33 07e7dc f0 d3c9 1b39 bfa0"), text[:88]...)
	f2 := append(unhex(t, "e0bc0092 11"), text[88:]...)
	pkt := reassemble(t, [][]byte{f1, f2}, src, dst)
	h, payload, err := ipv6.Packet(pkt)
	if err != nil {
		t.Fatal(err)
	}
	want := ipv6.Header{FlowLabel: 0x7e7dc, PayloadLen: 148, NextHeader: 17, HopLimit: 64,
		Src: addr("fe80::4042:4242:4242:b1a"), Dst: addr("fe80::92fc:48c2:a441:fc76")}
	u, _, _ := ipv6.DecodeUDPHeader(payload)
	if h != want || u != (ipv6.UDPHeader{SrcPort: 54217, DstPort: 6969, Length: 148, Checksum: 0xbfa0}) || string(payload[8:]) != text {
		t.Fatalf("decoded %+v %+v %q", h, u, payload[8:])
	}
	// The vector's checksum was not computed by smoltcp (see the file).
	if ipv6.VerifyChecksum(h.Src, h.Dst, 17, payload) {
		t.Fatal("checksum 0xbfa0 unexpectedly verifies")
	}
	got := collect(t, NewFragmenter(nil, 0x0092), pkt, src, dst, 104)
	if len(got) != 2 || !bytes.Equal(got[0], f1) || !bytes.Equal(got[1], f2) {
		t.Fatalf("re-encoded\n%x\n%x", got[0], got[1:])
	}

	// smoltcp's FRAG1 with the unspecified source (SAC=1 SAM=00) and :: inline.
	b := unhex(t, "c0b4054e 7e40"+zero(16)+"f004d204d20000")
	hdr, used, _, err := decompressHeaders(nil, b[4:], src, dst, nil, 0xb4)
	if err != nil || used != len(b)-4 {
		t.Fatalf("used %d: %v", used, err)
	}
	h, _, _ = ipv6.DecodeHeader(hdr)
	u, _, _ = ipv6.DecodeUDPHeader(hdr[40:])
	if !h.Src.IsUnspecified() || !h.Dst.IsUnspecified() || h.NextHeader != 17 || u.SrcPort != 1234 || u.DstPort != 1234 {
		t.Fatalf("unspecified-source header %+v %+v", h, u)
	}
	full := append(hdr, make([]byte, 0xb4-len(hdr))...)
	enc, _, err := Compress(nil, full, src, dst, nil)
	if err != nil || !bytes.Equal(enc, b[4:]) {
		t.Fatalf("re-encoded %x: %v", enc, err)
	}
}

// testdata/10-scapy-802154-iphc-nhc-udp-short-addr-panid-iid.txt. The
// RFC 6282 IID rule gives fe80::ff:fe00:13; the capture's checksum 0x8580
// only verifies with the PAN-in-IID form fe80::22:ff:fe00:13.
func TestVector10(t *testing.T) {
	in := unhex(t, "7d3b01f0dac9dac98580c800000000000000")
	src := ieee802154.Short(0x0013)
	want := ipv6.Header{PayloadLen: 16, NextHeader: 17, HopLimit: 1, Src: addr("fe80::ff:fe00:13"), Dst: addr("ff02::1")}
	pkt := roundTrip(t, in, src, ieee802154.Broadcast, nil, want)
	u, _, _ := ipv6.DecodeUDPHeader(pkt[40:])
	if u != (ipv6.UDPHeader{SrcPort: 56009, DstPort: 56009, Length: 16, Checksum: 0x8580}) {
		t.Fatalf("UDP %+v", u)
	}
	if ipv6.VerifyChecksum(want.Src, want.Dst, 17, pkt[40:]) {
		t.Fatal("0x8580 verifies with the RFC 6282 IID; the vector says it must not")
	}
	if !ipv6.VerifyChecksum(addr("fe80::22:ff:fe00:13"), want.Dst, 17, pkt[40:]) {
		t.Fatal("0x8580 does not verify with the PAN-ID-in-IID source either")
	}
}

// testdata/11-smoltcp-nhc-rpl-hbh-option-and-srh.txt. The vectors are bare
// NHC headers; they are embedded here behind an IPHC header and before a
// payload.
func TestVector11(t *testing.T) {
	src, dst := ext("02:01:00:01:00:01:00:01"), ext("02:02:00:02:00:02:00:02")

	// 11a: Hop-by-Hop with the RPL option, then ICMPv6 inline.
	in := unhex(t, "7e33 e03a0663 04001e0300 8000ffff00010002")
	pkt := roundTrip(t, in, src, dst, nil, ipv6.Header{PayloadLen: 16, NextHeader: 0, HopLimit: 64,
		Src: addr("fe80::1:1:1:1"), Dst: addr("fe80::2:2:2:2")})
	if !bytes.Equal(pkt[40:48], unhex(t, "3a00 6304001e0300")) {
		t.Fatalf("uncompressed HBH %x", pkt[40:48])
	}

	// 11b: compressed RPL SRH with NH=1, followed by NHC UDP.
	srh := "e31e 0303 9930 0000 05000500050005 06000600060006 02000200020002 000000"
	in = unhex(t, "7e33 "+srh+" f0 1234 5678 abcd 68656c6c6f")
	pkt = roundTrip(t, in, src, dst, nil, ipv6.Header{PayloadLen: 32 + 8 + 5, NextHeader: 43, HopLimit: 64,
		Src: addr("fe80::1:1:1:1"), Dst: addr("fe80::2:2:2:2")})
	if !bytes.Equal(pkt[40:72], unhex(t, "1103 "+srh[5:])) {
		t.Fatalf("uncompressed SRH %x", pkt[40:72])
	}
	proto, off, err := ipv6.UpperLayer(pkt)
	if err != nil || proto != 17 || off != 72 {
		t.Fatalf("upper layer %d at %d: %v", proto, off, err)
	}
}
