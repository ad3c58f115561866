package mqttsn

import (
	"testing"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// Decoding a PUBLISH and the header allocates nothing; neither does encoding
// any message into a reused buffer, nor any typed decode (all alias).
func TestZeroAllocs(t *testing.T) {
	pub := goldenByName(t, "PUBLISH QoS 1 normal").b
	var p Publish
	t.Run("ReadHeader", func(t *testing.T) {
		testutil.AssertAllocs(t, 0, func() {
			if _, err := ReadHeader(pub); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("PublishDecode", func(t *testing.T) {
		testutil.AssertAllocs(t, 0, func() {
			if _, err := p.Decode(pub); err != nil {
				t.Fatal(err)
			}
		})
	})
	buf := make([]byte, 0, 512)
	for _, g := range allGoldens() {
		m := g.msg
		t.Run("Encode "+g.name, func(t *testing.T) {
			testutil.AssertAllocs(t, 0, func() {
				var err error
				if buf, err = m.AppendBinary(buf[:0]); err != nil {
					t.Fatal(err)
				}
			})
		})
		if m.Type() == TypeEncapsulated {
			continue // Decode allocates the wrapped message; DecodeHeader is tested below
		}
		d := New(m.Type())
		b := g.b
		t.Run("TypedDecode "+g.name, func(t *testing.T) {
			testutil.AssertAllocs(t, 0, func() {
				if _, err := d.Decode(b); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
	t.Run("EncapsulatedDecodeHeader", func(t *testing.T) {
		var e Encapsulated
		var inner Pingreq
		b := goldenByName(t, "Encapsulated PINGREQ").b
		testutil.AssertAllocs(t, 0, func() {
			off, err := e.DecodeHeader(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := inner.Decode(b[off:]); err != nil {
				t.Fatal(err)
			}
		})
	})
}

func goldenByName(t testing.TB, name string) golden {
	t.Helper()
	for _, g := range allGoldens() {
		if g.name == name {
			return g
		}
	}
	t.Fatalf("no golden %q", name)
	return golden{}
}
