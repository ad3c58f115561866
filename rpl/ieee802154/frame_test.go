package ieee802154

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Vector 07 (testdata/07-scapy-802154-iphc-dio-storing.txt): a real frame,
// carried without FCS.
const vector07 = `41c8 74 cdab ffff cf0da4feff6e95e4
7a3b3a1a9b01d45e1edc02ba957f00000001000000000000e6956efffeaffffd
081e40400000000000000000000000000001000000000000000000000000000003168010ffffffff0001000000000000
e6956efffea4054f`

// Vector 08a (testdata/08-smoltcp-802154-iphc-icmp-echo.txt), no FCS.
const vector08a = `41cc 3b efbe 4242424242420b1a 623aa63457291c26
6a330a62173a8000b0e30004000182f282640000000066230c0000000000
101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637`

// Vector 10 (testdata/10-scapy-802154-iphc-nhc-udp-short-addr-panid-iid.txt).
// Its trailing "FCS" f2 eb is not a valid CRC-16 of the frame (checked here:
// the correct FCS is 23 04), so it is decoded without FCS.
const vector10 = `4188 00 2200 ffff 1300 7d3b01f0dac9dac98580c800000000000000 f2eb`

func TestFCSCheckValue(t *testing.T) {
	// CRC-16/KERMIT check value over "123456789".
	if got := FCS([]byte("123456789")); got != 0x2189 {
		t.Fatalf("FCS(123456789) = %#04x, want 0x2189", got)
	}
}

func TestVector07(t *testing.T) {
	b := unhex(t, vector07)
	f, n, err := DecodeNoFCS(b)
	if err != nil {
		t.Fatal(err)
	}
	if n != len(b) {
		t.Fatalf("consumed %d of %d", n, len(b))
	}
	want := Frame{
		Type: TypeData, PANIDCompression: true, Seq: 0x74,
		DstPAN: 0xabcd, Dst: Broadcast,
		SrcPAN: 0xabcd, Src: Ext(ExtAddr{0xe4, 0x95, 0x6e, 0xff, 0xfe, 0xa4, 0x0d, 0xcf}),
	}
	checkHeader(t, f, want)
	if len(f.Payload) != len(b)-15 || f.Payload[0] != 0x7a {
		t.Fatalf("payload = %x", f.Payload)
	}
	if got := f.Src.String(); got != "e4:95:6e:ff:fe:a4:0d:cf" {
		t.Fatalf("src string %q", got)
	}
	enc, err := f.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc[:len(enc)-2], b) {
		t.Fatalf("re-encoded\n%x\nwant\n%x", enc, b)
	}
	if !CheckFCS(enc) || f.Len() != len(enc) {
		t.Fatalf("bad FCS or Len %d != %d", f.Len(), len(enc))
	}
}

func TestVector08a(t *testing.T) {
	b := unhex(t, vector08a)
	f, _, err := DecodeNoFCS(b)
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, f, Frame{
		Type: TypeData, PANIDCompression: true, Seq: 0x3b, DstPAN: 0xbeef, SrcPAN: 0xbeef,
		Dst: Ext(ExtAddr{0x1a, 0x0b, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42}),
		Src: Ext(ExtAddr{0x26, 0x1c, 0x29, 0x57, 0x34, 0xa6, 0x3a, 0x62}),
	})
	enc, err := f.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc[:len(enc)-2], b) {
		t.Fatalf("re-encoded %x", enc)
	}
}

func TestVector10(t *testing.T) {
	b := unhex(t, vector10)
	if _, _, err := Decode(b); !errors.Is(err, ErrBadFCS) {
		t.Fatalf("Decode with the vector's bogus FCS: err = %v, want ErrBadFCS", err)
	}
	f, _, err := DecodeNoFCS(b[:len(b)-2])
	if err != nil {
		t.Fatal(err)
	}
	checkHeader(t, f, Frame{
		Type: TypeData, PANIDCompression: true, Seq: 0, DstPAN: 0x0022, SrcPAN: 0x0022,
		Dst: Broadcast, Src: Short(0x0013),
	})
	if !bytes.Equal(f.Payload, b[9:len(b)-2]) {
		t.Fatalf("payload %x", f.Payload)
	}
	enc, _ := f.AppendBinary(nil)
	if !bytes.Equal(enc[len(enc)-2:], []byte{0x23, 0x04}) {
		t.Fatalf("FCS %x, want 2304", enc[len(enc)-2:])
	}
	g, _, err := Decode(enc)
	if err != nil || !bytes.Equal(g.Payload, f.Payload) {
		t.Fatalf("decode of corrected frame: %v", err)
	}
}

func checkHeader(t *testing.T, got, want Frame) {
	t.Helper()
	if header(got) != header(want) {
		t.Fatalf("header\n got %+v\nwant %+v", got, want)
	}
}

var (
	ext1 = Ext(ExtAddr{0x02, 0, 0, 0xff, 0xfe, 0, 0, 1})
	ext2 = Ext(ExtAddr{0x02, 0, 0, 0xff, 0xfe, 0, 0, 2})
)

// sampleFrames covers every frame type and addressing combination.
func sampleFrames() map[string]Frame {
	return map[string]Frame{
		"ack":                  AckFrame(7, true),
		"data ext/ext":         DataFrame(1, 0xabcd, ext1, ext2, []byte("hello"), true),
		"data short/short":     DataFrame(2, 0xabcd, Short(1), Short(2), []byte{1, 2, 3}, false),
		"data bcast/ext":       DataFrame(3, 0xabcd, Broadcast, ext2, []byte{0x41, 0x60}, true),
		"data dst only":        {Type: TypeData, Seq: 4, DstPAN: 0x1234, Dst: Short(5), Payload: []byte{9}},
		"data src only":        {Type: TypeData, Seq: 5, SrcPAN: 0x1234, Src: ext1, Payload: []byte{9}},
		"data two PANs":        {Type: TypeData, Version: Version2006, Seq: 6, DstPAN: 1, Dst: Short(5), SrcPAN: 2, Src: ext1},
		"beacon":               {Type: TypeBeacon, Seq: 8, SrcPAN: 0xabcd, Src: Short(0), Payload: []byte{0xff, 0xcf, 0, 0}},
		"command data req":     {Type: TypeCommand, AckRequest: true, Seq: 9, PANIDCompression: true, DstPAN: 1, SrcPAN: 1, Dst: Short(0), Src: ext1, Payload: []byte{0x04}},
		"data empty payload":   DataFrame(10, 0xabcd, ext1, ext2, nil, false),
		"data max payload ext": DataFrame(11, 0xabcd, ext1, ext2, make([]byte, 127-2-1-2-8-8-2), false),
	}
}

func TestRoundTrip(t *testing.T) {
	for name, f := range sampleFrames() {
		t.Run(name, func(t *testing.T) {
			enc, err := f.AppendBinary([]byte{0xee}) // appends after existing bytes
			if err != nil {
				t.Fatal(err)
			}
			if enc[0] != 0xee || len(enc)-1 != f.Len() {
				t.Fatalf("appended %d bytes, Len() = %d", len(enc)-1, f.Len())
			}
			g, n, err := Decode(enc[1:])
			if err != nil {
				t.Fatal(err)
			}
			if n != len(enc)-1 {
				t.Fatalf("consumed %d", n)
			}
			if !bytes.Equal(g.Payload, f.Payload) {
				t.Fatalf("payload %x want %x", g.Payload, f.Payload)
			}
			checkHeader(t, g, f)
			typ, pan, dst, err := PeekDst(enc[1:])
			if err != nil || typ != f.Type || dst != f.Dst || (dst.Mode != AddrNone && pan != f.DstPAN) {
				t.Fatalf("PeekDst = %v %#x %v %v", typ, pan, dst, err)
			}
		})
	}
}

func TestEveryPrefixFails(t *testing.T) {
	for name, f := range sampleFrames() {
		enc, err := f.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range enc {
			if _, _, err := Decode(enc[:i]); err == nil {
				t.Errorf("%s: Decode of %d-byte prefix succeeded", name, i)
			}
		}
		hdr := f.HeaderLen()
		for i := range hdr {
			if _, _, err := DecodeNoFCS(enc[:i]); !errors.Is(err, ErrTruncated) {
				t.Errorf("%s: DecodeNoFCS of %d-byte prefix: %v, want ErrTruncated", name, i, err)
			}
		}
	}
}

func TestBitFlipIsBadFCS(t *testing.T) {
	f := DataFrame(1, 0xabcd, ext1, ext2, []byte("payload"), true)
	enc, _ := f.AppendBinary(nil)
	for i := range len(enc) * 8 {
		c := bytes.Clone(enc)
		c[i/8] ^= 1 << (i % 8)
		if _, _, err := Decode(c); !errors.Is(err, ErrBadFCS) {
			t.Fatalf("bit %d flipped: err = %v, want ErrBadFCS", i, err)
		}
	}
}

func TestTooLong(t *testing.T) {
	f := DataFrame(11, 0xabcd, ext1, ext2, make([]byte, f0MaxPayload()+1), false)
	if _, err := f.AppendBinary(nil); !errors.Is(err, ErrTooLong) {
		t.Fatalf("encode of 128-octet frame: %v", err)
	}
	f.Payload = f.Payload[:f.MaxPayload()]
	enc, err := f.AppendBinary(nil)
	if err != nil || len(enc) != MaxPSDU {
		t.Fatalf("max frame: len %d err %v", len(enc), err)
	}
	if _, _, err := Decode(append(enc, 0)); !errors.Is(err, ErrTooLong) {
		t.Fatalf("decode of 128 octets: %v", err)
	}
}

func f0MaxPayload() int {
	f := DataFrame(0, 0, ext1, ext2, nil, false)
	return f.MaxPayload()
}

func TestInvalidFrameControl(t *testing.T) {
	cases := map[string]struct {
		fc  uint16
		err error
	}{
		"reserved type":      {0x0004, ErrUnsupported},
		"security":           {0x0009, ErrUnsupported},
		"version 2":          {0x2001 | 0x8800, ErrUnsupported},
		"dst mode 1":         {0x0401, ErrAddrMode},
		"src mode 1":         {0x4001 | 0x0800, ErrAddrMode},
		"compression no src": {0x0841, ErrAddrMode},
		"compression no dst": {0x8041, ErrAddrMode},
	}
	for name, c := range cases {
		b := make([]byte, 30)
		b[0], b[1] = byte(c.fc), byte(c.fc>>8)
		_, _, err := DecodeNoFCS(b)
		var pe *ParseError
		if !errors.Is(err, c.err) || !errors.As(err, &pe) {
			t.Errorf("%s: err = %v, want %v", name, err, c.err)
			continue
		}
		if pe.Reason() == "" || pe.Error() == "" {
			t.Errorf("%s: empty reason", name)
		}
		b = AppendFCS(b[:28])
		if _, _, err := Decode(b); !errors.Is(err, c.err) {
			t.Errorf("%s: Decode err = %v", name, err)
		}
		if _, _, _, err := PeekDst(b); !errors.Is(err, c.err) {
			t.Errorf("%s: PeekDst err = %v", name, err)
		}
	}
	bad := Frame{Type: TypeData, PANIDCompression: true, Dst: Short(1)}
	if _, err := bad.AppendBinary(nil); !errors.Is(err, ErrAddrMode) {
		t.Fatalf("encode with compression and no src: %v", err)
	}
}

func TestAddressString(t *testing.T) {
	if s := Short(0xbeef).String(); s != "0xbeef" {
		t.Fatal(s)
	}
	if s := (Address{}).String(); s != "none" {
		t.Fatal(s)
	}
	if !Broadcast.IsBroadcast() || Short(1).IsBroadcast() {
		t.Fatal("IsBroadcast")
	}
}

func TestNoAllocs(t *testing.T) {
	f := DataFrame(1, 0xabcd, ext1, ext2, []byte("hello world"), true)
	buf := make([]byte, 0, MaxPSDU)
	enc, _ := f.AppendBinary(buf)
	testutil.AssertAllocs(t, 0, func() {
		if _, err := f.AppendBinary(buf[:0]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Decode(enc); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := PeekDst(enc); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	f := DataFrame(1, 0xabcd, ext1, ext2, make([]byte, 80), true)
	enc, _ := f.AppendBinary(nil)
	b.ReportAllocs()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendBinary(b *testing.B) {
	f := DataFrame(1, 0xabcd, ext1, ext2, make([]byte, 80), true)
	buf := make([]byte, 0, MaxPSDU)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := f.AppendBinary(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

type frameHeader struct {
	FrameControl
	Seq            uint8
	DstPAN, SrcPAN uint16
	Dst, Src       Address
}

func header(f Frame) frameHeader {
	return frameHeader{f.Control(), f.Seq, f.DstPAN, f.SrcPAN, f.Dst, f.Src}
}
