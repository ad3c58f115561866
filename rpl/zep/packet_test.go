package zep

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

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

// An 802.15.4 ack frame with its FCS (02 00 2a = ack, seq 42).
var ackFrame = []byte{0x02, 0x00, 0x2a, 0x40, 0x12} // FCS not checked by zep

// goldenData is a ZEP v2 data packet laid out per packet-zep.c.
const goldenData = `
4558          "EX"
02            version 2
01            type data
0f            channel 15
1234          device id 0x1234
01            CRC mode
ff            LQI 255
e6b5a3c4 80000000   NTP: 0xe6b5a3c4 seconds, fraction 0.5
00000007      sequence 7
00000000000000000000  reserved
05            length 5
02002a4012    802.15.4 frame`

const goldenAck = `4558 02 02 deadbeef`

const goldenV1 = `4558 01 0b 0001 00 80 00000000000000 05 02002a4012`

func TestGoldenData(t *testing.T) {
	b := unhex(t, stripComments(goldenData))
	p, n, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	want := Packet{Version: 2, Type: TypeData, Channel: 15, DeviceID: 0x1234, CRCMode: true,
		LQI: 255, NTP: 0xe6b5a3c480000000, Seq: 7, Frame: ackFrame}
	if n != len(b) || !equal(p, want) {
		t.Fatalf("n=%d\n got %+v\nwant %+v", n, p, want)
	}
	enc, err := want.AppendBinary(nil)
	if err != nil || !bytes.Equal(enc, b) || want.Len() != len(b) {
		t.Fatalf("encode %x err %v", enc, err)
	}
	// Version 0 encodes as 2.
	want.Version = 0
	if enc, _ := want.AppendBinary(nil); !bytes.Equal(enc, b) {
		t.Fatal("zero version is not v2")
	}
}

func TestGoldenAckAndV1(t *testing.T) {
	b := unhex(t, goldenAck)
	p, n, err := Decode(b)
	if err != nil || n != AckLen || p.Type != TypeAck || p.Seq != 0xdeadbeef {
		t.Fatalf("ack: %+v n=%d err=%v", p, n, err)
	}
	if enc, _ := p.AppendBinary(nil); !bytes.Equal(enc, b) {
		t.Fatalf("ack encode %x", enc)
	}
	b = unhex(t, goldenV1)
	p, n, err = Decode(b)
	if err != nil || n != len(b) || p.Version != 1 || p.Channel != 11 || p.DeviceID != 1 ||
		p.CRCMode || p.LQI != 0x80 || !bytes.Equal(p.Frame, ackFrame) {
		t.Fatalf("v1: %+v n=%d err=%v", p, n, err)
	}
	if enc, _ := p.AppendBinary(nil); !bytes.Equal(enc, b) || p.Len() != len(b) {
		t.Fatalf("v1 encode %x", enc)
	}
}

func stripComments(s string) string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		for _, w := range f {
			if _, err := hex.DecodeString(w); err != nil {
				break
			}
			out = append(out, w)
		}
	}
	return strings.Join(out, "")
}

func equal(a, b Packet) bool {
	return a.Version == b.Version && a.Type == b.Type && a.Channel == b.Channel &&
		a.DeviceID == b.DeviceID && a.CRCMode == b.CRCMode && a.LQI == b.LQI &&
		a.NTP == b.NTP && a.Seq == b.Seq && bytes.Equal(a.Frame, b.Frame)
}

func samples() []Packet {
	return []Packet{
		{Type: TypeData, Channel: 26, DeviceID: 9, CRCMode: true, NTP: NTPTime(time.Unix(1700000000, 0)), Seq: 1, Frame: ackFrame},
		{Type: TypeData, Channel: 11, Frame: make([]byte, 127)},
		{Type: TypeData},
		{Type: TypeAck, Seq: 99},
		{Version: 1, Type: TypeData, Channel: 20, DeviceID: 3, CRCMode: true, Frame: []byte{1, 2, 3}},
	}
}

func TestRoundTripAndPrefixes(t *testing.T) {
	for i, p := range samples() {
		enc, err := p.AppendBinary([]byte("xx"))
		if err != nil {
			t.Fatal(err)
		}
		enc = enc[2:]
		if len(enc) != p.Len() {
			t.Fatalf("%d: Len %d appended %d", i, p.Len(), len(enc))
		}
		g, n, err := Decode(append(enc, 0xaa)) // trailing byte is not consumed
		if err != nil || n != len(enc) {
			t.Fatalf("%d: n=%d err=%v", i, n, err)
		}
		if g.Version == 0 || (p.Version == 0 && g.Version != 2) {
			t.Fatalf("%d: version %d", i, g.Version)
		}
		g.Version, p.Version = 0, 0
		if !equal(g, p) {
			t.Fatalf("%d: got %+v want %+v", i, g, p)
		}
		for j := range enc {
			if _, _, err := Decode(enc[:j]); !errors.Is(err, ErrTruncated) {
				t.Fatalf("%d: prefix %d: err %v, want ErrTruncated", i, j, err)
			}
		}
	}
}

func TestInvalid(t *testing.T) {
	good := unhex(t, stripComments(goldenData))
	mut := func(i int, v byte) []byte { c := bytes.Clone(good); c[i] = v; return c }
	for name, c := range map[string]struct {
		b   []byte
		err error
	}{
		"preamble": {mut(0, 'Z'), ErrPreamble},
		"version":  {mut(2, 3), ErrVersion},
		"type":     {mut(3, 7), ErrType},
		"length":   {mut(31, 0x80), ErrLength},
		"long":     {mut(31, 6), ErrTruncated},
	} {
		_, _, err := Decode(c.b)
		var pe *ParseError
		if !errors.Is(err, c.err) || !errors.As(err, &pe) || pe.Reason() == "" {
			t.Errorf("%s: err %v want %v", name, err, c.err)
		}
	}
	for _, p := range []Packet{{Version: 3}, {Type: 9}, {Type: TypeData, Frame: make([]byte, 128)}} {
		if _, err := p.AppendBinary(nil); err == nil {
			t.Errorf("encode %+v succeeded", p)
		}
	}
}

func TestNTP(t *testing.T) {
	tm := time.Date(2024, 5, 6, 7, 8, 9, 500_000_000, time.UTC)
	v := NTPTime(tm)
	if v>>32 != uint64(tm.Unix()+2208988800) || v&0xffffffff != 0x80000000 {
		t.Fatalf("NTP %#x", v)
	}
	if got := TimeFromNTP(v); !got.Equal(tm) {
		t.Fatalf("TimeFromNTP = %v, want %v", got, tm)
	}
}

func TestNoAllocs(t *testing.T) {
	p := samples()[0]
	buf := make([]byte, 0, 200)
	enc, _ := p.AppendBinary(nil)
	testutil.AssertAllocs(t, 0, func() {
		if _, err := p.AppendBinary(buf[:0]); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Decode(enc); err != nil {
			t.Fatal(err)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	p := samples()[0]
	enc, _ := p.AppendBinary(nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add(unhex(f, stripComments(goldenData)))
	f.Add(unhex(f, goldenAck))
	f.Add(unhex(f, goldenV1))
	for _, p := range samples() {
		enc, _ := p.AppendBinary(nil)
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, n, err := Decode(b)
		if err != nil {
			return
		}
		if n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		enc, err := p.AppendBinary(nil)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if len(enc) != n || p.Len() != n {
			t.Fatalf("re-encoded %d octets, consumed %d, Len %d", len(enc), n, p.Len())
		}
		g, _, err := Decode(enc)
		if err != nil || !equal(g, p) {
			t.Fatalf("round trip: %+v vs %+v (%v)", g, p, err)
		}
	})
}
