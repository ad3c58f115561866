package mqttsn

// WillMsgUpd updates the will message stored at the gateway (MQTT-SN v1.2 §5.4.23, Table 26).
//
//	Length(1) MsgType(1) WillMsg(0:n)
type WillMsgUpd struct {
	Msg []byte // may be empty; aliases the decoded buffer
}

func (m *WillMsgUpd) Type() MsgType { return TypeWillMsgUpd }
func (m *WillMsgUpd) Len() int      { return MessageLen(len(m.Msg)) }

func (m *WillMsgUpd) AppendBinary(b []byte) ([]byte, error) {
	b2, err := AppendHeader(b, TypeWillMsgUpd, len(m.Msg))
	if err != nil {
		return b, err
	}
	return append(b2, m.Msg...), nil
}

func (m *WillMsgUpd) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeWillMsgUpd)
	if err != nil {
		return 0, err
	}
	m.Msg = body
	return n, nil
}
