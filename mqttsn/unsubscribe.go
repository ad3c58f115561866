package mqttsn

// Unsubscribe ends a subscription (MQTT-SN v1.2 §5.4.17, Table 19).
//
//	Length(1) MsgType(1) Flags(1) MsgId(2) TopicName(1:n)   -- TopicIdType normal (0b00)
//	Length(1) MsgType(1) Flags(1) MsgId(2) TopicId(2)       -- pre-defined (0b01) or short (0b10)
//
// Flags: only TopicIdType; any other bit set is ErrReservedFlags. With TopicIDNormal
// the message carries TopicName (non-empty UTF-8, wildcards allowed) and
// TopicID is ignored; otherwise it carries TopicID in exactly two octets and
// TopicName must be empty (ErrTopic on violation).
type Unsubscribe struct {
	TopicIDType TopicIDType
	MsgID       uint16
	TopicName   []byte // TopicIDNormal only; aliases the decoded buffer
	TopicID     uint16 // TopicIDPredefined or TopicIDShort only
}

func (m *Unsubscribe) Type() MsgType { return TypeUnsubscribe }

func (m *Unsubscribe) Len() int {
	if m.TopicIDType == TopicIDNormal {
		return MessageLen(3 + len(m.TopicName))
	}
	return 7
}

func (m *Unsubscribe) AppendBinary(b []byte) ([]byte, error) {
	if err := checkTopicIDType(TypeUnsubscribe, m.TopicIDType); err != nil {
		return b, err
	}
	f := byte(m.TopicIDType)
	if m.TopicIDType != TopicIDNormal {
		if len(m.TopicName) != 0 {
			return b, perr(TypeUnsubscribe, "TopicName", ErrTopic)
		}
		return append(b, 7, byte(TypeUnsubscribe), f, byte(m.MsgID>>8), byte(m.MsgID), byte(m.TopicID>>8), byte(m.TopicID)), nil
	}
	if err := checkTopicName(TypeUnsubscribe, "TopicName", m.TopicName); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeUnsubscribe, 3+len(m.TopicName))
	if err != nil {
		return b, err
	}
	b2 = append(b2, f, byte(m.MsgID>>8), byte(m.MsgID))
	return append(b2, m.TopicName...), nil
}

func (m *Unsubscribe) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeUnsubscribe)
	if err != nil {
		return 0, err
	}
	if len(body) < 3 {
		return 0, perr(TypeUnsubscribe, "MsgId", ErrTruncated)
	}
	if err := checkFlags(TypeUnsubscribe, body[0], flagTopicIDTypeMask); err != nil {
		return 0, err
	}
	f := Flags(body[0])
	rest := body[3:]
	var name []byte
	var id uint16
	if f.TopicIDType() == TopicIDNormal {
		if err := checkTopicName(TypeUnsubscribe, "TopicName", rest); err != nil {
			return 0, err
		}
		name = rest
	} else {
		if len(rest) != 2 {
			return 0, perr(TypeUnsubscribe, "TopicId", ErrTopic)
		}
		id = be16(rest)
	}
	m.TopicIDType, m.MsgID, m.TopicName, m.TopicID = f.TopicIDType(), be16(body[1:]), name, id
	return n, nil
}
