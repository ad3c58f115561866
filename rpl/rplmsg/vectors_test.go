package rplmsg

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
)

// Vectors transcribed from testdata/NN-*.txt (copies of
// /work/shared/vectors/lowpan-rpl); each test names its file.

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var addr = netip.MustParseAddr

// decodeReencode decodes an ICMPv6 RPL message, compares it with want, and
// re-encodes it to the same bytes.
func decodeReencode(t *testing.T, b []byte, want Message) Message {
	t.Helper()
	m, n, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(b) {
		t.Fatalf("consumed %d of %d", n, len(b))
	}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("decoded\n%#v\nwant\n%#v", m, want)
	}
	if m.Len() != len(b) {
		t.Fatalf("Len %d, want %d", m.Len(), len(b))
	}
	enc, err := m.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The checksum is not part of the message value: compare around it.
	if !bytes.Equal(enc[:2], b[:2]) || !bytes.Equal(enc[4:], b[4:]) {
		t.Fatalf("re-encoded\n%x\nwant\n%x", enc, b)
	}
	return m
}

// testdata/03-smoltcp-iphc-rpl-dis.txt
func TestVector03DIS(t *testing.T) {
	b := unhex(t, "9b00 0000 0000")
	decodeReencode(t, b, &DIS{})
	src, dst := addr("fe80::9cd3:a29c:571a:4fe4"), addr("ff02::1a")
	if VerifyChecksum(b, src, dst) {
		t.Fatal("the vector's zero checksum verifies")
	}
	if _, _, err := DecodeVerified(b, src, dst); err == nil {
		t.Fatal("DecodeVerified accepted a zero checksum")
	}
	enc, err := AppendICMP(nil, src, dst, &DIS{})
	if err != nil || !bytes.Equal(enc, unhex(t, "9b00 80b2 0000")) {
		t.Fatalf("DIS with checksum %x (want 9b0080b20000): %v", enc, err)
	}
}

// testdata/04-smoltcp-rpl-dio-contiki-defaults.txt
func TestVector04DIO(t *testing.T) {
	b := unhex(t, `9b010000 00 f0 0080 08 f0 0000 fd000000000000000201000100010001
		040e00080c0004000080000100 1e003c
		081e4040ffffffffffffffff00000000fd000000000000000000000000000000`)
	m := decodeReencode(t, b, &DIO{
		InstanceID: 0, Version: 240, Rank: 128, MOP: MOPNonStoring, DTSN: 240,
		DODAGID: addr("fd00::201:1:1:1"),
		Options: []Option{
			DODAGConfig{DIOIntDoublings: 8, DIOIntMin: 12, MaxRankIncrease: 1024, MinHopRankIncrease: 128,
				OCP: 1, DefaultLifetime: 30, LifetimeUnit: 60},
			PrefixInfo{PrefixLen: 64, Autonomous: true, Valid: 0xffffffff, Preferred: 0xffffffff, Prefix: addr("fd00::")},
		},
	})
	dio := m.(*DIO)
	if c, ok := dio.Config(); !ok || c.OCP != 1 {
		t.Fatal("Config()")
	}
	if p, ok := dio.PrefixInfo(); !ok || p.Net() != netip.MustParsePrefix("fd00::/64") {
		t.Fatal("PrefixInfo()")
	}
}

// testdata/05-smoltcp-rpl-dao-daoack.txt
func TestVector05DAO(t *testing.T) {
	b := unhex(t, `9b020000 00 80 00 f1
		05120080fd000000000000000202000200020002
		06140000001efd000000000000000201000100010001`)
	m := decodeReencode(t, b, &DAO{AckRequest: true, Seq: 241, Options: []Option{
		Target{PrefixLen: 128, Prefix: addr("fd00::202:2:2:2")},
		Transit{PathLifetime: 30, Parent: addr("fd00::201:1:1:1")},
	}})
	dao := m.(*DAO)
	if ts := dao.Targets(); len(ts) != 1 || ts[0].Prefix != addr("fd00::202:2:2:2") {
		t.Fatal("Targets()")
	}
	if tr, ok := dao.Transit(); !ok || tr.Parent != addr("fd00::201:1:1:1") {
		t.Fatal("Transit()")
	}
	decodeReencode(t, unhex(t, "9b030000 00 00 f1 00"), &DAOACK{Seq: 241})
	a := decodeReencode(t, unhex(t, "9b030000 1e 80 f0 00 fe800000000000000200000000000001"),
		&DAOACK{InstanceID: 30, Seq: 240, DODAGID: addr("fe80::200:0:0:1")}).(*DAOACK)
	if !a.Accepted() {
		t.Fatal("status 0 not accepted")
	}
}

// testdata/06-scapy-rpl-full-ipv6-with-checksums.txt: complete IPv6
// packets whose checksums verify and are reproduced by AppendICMP.
func TestVector06(t *testing.T) {
	cases := []struct {
		name string
		pkt  string
		want Message
	}{
		{"6a DIO+PIO", "60000000003c3a40fe800000000000000000000000000001ff02000000000000000000000000001a" +
			"9b01bc2b3200000188f00000aaaa0000000000000000000000000001081e4000ffffffffffffffff00000000fd000000000000000000000000000001",
			&DIO{InstanceID: 50, Rank: 1, Grounded: true, MOP: 1, DTSN: 240, DODAGID: addr("aaaa::1"),
				Options: []Option{PrefixInfo{PrefixLen: 64, Valid: 0xffffffff, Preferred: 0xffffffff, Prefix: addr("fd00::1")}}}},
		{"6b DIO+Conf+MC", "6000000000343a40fe800000000000000000000000000001ff02000000000000000000000000001a" +
			"9b01ef1e3200000188f00000aaaa0000000000000000000000000001040e0014030a00000100000100ffffff0206070000020001",
			&DIO{InstanceID: 50, Rank: 1, Grounded: true, MOP: 1, DTSN: 240, DODAGID: addr("aaaa::1"),
				Options: []Option{DefaultDODAGConfig, MetricContainer{Data: []byte{7, 0, 0, 2, 0, 1}}}}},
		{"6c DAO", "6000000000223a40fe800000000000000000000000000001fe8000000000000000000000000000029b022c043200000105120080fd0000000000000000000000000000010604000000ff",
			&DAO{InstanceID: 50, Seq: 1, Options: []Option{Target{PrefixLen: 128, Prefix: addr("fd00::1")}, Transit{PathLifetime: 0xff}}}},
		{"6d DAO with D", "60000000002c3a40fe800000000000000000000000000001fe8000000000000000000000000000029b0235bb32400001fd00000000000000000000000000000105120080fd000000000000000000000000000001",
			&DAO{InstanceID: 50, Seq: 1, DODAGID: addr("fd00::1"), Options: []Option{Target{PrefixLen: 128, Prefix: addr("fd00::1")}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pkt := unhex(t, c.pkt)
			h, body, err := ipv6.Packet(pkt)
			if err != nil {
				t.Fatal(err)
			}
			m, _, err := DecodeVerified(body, h.Src, h.Dst)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(m, c.want) {
				t.Fatalf("decoded\n%#v\nwant\n%#v", m, c.want)
			}
			enc, err := AppendICMP(nil, h.Src, h.Dst, c.want)
			if err != nil || !bytes.Equal(enc, body) {
				t.Fatalf("encoded\n%x\nwant\n%x (%v)", enc, body, err)
			}
		})
	}
}

// testdata/07-scapy-802154-iphc-dio-storing.txt: the DIO inside the frame
// (84 octets), from fe80::e695:6eff:fea4:dcf to ff02::1a.
func TestVector07DIO(t *testing.T) {
	b := unhex(t, `9b01d45e1edc02ba957f0000 0001000000000000e6956efffeaffffd
		081e40400000000000000000000000000001000000000000000000000000000003168010ffffffff0001000000000000e6956efffea4054f`)
	m, _, err := DecodeVerified(b, addr("fe80::e695:6eff:fea4:dcf"), addr("ff02::1a"))
	if err != nil {
		t.Fatal(err)
	}
	want := &DIO{InstanceID: 30, Version: 220, Rank: 698, Grounded: true, MOP: MOPStoringNoMcast, Prf: 5, DTSN: 127,
		DODAGID: addr("1::e695:6eff:feaf:fffd"), Options: []Option{
			PrefixInfo{PrefixLen: 64, Autonomous: true, Prefix: addr("1::")},
			RouteInfo{PrefixLen: 128, Prf: 2, Lifetime: 0xffffffff, Prefix: addr("1::e695:6eff:fea4:54f")},
		}}
	if !reflect.DeepEqual(m, want) {
		t.Fatalf("decoded\n%#v", m)
	}
	decodeReencode(t, b, want)
}

// testdata/11-smoltcp-nhc-rpl-hbh-option-and-srh.txt, uncompressed forms.
func TestVector11(t *testing.T) {
	// 11a: the RPL option in an 8-octet Hop-by-Hop header.
	hbh := unhex(t, "3a00 63 04 00 1e 0300")
	o, off, ok, err := FindRPLOption(hbh)
	want := RPLOption{InstanceID: 0x1e, SenderRank: 0x300}
	if err != nil || !ok || off != 2 || o != want {
		t.Fatalf("FindRPLOption %+v %d %v %v", o, off, ok, err)
	}
	enc, _ := AppendHopByHop(nil, ipv6.ProtoICMPv6, want)
	if !bytes.Equal(enc, hbh) {
		t.Fatalf("HBH %x", enc)
	}
	// 11b: the SRH, with a Cooja-style destination fd00::204:4:4:4.
	srh := unhex(t, "11 03 03 03 99 30 0000 05000500050005 06000600060006 02000200020002 000000")
	dst := addr("fd00::204:4:4:4")
	s, n, err := DecodeSourceRoute(srh, dst)
	if err != nil || n != 32 {
		t.Fatal(n, err)
	}
	hops := []netip.Addr{addr("fd00::205:5:5:5"), addr("fd00::206:6:6:6"), addr("fd00::202:2:2:2")}
	if !reflect.DeepEqual(s, SourceRoute{NextHeader: 17, SegmentsLeft: 3, CmprI: 9, CmprE: 9, Ref: dst, Addresses: hops}) {
		t.Fatalf("decoded %+v", s)
	}
	if s.Len() != 32 {
		t.Fatalf("Len %d", s.Len())
	}
	if enc, err := s.AppendBinary(nil); err != nil || !bytes.Equal(enc, srh) {
		t.Fatalf("re-encoded %x: %v", enc, err)
	}
	ns := NewSourceRoute(17, dst, hops)
	if enc, err := ns.AppendBinary(nil); err != nil || !bytes.Equal(enc, srh) {
		t.Fatalf("NewSourceRoute encoded %x: %v", enc, err)
	}
}
