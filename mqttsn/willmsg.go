package mqttsn

// WillMsg carries the will message, answering WILLMSGREQ (MQTT-SN v1.2 §5.4.9, Table 13).
//
//	Length(1) MsgType(1) WillMsg(0:n)
type WillMsg struct {
	Msg []byte // may be empty; aliases the decoded buffer
}

func (m *WillMsg) Type() MsgType { return TypeWillMsg }
func (m *WillMsg) Len() int      { return MessageLen(len(m.Msg)) }

func (m *WillMsg) AppendBinary(b []byte) ([]byte, error) {
	b2, err := AppendHeader(b, TypeWillMsg, len(m.Msg))
	if err != nil {
		return b, err
	}
	return append(b2, m.Msg...), nil
}

func (m *WillMsg) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeWillMsg)
	if err != nil {
		return 0, err
	}
	m.Msg = body
	return n, nil
}
