package mqttsn

// Register asks for (client to gateway) or announces (gateway to client) the
// topic id of a topic name (MQTT-SN v1.2 §5.4.10, Table 14).
//
//	Length(1) MsgType(1) TopicId(2) MsgId(2) TopicName(1:n)
//
// A client sends TopicID 0x0000. The topic name must be non-empty UTF-8;
// wildcards are the gateway's business (§6.10), not the codec's.
type Register struct {
	TopicID   uint16
	MsgID     uint16
	TopicName []byte // aliases the decoded buffer
}

func (m *Register) Type() MsgType { return TypeRegister }
func (m *Register) Len() int      { return MessageLen(4 + len(m.TopicName)) }

func (m *Register) AppendBinary(b []byte) ([]byte, error) {
	if err := checkTopicName(TypeRegister, "TopicName", m.TopicName); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeRegister, 4+len(m.TopicName))
	if err != nil {
		return b, err
	}
	b2 = append(b2, byte(m.TopicID>>8), byte(m.TopicID), byte(m.MsgID>>8), byte(m.MsgID))
	return append(b2, m.TopicName...), nil
}

func (m *Register) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeRegister)
	if err != nil {
		return 0, err
	}
	if len(body) < 4 {
		return 0, perr(TypeRegister, "MsgId", ErrTruncated)
	}
	if err := checkTopicName(TypeRegister, "TopicName", body[4:]); err != nil {
		return 0, err
	}
	m.TopicID, m.MsgID, m.TopicName = be16(body), be16(body[2:]), body[4:]
	return n, nil
}
