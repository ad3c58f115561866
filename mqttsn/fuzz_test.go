package mqttsn

import (
	"bytes"
	"testing"
)

// FuzzDecode: decoding arbitrary bytes never panics, never consumes more than
// it was given, and decode → encode → decode is stable: the re-encoding decodes
// to a message that encodes to the same octets.
func FuzzDecode(f *testing.F) {
	for _, g := range allGoldens() {
		f.Add(g.b)
	}
	for _, c := range malformed {
		f.Add(c.b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, n, err := Decode(b)
		if err != nil {
			if m != nil {
				t.Fatal("message returned with error")
			}
			return
		}
		if n < 2 || n > len(b) {
			t.Fatalf("consumed %d of %d", n, len(b))
		}
		enc, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatalf("decoded %#v but cannot encode it: %v", m, err)
		}
		if len(enc) != m.Len() {
			t.Fatalf("Len() = %d, encoded %d", m.Len(), len(enc))
		}
		m2, n2, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode of % x: %v", enc, err)
		}
		if n2 != len(enc) {
			t.Fatalf("re-decode consumed %d of %d", n2, len(enc))
		}
		enc2, err := m2.AppendBinary(nil)
		if err != nil || !bytes.Equal(enc, enc2) {
			t.Fatalf("unstable: % x then % x (%v)", enc, enc2, err)
		}
		// Same octets as the input unless the input used the 3-octet
		// Length form for a short message (allowed, re-encoded short).
		if len(enc) == n && !bytes.Equal(enc, b[:n]) {
			t.Fatalf("re-encoding differs: % x vs % x", enc, b[:n])
		}
	})
}

// FuzzPublish exercises the zero-allocation PUBLISH path with its own decoder.
func FuzzPublish(f *testing.F) {
	for _, g := range allGoldens() {
		if g.msg.Type() == TypePublish {
			f.Add(g.b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var p Publish
		n, err := p.Decode(b)
		if err != nil {
			return
		}
		enc, err := p.AppendBinary(nil)
		if err != nil {
			t.Fatalf("cannot re-encode %#v: %v", p, err)
		}
		var q Publish
		if _, err := q.Decode(enc); err != nil || q.QoS != p.QoS || q.TopicIDType != p.TopicIDType ||
			q.TopicID != p.TopicID || q.MsgID != p.MsgID || q.DUP != p.DUP || q.Retain != p.Retain ||
			!bytes.Equal(q.Data, p.Data) {
			t.Fatalf("unstable: %#v vs %#v (%v)", p, q, err)
		}
		_ = n
	})
}
