package mqttsn

// Connack answers CONNECT (MQTT-SN v1.2 §5.4.5, Table 10).
//
//	Length(1) MsgType(1) ReturnCode(1)
type Connack struct {
	ReturnCode ReturnCode
}

func (m *Connack) Type() MsgType { return TypeConnack }
func (m *Connack) Len() int      { return 3 }

func (m *Connack) AppendBinary(b []byte) ([]byte, error) {
	if err := checkReturnCode(TypeConnack, m.ReturnCode); err != nil {
		return b, err
	}
	return append(b, 3, byte(TypeConnack), byte(m.ReturnCode)), nil
}

func (m *Connack) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeConnack)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeConnack, body, 1); err != nil {
		return 0, err
	}
	rc := ReturnCode(body[0])
	if err := checkReturnCode(TypeConnack, rc); err != nil {
		return 0, err
	}
	m.ReturnCode = rc
	return n, nil
}
