package mqttsn

// Puback answers a QoS 1 PUBLISH, or rejects any PUBLISH (MQTT-SN v1.2 §5.4.13, Table 17).
//
//	Length(1) MsgType(1) TopicId(2) MsgId(2) ReturnCode(1)
type Puback struct {
	TopicID    uint16
	MsgID      uint16
	ReturnCode ReturnCode
}

func (m *Puback) Type() MsgType { return TypePuback }
func (m *Puback) Len() int      { return 7 }

func (m *Puback) AppendBinary(b []byte) ([]byte, error) {
	if err := checkReturnCode(TypePuback, m.ReturnCode); err != nil {
		return b, err
	}
	return append(b, 7, byte(TypePuback), byte(m.TopicID>>8), byte(m.TopicID),
		byte(m.MsgID>>8), byte(m.MsgID), byte(m.ReturnCode)), nil
}

func (m *Puback) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypePuback)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypePuback, body, 5); err != nil {
		return 0, err
	}
	rc := ReturnCode(body[4])
	if err := checkReturnCode(TypePuback, rc); err != nil {
		return 0, err
	}
	m.TopicID, m.MsgID, m.ReturnCode = be16(body), be16(body[2:]), rc
	return n, nil
}
