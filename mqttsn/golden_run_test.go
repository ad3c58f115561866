package mqttsn

import (
	"bytes"
	"testing"
)

func TestGoldenDecode(t *testing.T) {
	for _, g := range allGoldens() {
		t.Run(g.name, func(t *testing.T) {
			m, n, err := Decode(g.b)
			if err != nil {
				t.Fatalf("Decode(% x): %v", g.b, err)
			}
			if n != len(g.b) {
				t.Fatalf("consumed %d of %d", n, len(g.b))
			}
			if !equalFields(m, g.msg) {
				t.Fatalf("decoded %#v\nwant %#v", m, g.msg)
			}
		})
	}
}

func TestGoldenEncode(t *testing.T) {
	for _, g := range allGoldens() {
		t.Run(g.name, func(t *testing.T) {
			if g.msg.Len() != len(g.b) {
				t.Fatalf("Len() = %d, want %d", g.msg.Len(), len(g.b))
			}
			b, err := g.msg.AppendBinary(nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, g.b) {
				t.Fatalf("encoded\n % x\nwant\n % x", b, g.b)
			}
		})
	}
}

// TestGoldenTypedDecode decodes each golden with the typed decoder New returns.
func TestGoldenTypedDecode(t *testing.T) {
	for _, g := range allGoldens() {
		m := New(g.msg.Type())
		if n, err := m.Decode(g.b); err != nil || n != len(g.b) {
			t.Errorf("%s: typed Decode = %d, %v", g.name, n, err)
		}
	}
}

// TestEveryPrefixFails: every proper prefix of a valid message fails cleanly.
func TestEveryPrefixFails(t *testing.T) {
	for _, g := range allGoldens() {
		for i := 0; i < len(g.b); i++ {
			p := bytes.Clone(g.b[:i]) // exact capacity: reading past it would panic
			if m, _, err := Decode(p); err == nil {
				t.Errorf("%s: prefix of %d octets decoded as %#v", g.name, i, m)
			}
			if _, err := New(g.msg.Type()).Decode(p); err == nil {
				t.Errorf("%s: typed decode of %d-octet prefix succeeded", g.name, i)
			}
		}
	}
}

// TestWrongTypedDecoder: a typed decoder refuses another type's message.
func TestWrongTypedDecoder(t *testing.T) {
	var p Publish
	if _, err := p.Decode(goldens[0].b); err == nil {
		t.Fatal("Publish decoded an ADVERTISE")
	}
}

// equalFields compares two messages field by field, treating nil and empty
// slices alike (decoders alias, so empty fields are non-nil).
func equalFields(a, b Message) bool {
	if a.Type() != b.Type() {
		return false
	}
	ea, err1 := Marshal(a)
	eb, err2 := Marshal(b)
	if err1 != nil || err2 != nil || !bytes.Equal(ea, eb) {
		return false
	}
	if ia, ok := a.(*Encapsulated); ok {
		ib := b.(*Encapsulated)
		return ia.Radius == ib.Radius && bytes.Equal(ia.NodeID, ib.NodeID) && equalFields(ia.Msg, ib.Msg)
	}
	return sameDynamicType(a, b)
}
