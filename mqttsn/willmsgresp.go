package mqttsn

// WillMsgResp answers WILLMSGUPD (MQTT-SN v1.2 §5.4.25, Table 27).
//
//	Length(1) MsgType(1) ReturnCode(1)
type WillMsgResp struct {
	ReturnCode ReturnCode
}

func (m *WillMsgResp) Type() MsgType { return TypeWillMsgResp }
func (m *WillMsgResp) Len() int      { return 3 }

func (m *WillMsgResp) AppendBinary(b []byte) ([]byte, error) {
	if err := checkReturnCode(TypeWillMsgResp, m.ReturnCode); err != nil {
		return b, err
	}
	return append(b, 3, byte(TypeWillMsgResp), byte(m.ReturnCode)), nil
}

func (m *WillMsgResp) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeWillMsgResp)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeWillMsgResp, body, 1); err != nil {
		return 0, err
	}
	rc := ReturnCode(body[0])
	if err := checkReturnCode(TypeWillMsgResp, rc); err != nil {
		return 0, err
	}
	m.ReturnCode = rc
	return n, nil
}
