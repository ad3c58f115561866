package rplmsg

import (
	"bytes"
	"reflect"
	"testing"
)

func vectorSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		unhex(f, "9b00 0000 0000"),
		unhex(f, "9b010000 00 f0 0080 08 f0 0000 fd000000000000000201000100010001 040e00080c0004000080000100 1e003c 081e4040ffffffffffffffff00000000fd000000000000000000000000000000"),
		unhex(f, "9b020000 00 80 00 f1 05120080fd000000000000000202000200020002 06140000001efd000000000000000201000100010001"),
		unhex(f, "9b030000 1e 80 f0 00 fe800000000000000200000000000001"),
		unhex(f, "9b01d45e1edc02ba957f0000 0001000000000000e6956efffeaffffd 081e40400000000000000000000000000001000000000000000000000000000003168010ffffffff0001000000000000e6956efffea4054f"),
	}
	for _, m := range sampleMessages() {
		b, _ := m.AppendBinary(nil)
		seeds = append(seeds, b)
	}
	return seeds
}

// FuzzDecode: RPL messages decode cleanly or fail, and decoded messages
// re-encode to messages that decode identically.
func FuzzDecode(f *testing.F) {
	for _, s := range vectorSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := Decode(b)
		if err != nil {
			return
		}
		if n != len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		enc, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if len(enc) != m.Len() {
			t.Fatalf("Len %d, appended %d", m.Len(), len(enc))
		}
		m2, _, err := Decode(enc)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("round trip: %v\n%#v\n%#v", err, m, m2)
		}
	})
}

// FuzzSourceRoute checks the SRH decoder, re-encoding and the in-place
// address swap on arbitrary headers.
func FuzzSourceRoute(f *testing.F) {
	f.Add(unhex(f, "11 03 03 03 99 30 0000 05000500050005 06000600060006 02000200020002 000000"), unhex(f, "fd000000000000000204000400040004"))
	f.Add(unhex(f, "3a 01 03 01 88 00 0000 0000000000000001"), unhex(f, "fe800000000000000000000000000002"))
	f.Fuzz(func(t *testing.T, b, dst []byte) {
		if len(dst) != 16 {
			return
		}
		d := [16]byte(dst)
		ref := [16]byte(dst)
		s, n, err := DecodeSourceRoute(b, addrFrom(ref))
		if err != nil {
			if _, err2 := AdvanceSRH(bytes.Clone(b), &d); err2 == nil {
				t.Fatal("AdvanceSRH accepted a header DecodeSourceRoute rejects")
			}
			return
		}
		enc, err := s.AppendBinary(nil)
		if err != nil || len(enc) != n || enc[2] != RoutingTypeSRH {
			t.Fatalf("re-encode: %d vs %d: %v", len(enc), n, err)
		}
		s2, _, err := DecodeSourceRoute(enc, addrFrom(ref))
		if err != nil || !reflect.DeepEqual(s, s2) {
			t.Fatalf("round trip: %v", err)
		}
		hdr := bytes.Clone(b)
		if _, err := AdvanceSRH(hdr, &d); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzHopByHop checks the RPL option search on arbitrary headers.
func FuzzHopByHop(f *testing.F) {
	f.Add(unhex(f, "3a00 6304001e0300"))
	f.Add(unhex(f, "1101 00 0101 00 2304 00010002 01000000"))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, off, ok, err := FindRPLOption(b)
		if err != nil || !ok {
			return
		}
		enc, _ := o.AppendBinary(nil)
		got, _, err := DecodeRPLOption(enc)
		if err != nil || got != o || off+6 > len(b) {
			t.Fatalf("round trip %+v %+v %v", o, got, err)
		}
	})
}
