package ieee802154

import (
	"bytes"
	"testing"
)

// FuzzDecode checks that Decode and DecodeNoFCS never panic, and that a
// decoded frame re-encodes to a frame that decodes identically.
func FuzzDecode(f *testing.F) {
	for _, v := range []string{vector07, vector08a, vector10} {
		f.Add(unhex(f, v))
	}
	for _, fr := range sampleFrames() {
		enc, _ := fr.AppendBinary(nil)
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		PeekDst(b)
		for _, dec := range []func([]byte) (Frame, int, error){Decode, DecodeNoFCS} {
			fr, n, err := dec(b)
			if err != nil {
				continue
			}
			if n != len(b) {
				t.Fatalf("consumed %d of %d", n, len(b))
			}
			enc, err := fr.AppendBinary(nil)
			if err != nil {
				if len(b) <= MaxPSDU-FCSLen {
					t.Fatalf("re-encode failed: %v", err)
				}
				continue
			}
			if len(enc) != fr.Len() {
				t.Fatalf("Len %d, appended %d", fr.Len(), len(enc))
			}
			g, _, err := Decode(enc)
			if err != nil {
				t.Fatalf("decode of re-encoded: %v", err)
			}
			if !bytes.Equal(g.Payload, fr.Payload) {
				t.Fatal("payload changed")
			}
			if header(g) != header(fr) {
				t.Fatalf("round trip\n%+v\n%+v", g, fr)
			}
		}
	})
}
