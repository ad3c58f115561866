package mqttsn

// Publish carries application data (MQTT-SN v1.2 §5.4.12, Table 16).
//
//	Length(1) MsgType(1) Flags(1) TopicId(2) MsgId(2) Data(0:n)
//
// Flags: DUP, QoS (-1..2), Retain and TopicIdType are used; Will and
// CleanSession set is ErrReservedFlags, TopicIdType 0b11 is ErrTopicIDType.
// QoS -1 requires a pre-defined topic id or a short topic name (§6.8).
// For a short topic name, TopicID holds its two octets (see ShortTopicID).
// MsgID is "coded 0x0000" for QoS 0 and -1; the codec keeps whatever it finds.
type Publish struct {
	DUP         bool
	QoS         QoS
	Retain      bool
	TopicIDType TopicIDType
	TopicID     uint16
	MsgID       uint16
	Data        []byte // aliases the decoded buffer
}

func (m *Publish) Type() MsgType { return TypePublish }
func (m *Publish) Len() int      { return MessageLen(5 + len(m.Data)) }

func (m *Publish) check(q QoS, tt TopicIDType) error {
	if err := checkQoS(TypePublish, q, true); err != nil {
		return err
	}
	if err := checkTopicIDType(TypePublish, tt); err != nil {
		return err
	}
	if q == QoSMinus1 && tt == TopicIDNormal { // §6.8
		return perr(TypePublish, "Flags", ErrTopicIDType)
	}
	return nil
}

func (m *Publish) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(m.QoS, m.TopicIDType); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypePublish, 5+len(m.Data))
	if err != nil {
		return b, err
	}
	f := boolBit(m.DUP, FlagDUP) | qosBits(m.QoS) | boolBit(m.Retain, FlagRetain) | byte(m.TopicIDType)
	b2 = append(b2, f, byte(m.TopicID>>8), byte(m.TopicID), byte(m.MsgID>>8), byte(m.MsgID))
	return append(b2, m.Data...), nil
}

// Decode decodes a PUBLISH without allocating; Data aliases b.
func (m *Publish) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypePublish)
	if err != nil {
		return 0, err
	}
	if len(body) < 5 {
		return 0, perr(TypePublish, "MsgId", ErrTruncated)
	}
	if err := checkFlags(TypePublish, body[0], FlagDUP|flagQoSMask|FlagRetain|flagTopicIDTypeMask); err != nil {
		return 0, err
	}
	f := Flags(body[0])
	if err := m.check(f.QoS(), f.TopicIDType()); err != nil {
		return 0, err
	}
	m.DUP, m.QoS, m.Retain, m.TopicIDType = f.DUP(), f.QoS(), f.Retain(), f.TopicIDType()
	m.TopicID, m.MsgID, m.Data = be16(body[1:]), be16(body[3:]), body[5:]
	return n, nil
}
