package mqttsn

import "errors"

// Sentinel errors carried in ParseError.Err. Their texts are short and stable
// so that callers can use them as metric labels ("drops by reason").
var (
	// ErrTruncated: the input ends before the message or one of its fields does.
	ErrTruncated = errors.New("truncated")
	// ErrLength: the Length field is impossible, or disagrees with the fixed
	// layout of the message (e.g. a CONNACK that is not 3 octets long).
	ErrLength = errors.New("bad length")
	// ErrTrailing: a datagram holds octets after its message (DecodeDatagram).
	ErrTrailing = errors.New("trailing octets")
	// ErrType: a typed decoder was given another message type.
	ErrType = errors.New("wrong message type")
	// ErrReservedFlags: a flag or control bit the message does not use is set.
	ErrReservedFlags = errors.New("reserved flag bits set")
	// ErrQoS: QoS -1 outside PUBLISH, or a QoS value outside -1..2.
	ErrQoS = errors.New("invalid QoS")
	// ErrTopicIDType: TopicIdType 0b11 (reserved), or a type the message
	// forbids (QoS -1 with a normal topic id, §6.8).
	ErrTopicIDType = errors.New("invalid topic id type")
	// ErrTopic: a topic name where a 2-octet topic id is required or the
	// reverse, an empty topic name, or a topic name that is not UTF-8 or holds U+0000.
	ErrTopic = errors.New("invalid topic")
	// ErrClientID: a client id outside 1–23 octets (§5.3.1).
	ErrClientID = errors.New("client id not 1-23 octets")
	// ErrProtocolID: a CONNECT ProtocolId other than 0x01 (§5.3.8).
	ErrProtocolID = errors.New("unsupported protocol id")
	// ErrReturnCode: a reserved return code 0x04–0xFF (§5.3.10).
	ErrReturnCode = errors.New("reserved return code")
	// ErrTooLong: a message that cannot be encoded (longer than 65535 octets,
	// or an encapsulation header longer than 255).
	ErrTooLong = errors.New("message too long")
	// ErrNested: an Encapsulated message inside an Encapsulated message, or none.
	ErrNested = errors.New("bad encapsulated message")
)

// ParseError reports a message that cannot be decoded (or encoded: AppendBinary
// applies the same rules and reports violations the same way). Type is the
// message type being decoded; Field is the spec's name of the offending field
// ("Length", "Flags", "ClientId", ...); Err is one of the sentinel errors
// above or, for Encapsulated, the inner message's *ParseError.
type ParseError struct {
	Type  MsgType
	Field string
	Err   error
}

func (e *ParseError) Error() string {
	return "mqttsn: " + e.Type.String() + " " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns Err, so errors.Is(err, ErrTruncated) works.
func (e *ParseError) Unwrap() error { return e.Err }

func perr(t MsgType, field string, err error) error {
	return &ParseError{Type: t, Field: field, Err: err}
}
