package lowpan

import (
	"bytes"
	"testing"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
)

// l2 picks a link-layer address for the fuzzers from one octet.
func l2(sel byte) ieee802154.Address {
	switch sel % 4 {
	case 0:
		return nodeA
	case 1:
		return ieee802154.Short(ieee802154.ShortAddr(sel) << 4)
	case 2:
		return ieee802154.Broadcast
	}
	return ieee802154.Address{}
}

func seedPayloads(f *testing.F) [][]byte {
	seeds := [][]byte{
		unhex(f, "7a3b3a1a9b0000000000"),
		unhex(f, "7d3b01f0dac9dac98580c800000000000000"),
		unhex(f, "7e33e03a066304001e0300 8000ffff00010002"),
		unhex(f, "7e33e31e03039930000005000500050005060006000600060200020002000200000000f0123456 78abcd68"),
		unhex(f, "7b3c3a3e0000000001"),
		unhex(f, "7e33f71268656c6c6f"),
		unhex(f, "7ef7 30 12 f0b1"),
	}
	pkt := bigPacket(f, 20)
	enc, _ := AppendPacket(nil, pkt, nodeA, nodeB, areaCT)
	return append(seeds, enc)
}

// FuzzDecompress: any input either fails cleanly or decompresses to an
// IPv6 packet that compresses and decompresses back to itself.
func FuzzDecompress(f *testing.F) {
	for _, s := range seedPayloads(f) {
		f.Add(s, byte(0), byte(2))
	}
	f.Fuzz(func(t *testing.T, in []byte, s, d byte) {
		src, dst := l2(s), l2(d)
		pkt, err := Decompress(nil, in, src, dst, areaCT)
		if err != nil {
			return
		}
		if _, _, err := ipv6.Packet(pkt); err != nil {
			if Classify(in) == KindIPv6 {
				return // uncompressed dispatch carries whatever it carries
			}
			t.Fatalf("decompressed an invalid IPv6 packet: %v", err)
		}
		enc, err := AppendPacket(nil, pkt, src, dst, areaCT)
		if err != nil {
			t.Fatalf("re-compress: %v", err)
		}
		again, err := Decompress(nil, enc, src, dst, areaCT)
		if err != nil || !bytes.Equal(again, pkt) {
			t.Fatalf("round trip: %v\n%x\n%x", err, again, pkt)
		}
	})
}

// FuzzReassembler feeds a sequence of frames (each prefixed by its length)
// and checks the bounds hold and completed packets are well-formed.
func FuzzReassembler(f *testing.F) {
	pkt := bigPacket(f, 200)
	var seq []byte
	NewFragmenter(areaCT, 5).Fragment(pkt, nodeA, nodeB, 60, func(b []byte) error {
		seq = append(seq, byte(len(b)))
		seq = append(seq, b...)
		return nil
	})
	f.Add(seq)
	for _, s := range seedPayloads(f) {
		f.Add(append([]byte{byte(len(s))}, s...))
	}
	f.Fuzz(func(t *testing.T, seq []byte) {
		r := NewReassembler(ReassemblerConfig{Contexts: areaCT, MaxDatagrams: 3, MaxSize: 600})
		for len(seq) > 0 {
			n := min(int(seq[0]), len(seq)-1)
			fr := seq[1 : 1+n]
			seq = seq[1+n:]
			p, err := r.Input(fr, nodeA, nodeB)
			if err == nil && p != nil {
				if len(p) > 600 {
					t.Fatalf("packet of %d octets above MaxSize", len(p))
				}
				if Classify(fr) != KindIPv6 {
					if _, _, err := ipv6.Packet(p); err != nil {
						t.Fatalf("reassembled invalid packet: %v", err)
					}
				}
			}
			if r.Pending() > 3 {
				t.Fatalf("%d datagrams pending", r.Pending())
			}
		}
	})
}

func FuzzFragHeader(f *testing.F) {
	f.Add(unhex(f, "c0940001"))
	f.Add(unhex(f, "e09400010c"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := DecodeFragHeader(b)
		if err != nil {
			return
		}
		enc, err := h.AppendBinary(nil)
		if err != nil || !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoded %x from %x: %v", enc, b[:n], err)
		}
	})
}
