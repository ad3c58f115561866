package mqttsn

// Subscribe subscribes to a topic name, pre-defined topic id or short topic name (MQTT-SN v1.2 §5.4.15, Table 19).
//
//	Length(1) MsgType(1) Flags(1) MsgId(2) TopicName(1:n)   -- TopicIdType normal (0b00)
//	Length(1) MsgType(1) Flags(1) MsgId(2) TopicId(2)       -- pre-defined (0b01) or short (0b10)
//
// Flags: DUP, QoS (0..2) and TopicIdType; any other bit set is ErrReservedFlags. With TopicIDNormal
// the message carries TopicName (non-empty UTF-8, wildcards allowed) and
// TopicID is ignored; otherwise it carries TopicID in exactly two octets and
// TopicName must be empty (ErrTopic on violation).
type Subscribe struct {
	DUP         bool
	QoS         QoS
	TopicIDType TopicIDType
	MsgID       uint16
	TopicName   []byte // TopicIDNormal only; aliases the decoded buffer
	TopicID     uint16 // TopicIDPredefined or TopicIDShort only
}

func (m *Subscribe) Type() MsgType { return TypeSubscribe }

func (m *Subscribe) Len() int {
	if m.TopicIDType == TopicIDNormal {
		return MessageLen(3 + len(m.TopicName))
	}
	return 7
}

func (m *Subscribe) AppendBinary(b []byte) ([]byte, error) {
	if err := checkQoS(TypeSubscribe, m.QoS, false); err != nil {
		return b, err
	}
	if err := checkTopicIDType(TypeSubscribe, m.TopicIDType); err != nil {
		return b, err
	}
	f := boolBit(m.DUP, FlagDUP) | qosBits(m.QoS) | byte(m.TopicIDType)
	if m.TopicIDType != TopicIDNormal {
		if len(m.TopicName) != 0 {
			return b, perr(TypeSubscribe, "TopicName", ErrTopic)
		}
		return append(b, 7, byte(TypeSubscribe), f, byte(m.MsgID>>8), byte(m.MsgID), byte(m.TopicID>>8), byte(m.TopicID)), nil
	}
	if err := checkTopicName(TypeSubscribe, "TopicName", m.TopicName); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeSubscribe, 3+len(m.TopicName))
	if err != nil {
		return b, err
	}
	b2 = append(b2, f, byte(m.MsgID>>8), byte(m.MsgID))
	return append(b2, m.TopicName...), nil
}

func (m *Subscribe) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeSubscribe)
	if err != nil {
		return 0, err
	}
	if len(body) < 3 {
		return 0, perr(TypeSubscribe, "MsgId", ErrTruncated)
	}
	if err := checkFlags(TypeSubscribe, body[0], FlagDUP|flagQoSMask|flagTopicIDTypeMask); err != nil {
		return 0, err
	}
	f := Flags(body[0])
	if err := checkQoS(TypeSubscribe, f.QoS(), false); err != nil {
		return 0, err
	}
	rest := body[3:]
	var name []byte
	var id uint16
	if f.TopicIDType() == TopicIDNormal {
		if err := checkTopicName(TypeSubscribe, "TopicName", rest); err != nil {
			return 0, err
		}
		name = rest
	} else {
		if len(rest) != 2 {
			return 0, perr(TypeSubscribe, "TopicId", ErrTopic)
		}
		id = be16(rest)
	}
	m.DUP, m.QoS = f.DUP(), f.QoS()
	m.TopicIDType, m.MsgID, m.TopicName, m.TopicID = f.TopicIDType(), be16(body[1:]), name, id
	return n, nil
}
