package mqttsn

// Suback answers SUBSCRIBE (MQTT-SN v1.2 §5.4.16, Table 20).
//
//	Length(1) MsgType(1) Flags(1) TopicId(2) MsgId(2) ReturnCode(1)
//
// Only the QoS flag (the granted QoS, 0..2) is used.
type Suback struct {
	QoS        QoS
	TopicID    uint16 // 0x0000 for wildcard and short-name subscriptions (§6.9)
	MsgID      uint16
	ReturnCode ReturnCode
}

func (m *Suback) Type() MsgType { return TypeSuback }
func (m *Suback) Len() int      { return 8 }

func (m *Suback) AppendBinary(b []byte) ([]byte, error) {
	if err := checkQoS(TypeSuback, m.QoS, false); err != nil {
		return b, err
	}
	if err := checkReturnCode(TypeSuback, m.ReturnCode); err != nil {
		return b, err
	}
	return append(b, 8, byte(TypeSuback), qosBits(m.QoS), byte(m.TopicID>>8), byte(m.TopicID),
		byte(m.MsgID>>8), byte(m.MsgID), byte(m.ReturnCode)), nil
}

func (m *Suback) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeSuback)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeSuback, body, 6); err != nil {
		return 0, err
	}
	if err := checkFlags(TypeSuback, body[0], flagQoSMask); err != nil {
		return 0, err
	}
	q := Flags(body[0]).QoS()
	if err := checkQoS(TypeSuback, q, false); err != nil {
		return 0, err
	}
	rc := ReturnCode(body[5])
	if err := checkReturnCode(TypeSuback, rc); err != nil {
		return 0, err
	}
	m.QoS, m.TopicID, m.MsgID, m.ReturnCode = q, be16(body[1:]), be16(body[3:]), rc
	return n, nil
}
