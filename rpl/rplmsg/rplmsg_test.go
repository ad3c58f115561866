package rplmsg

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// sampleMessages covers every message and option type.
func sampleMessages() []Message {
	root := addr("fd00::201:1:1:1")
	return []Message{
		&DIS{},
		&DIS{Options: []Option{SolicitedInfo{InstanceID: 1, MatchInst: true, MatchVersion: true, DODAGID: root, Version: 3}, Pad1{}, PadN{N: 2}}},
		&DIO{InstanceID: 0, Version: 240, Rank: 128, MOP: MOPNonStoring, DTSN: 240, DODAGID: root, Options: []Option{
			DefaultDODAGConfig,
			PrefixInfo{PrefixLen: 64, Autonomous: true, OnLink: true, Valid: 86400, Preferred: 14400, Prefix: addr("fd00::")},
			RouteInfo{PrefixLen: 48, Prf: 1, Lifetime: 600, Prefix: addr("2001:db8:1::")},
			RouteInfo{PrefixLen: 0, Prefix: netip.IPv6Unspecified()},
			MetricContainer{Data: []byte{7, 0, 0, 2, 0, 1}},
			UnknownOption{OptType: 0x20, Data: []byte{1, 2, 3}},
		}},
		&DAO{InstanceID: 0, AckRequest: true, Seq: 241, Options: []Option{
			Target{PrefixLen: 128, Prefix: addr("fd00::202:2:2:2")},
			Target{PrefixLen: 64, Prefix: addr("fd00:1::")},
			Transit{External: true, PathControl: 0x80, PathSequence: 4, PathLifetime: 30, Parent: root},
		}},
		&DAO{InstanceID: 7, DODAGID: root, Seq: 1, Options: []Option{Transit{PathLifetime: 0xff}}},
		&DAOACK{InstanceID: 0, Seq: 241, Status: 0},
		&DAOACK{InstanceID: 30, Seq: 240, Status: 234, DODAGID: root},
		&Unknown{MsgCode: 0x8a, Body: []byte{1, 2, 3, 4}},
	}
}

func TestRoundTrip(t *testing.T) {
	src, dst := addr("fe80::1"), addr("ff02::1a")
	for i, m := range sampleMessages() {
		enc, err := AppendICMP([]byte{0xee}, src, dst, m)
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		enc = enc[1:]
		if len(enc) != m.Len() {
			t.Fatalf("%d: Len %d, appended %d", i, m.Len(), len(enc))
		}
		got, n, err := DecodeVerified(enc, src, dst)
		if err != nil || n != len(enc) {
			t.Fatalf("%d: n=%d err=%v", i, n, err)
		}
		if got.Code() != m.Code() || !reflect.DeepEqual(got, m) {
			t.Fatalf("%d: decoded\n%#v\nwant\n%#v", i, got, m)
		}
		// Every truncation fails, except where the cut falls between
		// options (options run to the end of the message).
		for j := range len(enc) {
			if _, _, err := Decode(enc[:j]); err == nil && !optionBoundary(t, m, j) {
				t.Fatalf("%d: prefix of %d octets decoded", i, j)
			}
		}
		enc[len(enc)-1] ^= 0x40
		if _, _, err := DecodeVerified(enc, src, dst); !errors.Is(err, ErrChecksum) {
			t.Fatalf("%d: corrupted message: %v", i, err)
		}
	}
}

// optionBoundary reports whether j octets of m's encoding end exactly after
// its base object or one of its options.
func optionBoundary(t *testing.T, m Message, j int) bool {
	enc, _ := m.AppendBinary(nil)
	var opts []Option
	switch v := m.(type) {
	case *DIS:
		opts = v.Options
	case *DIO:
		opts = v.Options
	case *DAO:
		opts = v.Options
	case *DAOACK:
		opts = v.Options
	case *Unknown:
		return true // an unknown body has no structure
	}
	end := len(enc) - optionsLen(opts)
	if j == end {
		return true
	}
	for _, o := range opts {
		end += o.Len()
		if j == end {
			return true
		}
	}
	return false
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct {
		b   []byte
		err error
	}{
		"short header":            {[]byte{155, 1, 0}, ErrTruncated},
		"not RPL":                 {[]byte{128, 0, 0, 0}, ErrType},
		"DIO base":                {append([]byte{155, 1, 0, 0}, make([]byte, 23)...), ErrTruncated},
		"DAO D without DODAGID":   {[]byte{155, 2, 0, 0, 0, 0x40, 0, 1, 0xfd}, ErrTruncated},
		"DAO-ACK D w/o DODAGID":   {[]byte{155, 3, 0, 0, 0, 0x80, 1, 0}, ErrTruncated},
		"option body":             {[]byte{155, 0, 0, 0, 0, 0, 4, 14, 0}, ErrTruncated},
		"option length octet":     {[]byte{155, 0, 0, 0, 0, 0, 4}, ErrTruncated},
		"DODAG config length":     {[]byte{155, 0, 0, 0, 0, 0, 4, 1, 0}, ErrLength},
		"PadN too long":           {[]byte{155, 0, 0, 0, 0, 0, 1, 6, 0, 0, 0, 0, 0, 0}, ErrLength},
		"transit length":          {[]byte{155, 0, 0, 0, 0, 0, 6, 5, 0, 0, 0, 0, 0}, ErrLength},
		"solicited length":        {[]byte{155, 0, 0, 0, 0, 0, 7, 1, 0}, ErrLength},
		"prefix info length":      {[]byte{155, 0, 0, 0, 0, 0, 8, 1, 0}, ErrLength},
		"prefix info prefix len":  {append([]byte{155, 0, 0, 0, 0, 0, 8, 30, 129}, make([]byte, 29)...), ErrInvalid},
		"target prefix too short": {[]byte{155, 0, 0, 0, 0, 0, 5, 3, 0, 64, 0xfd}, ErrInvalid},
		"target too long":         {append([]byte{155, 0, 0, 0, 0, 0, 5, 19, 0, 128}, make([]byte, 17)...), ErrLength},
		"route info prefix short": {[]byte{155, 0, 0, 0, 0, 0, 3, 7, 64, 0, 0, 0, 0, 0, 0xfd}, ErrInvalid},
		"route info prefix len":   {append([]byte{155, 0, 0, 0, 0, 0, 3, 22, 200, 0}, make([]byte, 20)...), ErrInvalid},
		"route info short":        {[]byte{155, 0, 0, 0, 0, 0, 3, 5, 0, 0, 0, 0, 0}, ErrLength},
	}
	for name, c := range cases {
		_, _, err := Decode(c.b)
		var pe *ParseError
		if !errors.Is(err, c.err) || !errors.As(err, &pe) || pe.Reason() == "" || pe.Error() == "" {
			t.Errorf("%s: err = %v, want %v", name, err, c.err)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	v4 := netip.MustParseAddr("10.0.0.1")
	for i, m := range []Message{
		&DIO{DODAGID: v4},
		&DIO{MOP: 8, DODAGID: addr("::1")},
		&DAO{Flags: 0x40},
		&DAO{DODAGID: v4},
		&DAOACK{Reserved: 0x80},
		&DIS{Options: []Option{PadN{N: 6}}},
		&DIS{Options: []Option{Target{PrefixLen: 129, Prefix: addr("::")}}},
		&DIS{Options: []Option{Target{PrefixLen: 8}}},
		&DIS{Options: []Option{RouteInfo{Prf: 4, Prefix: addr("::")}}},
		&DIS{Options: []Option{PrefixInfo{Prefix: v4}}},
		&DIS{Options: []Option{Transit{Flags: 0x80}}},
		&DIS{Options: []Option{SolicitedInfo{Flags: 0x20}}},
		&DIS{Options: []Option{DODAGConfig{PCS: 8}}},
		&DIS{Options: []Option{MetricContainer{Data: make([]byte, 256)}}},
		&DIS{Options: []Option{UnknownOption{OptType: 0}}},
	} {
		if _, err := AppendICMP(nil, addr("::1"), addr("::1"), m); err == nil {
			t.Errorf("%d: %#v encoded", i, m)
		}
	}
}

func TestSourceRoute(t *testing.T) {
	dst := addr("fd00::204:4:4:4")
	hops := []netip.Addr{addr("fd00::205:5:5:5"), addr("fd00::206:6:6:6"), addr("fd00::302:2:2:2")}
	s := NewSourceRoute(17, dst, hops)
	if s.CmprI != 8 || s.CmprE != 8 {
		t.Fatalf("CmprI %d CmprE %d", s.CmprI, s.CmprE)
	}
	enc, err := s.AppendBinary(nil)
	if err != nil || len(enc) != s.Len() || len(enc)%8 != 0 {
		t.Fatalf("len %d: %v", len(enc), err)
	}
	got, n, err := DecodeSourceRoute(enc, dst)
	if err != nil || n != len(enc) || !reflect.DeepEqual(got, s) {
		t.Fatalf("decoded %+v %v", got, err)
	}
	for i := range len(enc) {
		if _, _, err := DecodeSourceRoute(enc[:i], dst); err == nil {
			t.Fatalf("prefix %d decoded", i)
		}
	}
	// Walk the route: each hop swaps itself for the next address.
	d := dst.As16()
	visited := []netip.Addr{netip.AddrFrom16(d)}
	for {
		ok, err := AdvanceSRH(enc, &d)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		visited = append(visited, netip.AddrFrom16(d))
	}
	if want := append([]netip.Addr{dst}, hops...); !reflect.DeepEqual(visited, want) {
		t.Fatalf("visited %v", visited)
	}
	// At the end the header lists the addresses already visited.
	end, _, err := DecodeSourceRoute(enc, netip.AddrFrom16(d))
	if err != nil || end.SegmentsLeft != 0 || !reflect.DeepEqual(end.Addresses, []netip.Addr{dst, hops[0], hops[1]}) {
		t.Fatalf("final header %+v %v", end, err)
	}
	// One hop, and addresses that do not share the elided prefix.
	one := NewSourceRoute(58, dst, hops[:1])
	if enc, err := one.AppendBinary(nil); err != nil || len(enc) != 16 {
		t.Fatalf("one hop: %x %v", enc, err)
	}
	bad := s
	bad.Addresses = []netip.Addr{hops[0], addr("2001:db8::1")}
	if _, err := bad.AppendBinary(nil); !errors.Is(err, ErrInvalid) {
		t.Fatalf("prefix mismatch: %v", err)
	}
	wrongType := bytes.Clone(enc)
	wrongType[2] = 2
	if _, _, err := DecodeSourceRoute(wrongType, dst); !errors.Is(err, ErrType) {
		t.Fatal("routing type 2 accepted")
	}
	badSL := bytes.Clone(enc)
	badSL[3] = 4
	if _, _, err := DecodeSourceRoute(badSL, dst); !errors.Is(err, ErrInvalid) {
		t.Fatal("segments left > n accepted")
	}
}

func TestRPLOption(t *testing.T) {
	o := RPLOption{Down: true, FwdError: true, Flags: 1, InstanceID: 30, SenderRank: 512}
	hbh, _ := AppendHopByHop(nil, 17, o)
	if len(hbh) != 8 {
		t.Fatalf("HBH %x", hbh)
	}
	got, off, ok, err := FindRPLOption(hbh)
	if err != nil || !ok || off != 2 || got != o {
		t.Fatalf("%+v %v", got, err)
	}
	// Behind a Pad1 and a PadN, with the RFC 9008 type.
	h := []byte{17, 1, 0, 1, 1, 0, OptTypeRPL9008, 4, 0, 1, 0, 2, 1, 0, 0, 0}
	got, off, ok, err = FindRPLOption(h)
	if err != nil || !ok || off != 6 || got.SenderRank != 2 {
		t.Fatalf("after padding: %+v %d %v", got, off, err)
	}
	if _, _, ok, err := FindRPLOption([]byte{17, 0, 1, 4, 0, 0, 0, 0}); ok || err != nil {
		t.Fatal("found an option in pure padding")
	}
	for _, b := range [][]byte{{17}, {17, 1, 0}, {17, 0, 0x63, 9, 0, 0, 0, 0}, {17, 0, 1, 2, 0, 0, 0x63, 4}} {
		if _, _, _, err := FindRPLOption(b); err == nil {
			t.Errorf("%x: no error", b)
		}
	}
	if _, _, err := DecodeRPLOption([]byte{0x63, 3, 0, 0, 0}); !errors.Is(err, ErrLength) {
		t.Fatal("length 3 accepted")
	}
	if _, err := (RPLOption{Flags: 0x20}).AppendBinary(nil); err == nil {
		t.Fatal("bad flags encoded")
	}
}

func TestNextOptionNoAllocs(t *testing.T) {
	m := sampleMessages()[2]
	enc, _ := m.AppendBinary(nil)
	opts := enc[4+24:]
	testutil.AssertAllocs(t, 0, func() {
		b := opts
		for len(b) > 0 {
			_, _, n, err := NextOption(b)
			if err != nil {
				t.Fatal(err)
			}
			b = b[n:]
		}
	})
}

func BenchmarkDecodeDIO(b *testing.B) {
	enc, _ := sampleMessages()[2].AppendBinary(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendDAO(b *testing.B) {
	m := sampleMessages()[3]
	buf := make([]byte, 0, 128)
	src, dst := addr("fd00::202:2:2:2"), addr("fd00::201:1:1:1")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendICMP(buf[:0], src, dst, m); err != nil {
			b.Fatal(err)
		}
	}
}

// Regressions from fuzzing (testdata/fuzz/FuzzDecode/2886d0663edba32a and
// testdata/fuzz/FuzzSourceRoute/c5df57f8e8147199).
func TestRegressionPrefixPaddingIgnored(t *testing.T) {
	// A /16 target sent with 16 prefix octets: the extra octets are padding.
	b := append([]byte{155, 0, 0, 0, 0, 0, 5, 18, 0, 16, 0xfd, 0x00}, bytes.Repeat([]byte{0x30}, 14)...)
	m, _, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if tg := m.(*DIS).Options[0].(Target); tg.Prefix != addr("fd00::") {
		t.Fatalf("prefix %v", tg.Prefix)
	}
}

func TestRegressionSRHPadAbove7(t *testing.T) {
	b := append([]byte{0x30, 3, 3, 3, 0xea, 0xe0, 0, 0}, make([]byte, 24)...)
	if _, _, err := DecodeSourceRoute(b, addr("::1")); !errors.Is(err, ErrInvalid) {
		t.Fatalf("pad 14: %v", err)
	}
}
