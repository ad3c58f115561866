package rplmsg

import (
	"encoding/binary"
	"net/netip"

	"github.com/lsmqtt/lsmqtt/rpl/ipv6"
)

// ICMPv6 type of RPL control messages (RFC 6550 §6).
const TypeRPL uint8 = 155

// RPL control message codes (RFC 6550 §6).
const (
	CodeDIS    uint8 = 0x00
	CodeDIO    uint8 = 0x01
	CodeDAO    uint8 = 0x02
	CodeDAOACK uint8 = 0x03
)

// ICMPHeaderLen is the ICMPv6 type, code and checksum (RFC 4443 §2.1).
const ICMPHeaderLen = 4

// Message is an RPL control message. AppendBinary appends the whole ICMPv6
// message (type 155, code, a zero checksum, base object, options); Len is
// its length. Use SetChecksum or AppendICMP to fill in the checksum.
type Message interface {
	Code() uint8
	Len() int
	AppendBinary(b []byte) ([]byte, error)
}

// AppendICMP appends m as an ICMPv6 message with its checksum computed over
// the pseudo-header of src and dst (RFC 4443 §2.3).
func AppendICMP(b []byte, src, dst netip.Addr, m Message) ([]byte, error) {
	start := len(b)
	b, err := m.AppendBinary(b)
	if err != nil {
		return b[:start], err
	}
	SetChecksum(b[start:], src, dst)
	return b, nil
}

// SetChecksum computes and stores the ICMPv6 checksum of msg, a complete
// ICMPv6 message, for the given IPv6 source and destination.
func SetChecksum(msg []byte, src, dst netip.Addr) {
	if len(msg) < ICMPHeaderLen {
		return
	}
	msg[2], msg[3] = 0, 0
	binary.BigEndian.PutUint16(msg[2:], ipv6.UpperLayerChecksum(src, dst, ipv6.ProtoICMPv6, msg))
}

// VerifyChecksum reports whether the checksum of the ICMPv6 message msg is
// correct for src and dst.
func VerifyChecksum(msg []byte, src, dst netip.Addr) bool {
	return len(msg) >= ICMPHeaderLen && ipv6.VerifyChecksum(src, dst, ipv6.ProtoICMPv6, msg)
}

// Decode decodes an RPL control message from a complete ICMPv6 message
// (all of b; the IPv6 payload length delimits it). It does not verify the
// checksum: use DecodeVerified or VerifyChecksum. It returns the message
// and len(b). Unknown codes decode to *Unknown.
func Decode(b []byte) (Message, int, error) {
	if len(b) < ICMPHeaderLen {
		return nil, 0, perr("ICMPv6", "header", ErrTruncated)
	}
	if b[0] != TypeRPL {
		return nil, 0, perr("ICMPv6", "type", ErrType)
	}
	body := b[ICMPHeaderLen:]
	var m Message
	var err error
	switch b[1] {
	case CodeDIS:
		m, err = decodeDIS(body)
	case CodeDIO:
		m, err = decodeDIO(body)
	case CodeDAO:
		m, err = decodeDAO(body)
	case CodeDAOACK:
		m, err = decodeDAOACK(body)
	default:
		m = &Unknown{MsgCode: b[1], Body: body}
	}
	if err != nil {
		return nil, 0, err
	}
	return m, len(b), nil
}

// DecodeVerified checks the checksum for src and dst, then decodes.
func DecodeVerified(b []byte, src, dst netip.Addr) (Message, int, error) {
	if len(b) >= ICMPHeaderLen && b[0] == TypeRPL && !VerifyChecksum(b, src, dst) {
		return nil, 0, perr("ICMPv6", "checksum", ErrChecksum)
	}
	return Decode(b)
}

func appendICMPHeader(b []byte, code uint8) []byte { return append(b, TypeRPL, code, 0, 0) }

// Unknown is an RPL control message with a code this package does not
// interpret (secure variants, Consistency Check); Body aliases the input.
type Unknown struct {
	MsgCode uint8
	Body    []byte
}

func (u *Unknown) Code() uint8 { return u.MsgCode }
func (u *Unknown) Len() int    { return ICMPHeaderLen + len(u.Body) }

// AppendBinary appends the message as received.
func (u *Unknown) AppendBinary(b []byte) ([]byte, error) {
	return append(appendICMPHeader(b, u.MsgCode), u.Body...), nil
}
