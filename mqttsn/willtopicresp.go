package mqttsn

// WillTopicResp answers WILLTOPICUPD (MQTT-SN v1.2 §5.4.24, Table 27).
//
//	Length(1) MsgType(1) ReturnCode(1)
type WillTopicResp struct {
	ReturnCode ReturnCode
}

func (m *WillTopicResp) Type() MsgType { return TypeWillTopicResp }
func (m *WillTopicResp) Len() int      { return 3 }

func (m *WillTopicResp) AppendBinary(b []byte) ([]byte, error) {
	if err := checkReturnCode(TypeWillTopicResp, m.ReturnCode); err != nil {
		return b, err
	}
	return append(b, 3, byte(TypeWillTopicResp), byte(m.ReturnCode)), nil
}

func (m *WillTopicResp) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeWillTopicResp)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeWillTopicResp, body, 1); err != nil {
		return 0, err
	}
	rc := ReturnCode(body[0])
	if err := checkReturnCode(TypeWillTopicResp, rc); err != nil {
		return 0, err
	}
	m.ReturnCode = rc
	return n, nil
}
