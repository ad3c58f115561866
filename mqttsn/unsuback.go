package mqttsn

// Unsuback answers UNSUBSCRIBE (MQTT-SN v1.2 §5.4.18, Table 21).
//
//	Length(1) MsgType(1) MsgId(2)
type Unsuback struct {
	MsgID uint16
}

func (m *Unsuback) Type() MsgType { return TypeUnsuback }
func (m *Unsuback) Len() int      { return 4 }

func (m *Unsuback) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 4, byte(TypeUnsuback), byte(m.MsgID>>8), byte(m.MsgID)), nil
}

func (m *Unsuback) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeUnsuback)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeUnsuback, body, 2); err != nil {
		return 0, err
	}
	m.MsgID = be16(body)
	return n, nil
}
