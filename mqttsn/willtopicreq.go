package mqttsn

// WillTopicReq is sent by the gateway to ask for the will topic (MQTT-SN v1.2 §5.4.6, Table 11).
//
//	Length(1) MsgType(1)
type WillTopicReq struct{}

func (m *WillTopicReq) Type() MsgType { return TypeWillTopicReq }
func (m *WillTopicReq) Len() int      { return 2 }

func (m *WillTopicReq) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 2, byte(TypeWillTopicReq)), nil
}

func (m *WillTopicReq) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeWillTopicReq)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeWillTopicReq, body, 0); err != nil {
		return 0, err
	}
	return n, nil
}
