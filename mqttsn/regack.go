package mqttsn

// Regack answers REGISTER (MQTT-SN v1.2 §5.4.11, Table 15).
//
//	Length(1) MsgType(1) TopicId(2) MsgId(2) ReturnCode(1)
type Regack struct {
	TopicID    uint16
	MsgID      uint16
	ReturnCode ReturnCode
}

func (m *Regack) Type() MsgType { return TypeRegack }
func (m *Regack) Len() int      { return 7 }

func (m *Regack) AppendBinary(b []byte) ([]byte, error) {
	if err := checkReturnCode(TypeRegack, m.ReturnCode); err != nil {
		return b, err
	}
	return append(b, 7, byte(TypeRegack), byte(m.TopicID>>8), byte(m.TopicID),
		byte(m.MsgID>>8), byte(m.MsgID), byte(m.ReturnCode)), nil
}

func (m *Regack) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeRegack)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeRegack, body, 5); err != nil {
		return 0, err
	}
	rc := ReturnCode(body[4])
	if err := checkReturnCode(TypeRegack, rc); err != nil {
		return 0, err
	}
	m.TopicID, m.MsgID, m.ReturnCode = be16(body), be16(body[2:]), rc
	return n, nil
}
