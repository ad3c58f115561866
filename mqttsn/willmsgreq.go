package mqttsn

// WillMsgReq is sent by the gateway to ask for the will message (MQTT-SN v1.2 §5.4.8, Table 11).
//
//	Length(1) MsgType(1)
type WillMsgReq struct{}

func (m *WillMsgReq) Type() MsgType { return TypeWillMsgReq }
func (m *WillMsgReq) Len() int      { return 2 }

func (m *WillMsgReq) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 2, byte(TypeWillMsgReq)), nil
}

func (m *WillMsgReq) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeWillMsgReq)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeWillMsgReq, body, 0); err != nil {
		return 0, err
	}
	return n, nil
}
