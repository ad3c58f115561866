package mqttsn

// Unknown is a message of a type this package does not interpret: a reserved
// type with no registered extension. It keeps the variable part intact so the
// message can be logged, counted or forwarded unchanged.
type Unknown struct {
	MsgType MsgType
	Body    []byte // the variable part; aliases the decoded buffer
}

func (m *Unknown) Type() MsgType { return m.MsgType }
func (m *Unknown) Len() int      { return MessageLen(len(m.Body)) }

func (m *Unknown) AppendBinary(b []byte) ([]byte, error) {
	b2, err := AppendHeader(b, m.MsgType, len(m.Body))
	if err != nil {
		return b, err
	}
	return append(b2, m.Body...), nil
}

// Decode keeps whatever message is at the start of b raw, of any type.
func (m *Unknown) Decode(b []byte) (int, error) {
	h, err := ReadHeader(b)
	if err != nil {
		return 0, err
	}
	m.MsgType = h.Type
	m.Body = b[h.HeaderLen:h.Length]
	return h.Length, nil
}
