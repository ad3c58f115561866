package ipv6

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// Vector 06a (testdata/06-scapy-rpl-full-ipv6-with-checksums.txt): a DIO
// from fe80::1 to ff02::1a with a valid ICMPv6 checksum 0xbc2b.
const vector06a = "60000000003c3a40fe800000000000000000000000000001ff02000000000000000000000000001a" +
	"9b01bc2b3200000188f00000aaaa0000000000000000000000000001081e4000ffffffffffffffff00000000fd000000000000000000000000000001"

func TestVector06aHeaderAndChecksum(t *testing.T) {
	b, _ := hex.DecodeString(vector06a)
	h, payload, err := Packet(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{PayloadLen: 60, NextHeader: ProtoICMPv6, HopLimit: 64,
		Src: netip.MustParseAddr("fe80::1"), Dst: netip.MustParseAddr("ff02::1a")}
	if h != want {
		t.Fatalf("header %+v", h)
	}
	if !VerifyChecksum(h.Src, h.Dst, ProtoICMPv6, payload) {
		t.Fatal("checksum does not verify")
	}
	c := bytes.Clone(payload)
	c[2], c[3] = 0, 0
	if got := UpperLayerChecksum(h.Src, h.Dst, ProtoICMPv6, c); got != 0xbc2b {
		t.Fatalf("checksum %#04x, want 0xbc2b", got)
	}
	enc, _ := h.AppendBinary(nil)
	if !bytes.Equal(enc, b[:40]) {
		t.Fatalf("re-encoded %x", enc)
	}
	proto, off, err := UpperLayer(b)
	if err != nil || proto != ProtoICMPv6 || off != 40 {
		t.Fatalf("UpperLayer %d %d %v", proto, off, err)
	}
}

// Vector 01 (testdata/01-riot-frag-iphc-nhc-udp.txt): 100 zero octets from
// [fe80::ff:fe00:2]:61616 to [fd01::1]:61616 with hop limit 255 have UDP
// checksum 0x232f.
func TestVector01UDPChecksum(t *testing.T) {
	src := netip.MustParseAddrPort("[fe80::ff:fe00:2]:61616")
	dst := netip.MustParseAddrPort("[fd01::1]:61616")
	pkt, err := AppendUDPPacket(nil, src, dst, 255, make([]byte, 100))
	if err != nil {
		t.Fatal(err)
	}
	h, u, data, err := UDP(pkt)
	if err != nil {
		t.Fatal(err)
	}
	if u.Checksum != 0x232f || u.Length != 108 || h.PayloadLen != 108 || len(data) != 100 || h.HopLimit != 255 {
		t.Fatalf("%+v %+v", h, u)
	}
	pkt[len(pkt)-1] ^= 1
	if _, _, _, err := UDP(pkt); !errors.Is(err, ErrChecksum) {
		t.Fatalf("corrupted datagram: %v", err)
	}
}

func TestErrors(t *testing.T) {
	b, _ := hex.DecodeString(vector06a)
	for i := range 40 {
		if _, _, err := DecodeHeader(b[:i]); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix %d: %v", i, err)
		}
	}
	if _, _, err := Packet(b[:len(b)-1]); !errors.Is(err, ErrLength) {
		t.Fatalf("short payload: %v", err)
	}
	c := bytes.Clone(b)
	c[0] = 0x40
	if _, _, err := DecodeHeader(c); !errors.Is(err, ErrVersion) {
		t.Fatalf("version 4: %v", err)
	}
	var pe *ParseError
	if _, _, err := DecodeHeader(c); !errors.As(err, &pe) || pe.Reason() == "" {
		t.Fatal("no ParseError")
	}
	h := Header{Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.IPv6Loopback()}
	if _, err := h.AppendBinary(nil); !errors.Is(err, ErrAddress) {
		t.Fatalf("IPv4 source: %v", err)
	}
	h = Header{Src: netip.IPv6Loopback(), Dst: netip.IPv6Loopback(), FlowLabel: 1 << 20}
	if _, err := h.AppendBinary(nil); !errors.Is(err, ErrLength) {
		t.Fatalf("flow label: %v", err)
	}
	for i := range 8 {
		if _, _, err := DecodeUDPHeader(make([]byte, i)); !errors.Is(err, ErrTruncated) {
			t.Fatal("short UDP header")
		}
	}
}

func TestExtHeaders(t *testing.T) {
	// IPv6 + HBH (8 octets) + Routing (16 octets) + UDP.
	h := Header{PayloadLen: 8 + 16 + 8, NextHeader: ProtoHopByHop, HopLimit: 64,
		Src: netip.IPv6Loopback(), Dst: netip.IPv6Loopback()}
	b, _ := h.AppendBinary(nil)
	b = append(b, ProtoRouting, 0, 0x63, 4, 0, 0x1e, 3, 0)
	b = append(b, ProtoUDP, 1, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	b = binary.BigEndian.AppendUint64(b, 0)
	proto, off, err := UpperLayer(b)
	if err != nil || proto != ProtoUDP || off != 64 {
		t.Fatalf("UpperLayer %d %d %v", proto, off, err)
	}
	if _, _, err := UpperLayer(b[:50]); !errors.Is(err, ErrTruncated) {
		t.Fatalf("truncated ext header: %v", err)
	}
	if _, _, err := ExtHeaderLen(ProtoUDP, b[40:]); !errors.Is(err, ErrExtHeader) {
		t.Fatal("UDP accepted as extension header")
	}
	if nh, n, err := ExtHeaderLen(ProtoFragment, make([]byte, 8)); err != nil || n != 8 || nh != 0 {
		t.Fatal("fragment header")
	}
}

func TestChecksumLongInput(t *testing.T) {
	// A 64 KiB message of 0xff octets must not overflow the accumulator.
	b := bytes.Repeat([]byte{0xff}, 65535)
	if fold(sum(b, 0xffffffff>>1)) == 0 {
		t.Fatal("fold returned zero")
	}
	src, dst := netip.IPv6Loopback(), netip.IPv6Loopback()
	pkt, err := AppendUDPPacket(nil, netip.AddrPortFrom(src, 1), netip.AddrPortFrom(dst, 2), 1, b[:60000])
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := UDP(pkt); err != nil {
		t.Fatal(err)
	}
}

func TestNoAllocs(t *testing.T) {
	b, _ := hex.DecodeString(vector06a)
	buf := make([]byte, 0, 64)
	testutil.AssertAllocs(t, 0, func() {
		h, p, err := Packet(b)
		if err != nil || !VerifyChecksum(h.Src, h.Dst, ProtoICMPv6, p) {
			t.Fatal("decode")
		}
		if _, err := h.AppendBinary(buf[:0]); err != nil {
			t.Fatal(err)
		}
	})
}

func FuzzPacket(f *testing.F) {
	b, _ := hex.DecodeString(vector06a)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		UpperLayer(b)
		UDP(b)
		h, _, err := DecodeHeader(b)
		if err != nil {
			return
		}
		enc, err := h.AppendBinary(nil)
		if err != nil || !bytes.Equal(enc, b[:40]) {
			t.Fatalf("re-encode %x: %v", enc, err)
		}
	})
}
