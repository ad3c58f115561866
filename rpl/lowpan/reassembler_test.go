package lowpan

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

func bigPacket(t testing.TB, n int) []byte {
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	return udpPacket(t, 0, 0, 64, AddrFromPrefix(area, nodeA), AddrFromPrefix(area, nodeB), 1000, 1883, data)
}

func TestFragmentReassembleSizes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := NewFragmenter(areaCT, 100)
	r := NewReassembler(ReassemblerConfig{Contexts: areaCT, MaxSize: MaxDatagramSize})
	for range 300 {
		n := rng.IntN(1400)
		mp := 40 + rng.IntN(88) // MAC payload budgets from 40 to 127 octets
		pkt := bigPacket(t, n)
		frames := collect(t, f, pkt, nodeA, nodeB, mp)
		if len(pkt) > 48+mp-10 && len(frames) < 2 {
			t.Fatalf("%d-octet packet in one %d-octet frame", len(pkt), mp)
		}
		// Deliver in a random order: reassembly must not care.
		rng.Shuffle(len(frames), func(i, j int) { frames[i], frames[j] = frames[j], frames[i] })
		var got []byte
		for i, fr := range frames {
			p, err := r.Input(fr, nodeA, nodeB)
			if err != nil {
				t.Fatalf("n=%d mp=%d frame %d: %v", n, mp, i, err)
			}
			if p != nil {
				got = p
			}
		}
		if !bytes.Equal(got, pkt) {
			t.Fatalf("n=%d mp=%d: reassembled %d octets, want %d", n, mp, len(got), len(pkt))
		}
	}
	if r.Pending() != 0 {
		t.Fatalf("%d datagrams left pending", r.Pending())
	}
	s := r.Stats()
	if s.Completed+s.Unfragmented != 300 || s.Completed == 0 || s.Unfragmented == 0 {
		t.Fatalf("stats %+v", s)
	}
}

func TestFragmenterErrors(t *testing.T) {
	f := NewFragmenter(nil, 0)
	emit := func([]byte) error { return nil }
	if err := f.Fragment(bigPacket(t, 100), nodeA, nodeB, 20, emit); !errors.Is(err, ErrTooSmall) {
		t.Fatalf("tiny MAC payload: %v", err)
	}
	if err := f.Fragment(bigPacket(t, 2100), nodeA, nodeB, 100, emit); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("datagram over 2047: %v", err)
	}
	stop := errors.New("stop")
	if err := f.Fragment(bigPacket(t, 300), nodeA, nodeB, 100, func([]byte) error { return stop }); err != stop {
		t.Fatalf("emit error lost: %v", err)
	}
}

// fragments returns the frames of a fragmented packet of n data octets.
func fragments(t *testing.T, n int, tag uint16) ([]byte, [][]byte) {
	pkt := bigPacket(t, n)
	return pkt, collect(t, NewFragmenter(areaCT, tag), pkt, nodeA, nodeB, 80)
}

func TestReassemblerDuplicatesAndOverlap(t *testing.T) {
	r := NewReassembler(ReassemblerConfig{Contexts: areaCT})
	pkt, frames := fragments(t, 300, 7)
	if p, err := r.Input(frames[0], nodeA, nodeB); p != nil || err != nil {
		t.Fatal(p, err)
	}
	if p, err := r.Input(frames[0], nodeA, nodeB); p != nil || err != nil {
		t.Fatal("duplicate FRAG1", p, err)
	}
	// An overlapping FRAGN with a different extent restarts reassembly.
	fh, _, _ := DecodeFragHeader(frames[1])
	bad := bytes.Clone(frames[1][:5+16])
	bad[4] = fh.Offset - 1
	if p, err := r.Input(bad, nodeA, nodeB); p != nil || err != nil {
		t.Fatal(p, err)
	}
	s := r.Stats()
	if s.Duplicates != 1 || s.Overlaps != 1 {
		t.Fatalf("stats %+v", s)
	}
	// After the restart the datagram completes only once every fragment,
	// including FRAG1 again, has arrived.
	var got []byte
	for _, fr := range frames {
		p, err := r.Input(fr, nodeA, nodeB)
		if err != nil {
			t.Fatal(err)
		}
		if p != nil {
			got = p
		}
	}
	if !bytes.Equal(got, pkt) {
		t.Fatal("not reassembled after overlap")
	}
}

func TestReassemblerTimeoutAndEviction(t *testing.T) {
	vc := clock.NewVirtual(time.Unix(1000, 0))
	r := NewReassembler(ReassemblerConfig{Contexts: areaCT, MaxDatagrams: 2, Timeout: 12 * time.Second, Clock: vc})
	_, a := fragments(t, 300, 1)
	_, b := fragments(t, 300, 2)
	pc, c := fragments(t, 300, 3)
	r.Input(a[0], nodeA, nodeB)
	vc.Advance(5 * time.Second)
	r.Input(b[0], nodeA, nodeB)
	if r.Pending() != 2 {
		t.Fatalf("pending %d", r.Pending())
	}
	vc.Advance(5 * time.Second)
	r.Input(c[0], nodeA, nodeB) // evicts a, the oldest
	if s := r.Stats(); s.Evicted != 1 || r.Pending() != 2 {
		t.Fatalf("stats %+v pending %d", s, r.Pending())
	}
	vc.Advance(7 * time.Second) // b is now 12 s old, c 7 s
	r.Expire()
	if s := r.Stats(); s.TimedOut != 1 || r.Pending() != 1 {
		t.Fatalf("after expiry: %+v pending %d", s, r.Pending())
	}
	var got []byte
	for _, fr := range c[1:] {
		if p, _ := r.Input(fr, nodeA, nodeB); p != nil {
			got = p
		}
	}
	if !bytes.Equal(got, pc) {
		t.Fatal("c not reassembled")
	}
	// Fragments of an evicted datagram do not complete anything.
	for _, fr := range a[1:] {
		if p, _ := r.Input(fr, nodeA, nodeB); p != nil {
			t.Fatal("evicted datagram completed without its FRAG1")
		}
	}
	vc.Advance(time.Minute)
	r.Expire()
	if r.Pending() != 0 {
		t.Fatal("stale fragments not expired")
	}
}

func TestReassemblerKeysBySender(t *testing.T) {
	r := NewReassembler(ReassemblerConfig{Contexts: areaCT})
	pkt, frames := fragments(t, 300, 9)
	other := ieee802154.Short(0x99)
	r.Input(frames[0], nodeA, nodeB)
	for _, fr := range frames[1:] {
		if p, _ := r.Input(fr, other, nodeB); p != nil {
			t.Fatal("fragments from another sender completed the datagram")
		}
	}
	var got []byte
	for _, fr := range frames[1:] {
		if p, _ := r.Input(fr, nodeA, nodeB); p != nil {
			got = p
		}
	}
	if !bytes.Equal(got, pkt) {
		t.Fatal("not reassembled")
	}
}

func TestReassemblerRejects(t *testing.T) {
	r := NewReassembler(ReassemblerConfig{Contexts: areaCT, MaxSize: 200})
	_, frames := fragments(t, 300, 1)
	if _, err := r.Input(frames[0], nodeA, nodeB); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("oversized datagram: %v", err)
	}
	cases := map[string][]byte{
		"FRAGN past the end":          append([]byte{0xe0, 100, 0, 1, 12}, make([]byte, 8)...),
		"FRAGN not a multiple of 8":   append([]byte{0xe0, 100, 0, 1, 1}, make([]byte, 7)...),
		"empty FRAGN":                 {0xe0, 100, 0, 1, 1},
		"datagram smaller than IPv6":  append([]byte{0xe0, 16, 0, 1, 0}, make([]byte, 8)...),
		"truncated fragment header":   {0xe0, 100, 0},
		"FRAG1 with non-IPHC payload": {0xc0, 100, 0, 1, 0x80},
		"unsupported dispatch":        {0x50, 1},
		"bad IPHC":                    {0x7a, 0x33},
	}
	for name, in := range cases {
		if p, err := r.Input(in, nodeA, nodeB); err == nil || p != nil {
			t.Errorf("%s: accepted", name)
		}
	}
	s := r.Stats()
	if s.BadFragments != 4 || s.BadHeaders != 4 || s.TooLarge != 1 {
		t.Fatalf("stats %+v", s)
	}
	// A datagram covered entirely by FRAGNs (offset 0 included) is not
	// accepted without its FRAG1.
	r2 := NewReassembler(ReassemblerConfig{})
	if _, err := r2.Input(append([]byte{0xe0, 48, 0, 1, 0}, make([]byte, 48)...), nodeA, nodeB); !errors.Is(err, ErrFragment) {
		t.Fatalf("FRAGN-only datagram: %v", err)
	}
}

func TestFragHeaderCodec(t *testing.T) {
	for _, f := range []FragHeader{{First: true, Size: 2047, Tag: 0xffff}, {Size: 148, Tag: 1, Offset: 12}} {
		b, err := f.AppendBinary(nil)
		if err != nil || len(b) != f.Len() {
			t.Fatal(err)
		}
		g, n, err := DecodeFragHeader(b)
		if err != nil || g != f || n != len(b) {
			t.Fatalf("%+v -> %+v", f, g)
		}
		for i := range b {
			if _, _, err := DecodeFragHeader(b[:i]); err == nil {
				t.Fatalf("prefix %d decoded", i)
			}
		}
	}
	big := FragHeader{Size: 2048}
	if _, err := big.AppendBinary(nil); !errors.Is(err, ErrTooLarge) {
		t.Fatal("size 2048 encoded")
	}
}

func BenchmarkFragmentReassemble(b *testing.B) {
	pkt := bigPacket(b, 400)
	f := NewFragmenter(areaCT, 0)
	r := NewReassembler(ReassemblerConfig{Contexts: areaCT})
	frames := make([][]byte, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		frames = frames[:0]
		f.Fragment(pkt, nodeA, nodeB, 100, func(fr []byte) error {
			frames = append(frames, append([]byte(nil), fr...))
			return nil
		})
		for _, fr := range frames {
			r.Input(fr, nodeA, nodeB)
		}
	}
}
