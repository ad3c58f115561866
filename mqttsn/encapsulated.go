package mqttsn

// Encapsulated is a message relayed by a forwarder (MQTT-SN v1.2 §5.5, Tables 28, 29).
//
//	Length(1) MsgType(1)=0xFE Ctrl(1) WirelessNodeId(1:n) MQTT-SN message(...)
//
// Length is always the 1-octet form and counts only the octets up to the end
// of the Wireless Node Id; the wrapped message follows with its own header.
// Ctrl holds the broadcast radius in bits 1,0; bits 7..2 are reserved and
// must be zero. An Encapsulated message never wraps another one.
type Encapsulated struct {
	Radius uint8   // Ctrl bits 1,0 (only relevant from gateway to forwarder)
	NodeID []byte  // Wireless Node Id, 1..252 octets; aliases the decoded buffer
	Msg    Message // the wrapped message; Decode fills it with a typed message
}

func (m *Encapsulated) Type() MsgType { return TypeEncapsulated }

func (m *Encapsulated) Len() int {
	n := 3 + len(m.NodeID)
	if m.Msg != nil {
		n += m.Msg.Len()
	}
	return n
}

func (m *Encapsulated) AppendBinary(b []byte) ([]byte, error) {
	if m.Radius > 3 {
		return b, perr(TypeEncapsulated, "Ctrl", ErrReservedFlags)
	}
	if len(m.NodeID) == 0 {
		return b, perr(TypeEncapsulated, "WirelessNodeId", ErrTruncated)
	}
	if 3+len(m.NodeID) > 0xFF {
		return b, perr(TypeEncapsulated, "WirelessNodeId", ErrTooLong)
	}
	if m.Msg == nil || m.Msg.Type() == TypeEncapsulated {
		return b, perr(TypeEncapsulated, "Message", ErrNested)
	}
	b2 := append(b, byte(3+len(m.NodeID)), byte(TypeEncapsulated), m.Radius)
	b2 = append(b2, m.NodeID...)
	b2, err := m.Msg.AppendBinary(b2)
	if err != nil {
		return b, err
	}
	return b2, nil
}

// DecodeHeader decodes only the encapsulation (Radius, NodeID) without
// allocating and returns the offset of the wrapped message in b. It leaves
// Msg alone, so a caller can decode b[off:] with a typed decoder.
func (m *Encapsulated) DecodeHeader(b []byte) (off int, err error) {
	h, err := ReadHeader(b)
	if err != nil {
		if pe, ok := err.(*ParseError); ok {
			pe.Type = TypeEncapsulated
		}
		return 0, err
	}
	if h.Type != TypeEncapsulated {
		return 0, perr(TypeEncapsulated, "MsgType", ErrType)
	}
	if h.HeaderLen != 2 { // §5.5: Length is 1 octet
		return 0, perr(TypeEncapsulated, "Length", ErrLength)
	}
	if h.Length < 3 {
		return 0, perr(TypeEncapsulated, "Ctrl", ErrTruncated)
	}
	if h.Length < 4 {
		return 0, perr(TypeEncapsulated, "WirelessNodeId", ErrTruncated)
	}
	ctrl := b[2]
	if ctrl&^3 != 0 { // Table 29: bits 7..2 reserved
		return 0, perr(TypeEncapsulated, "Ctrl", ErrReservedFlags)
	}
	m.Radius, m.NodeID = ctrl, b[3:h.Length]
	return h.Length, nil
}

// Decode decodes the encapsulation and the wrapped message (allocating it,
// as the package Decode does). n covers both.
func (m *Encapsulated) Decode(b []byte) (int, error) {
	off, err := m.DecodeHeader(b)
	if err != nil {
		return 0, err
	}
	inner := b[off:]
	if h, err := ReadHeader(inner); err == nil && h.Type == TypeEncapsulated {
		return 0, perr(TypeEncapsulated, "Message", ErrNested)
	}
	msg, n, err := Decode(inner)
	if err != nil {
		return 0, perr(TypeEncapsulated, "Message", err)
	}
	m.Msg = msg
	return off + n, nil
}
