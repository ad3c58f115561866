package mqttsn

import (
	"bytes"
	"unicode/utf8"
)

// Header is the message header (MQTT-SN v1.2 §5.2): the Length and MsgType fields.
type Header struct {
	// Length is the value of the Length field: the total octets of the
	// message, header included (§5.2.1). For an Encapsulated message it
	// counts only the encapsulation header up to the Wireless Node Id (§5.5).
	Length int
	// HeaderLen is 2 (1-octet Length) or 4 (0x01 + 2-octet Length).
	HeaderLen int
	// Type is the MsgType field.
	Type MsgType
}

// MaxLen is the largest message the 3-octet Length form can describe.
const MaxLen = 0xFFFF

// ReadHeader reads the header at the start of b without allocating. It fails
// with ErrTruncated when b is shorter than the header or than Length says,
// and ErrLength when Length is smaller than the header itself. Errors have
// Field "Length"; their Type is the MsgType octet when b reaches it, else 0.
func ReadHeader(b []byte) (Header, error) {
	if len(b) < 2 {
		return Header{}, perr(0, "Length", ErrTruncated)
	}
	var h Header
	if b[0] == 0x01 { // §5.2.1: 3-octet Length
		if len(b) < 4 {
			return Header{}, perr(0, "Length", ErrTruncated)
		}
		h = Header{Length: int(b[1])<<8 | int(b[2]), HeaderLen: 4, Type: MsgType(b[3])}
	} else {
		h = Header{Length: int(b[0]), HeaderLen: 2, Type: MsgType(b[1])}
	}
	if h.Length < h.HeaderLen {
		return Header{}, perr(h.Type, "Length", ErrLength)
	}
	if h.Length > len(b) {
		return Header{}, perr(h.Type, "Length", ErrTruncated)
	}
	return h, nil
}

// MessageLen returns the total length of a message whose variable part is
// bodyLen octets: bodyLen+2 up to 255, bodyLen+4 from there on (§5.2.1).
func MessageLen(bodyLen int) int {
	if bodyLen+2 <= 0xFF {
		return bodyLen + 2
	}
	return bodyLen + 4
}

// AppendHeader appends the Length and MsgType fields of a message of type t
// whose variable part is bodyLen octets, in the shortest form. It fails with
// ErrTooLong beyond MaxLen.
func AppendHeader(b []byte, t MsgType, bodyLen int) ([]byte, error) {
	n := MessageLen(bodyLen)
	if bodyLen < 0 || n > MaxLen {
		return b, perr(t, "Length", ErrTooLong)
	}
	if n <= 0xFF {
		return append(b, byte(n), byte(t)), nil
	}
	return append(b, 0x01, byte(n>>8), byte(n), byte(t)), nil
}

// ReadBody reads the header at the start of b, checks that it is of type t,
// and returns the variable part (aliasing b) and the message's total length.
// Extension messages build their Decode on it.
func ReadBody(b []byte, t MsgType) (body []byte, n int, err error) {
	h, err := ReadHeader(b)
	if err != nil {
		if pe, ok := err.(*ParseError); ok && pe.Type != t {
			pe.Type = t
		}
		return nil, 0, err
	}
	if h.Type != t {
		return nil, 0, perr(t, "MsgType", ErrType)
	}
	return b[h.HeaderLen:h.Length], h.Length, nil
}

func be16(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

func append16(b []byte, v uint16) []byte { return append(b, byte(v>>8), byte(v)) }

// checkClientID enforces §5.3.1: 1–23 octets.
func checkClientID(t MsgType, id []byte) error {
	if len(id) < 1 || len(id) > 23 {
		return perr(t, "ClientId", ErrClientID)
	}
	return nil
}

// checkTopicName enforces §5.3.12: a non-empty UTF-8 string; like MQTT
// 3.1.1 §1.5.3 it must not contain U+0000.
func checkTopicName(t MsgType, field string, name []byte) error {
	if len(name) == 0 || !utf8.Valid(name) || bytes.IndexByte(name, 0) >= 0 {
		return perr(t, field, ErrTopic)
	}
	return nil
}

func checkReturnCode(t MsgType, rc ReturnCode) error {
	if !rc.Valid() {
		return perr(t, "ReturnCode", ErrReturnCode)
	}
	return nil
}

// checkFlags rejects bits outside allowed and the reserved TopicIdType 0b11.
func checkFlags(t MsgType, f byte, allowed Flags) error {
	if Flags(f)&^allowed != 0 {
		return perr(t, "Flags", ErrReservedFlags)
	}
	if allowed&flagTopicIDTypeMask != 0 && Flags(f).TopicIDType() == 3 {
		return perr(t, "Flags", ErrTopicIDType)
	}
	return nil
}

// checkQoS accepts 0..2, and -1 only when minus1 is set.
func checkQoS(t MsgType, q QoS, minus1 bool) error {
	if q < QoSMinus1 || q > QoS2 || (q == QoSMinus1 && !minus1) {
		return perr(t, "Flags", ErrQoS)
	}
	return nil
}

func checkTopicIDType(t MsgType, tt TopicIDType) error {
	if tt > TopicIDShort {
		return perr(t, "Flags", ErrTopicIDType)
	}
	return nil
}

// fixedLen checks that a message's variable part is exactly want octets.
func fixedLen(t MsgType, body []byte, want int) error {
	if len(body) != want {
		return perr(t, "Length", ErrLength)
	}
	return nil
}
