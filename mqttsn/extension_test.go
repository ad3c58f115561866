package mqttsn

import (
	"bytes"
	"errors"
	"testing"
)

// testExt is an extension message used only by this test: type 0xFD, body
// Nonce(2) Payload(0:n).
type testExt struct {
	Nonce   uint16
	Payload []byte
}

const typeTestExt MsgType = 0xFD

func init() {
	RegisterExtension(typeTestExt, "TEST-EXT", func() Decoder { return new(testExt) })
}

func (m *testExt) Type() MsgType { return typeTestExt }
func (m *testExt) Len() int      { return MessageLen(2 + len(m.Payload)) }
func (m *testExt) AppendBinary(b []byte) ([]byte, error) {
	b2, err := AppendHeader(b, typeTestExt, 2+len(m.Payload))
	if err != nil {
		return b, err
	}
	return append(append16(b2, m.Nonce), m.Payload...), nil
}
func (m *testExt) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, typeTestExt)
	if err != nil {
		return 0, err
	}
	if len(body) < 2 {
		return 0, &ParseError{Type: typeTestExt, Field: "Nonce", Err: ErrTruncated}
	}
	m.Nonce, m.Payload = be16(body), body[2:]
	return n, nil
}

func TestExtensionDispatch(t *testing.T) {
	b := []byte{0x05, 0xFD, 0x12, 0x34, 0xAA}
	m, n, err := Decode(b)
	if err != nil || n != 5 {
		t.Fatalf("Decode = %v, %d, %v", m, n, err)
	}
	e, ok := m.(*testExt)
	if !ok || e.Nonce != 0x1234 || !bytes.Equal(e.Payload, []byte{0xAA}) {
		t.Fatalf("got %#v", m)
	}
	if typeTestExt.String() != "TEST-EXT" || !typeTestExt.IsExtension() {
		t.Fatal("name not registered")
	}
	_, _, err = Decode([]byte{0x03, 0xFD, 0x12})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Type != typeTestExt || pe.Field != "Nonce" {
		t.Fatalf("short extension: %v", err)
	}
	// Inside an Encapsulated message too.
	enc, err := Marshal(&Encapsulated{NodeID: []byte{9}, Msg: e})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeDatagram(enc)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := got.(*Encapsulated).Msg.(*testExt); !ok {
		t.Fatalf("inner is %T", got.(*Encapsulated).Msg)
	}
}

func TestUnknownKeepsBody(t *testing.T) {
	for _, typ := range []MsgType{0x03, 0x11, 0x19, 0x1E, 0xC5, 0xFF} {
		b := []byte{0x04, byte(typ), 0xDE, 0xAD}
		m, _, err := Decode(b)
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		u, ok := m.(*Unknown)
		if !ok || u.MsgType != typ || !bytes.Equal(u.Body, []byte{0xDE, 0xAD}) {
			t.Fatalf("%v: got %#v", typ, m)
		}
		if out, _ := Marshal(u); !bytes.Equal(out, b) {
			t.Fatalf("%v: re-encoded % x", typ, out)
		}
	}
	if got := MsgType(0xC5).String(); got != "reserved(0xC5)" {
		t.Fatalf("String() = %q", got)
	}
}

func TestRegisterExtensionPanics(t *testing.T) {
	for _, c := range []struct {
		name string
		t    MsgType
	}{{"v1.2 type", TypePublish}, {"encapsulated", TypeEncapsulated}, {"twice", typeTestExt}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", c.name)
				}
			}()
			RegisterExtension(c.t, "X", func() Decoder { return new(Unknown) })
		}()
	}
}

func TestIsReserved(t *testing.T) {
	n := 0
	for i := 0; i < 256; i++ {
		if MsgType(i).IsReserved() {
			n++
		}
	}
	// 0x03, 0x11, 0x19, 0x1E..0xFD (224 values), 0xFF
	if n != 228 {
		t.Fatalf("%d reserved types, want 228", n)
	}
}
