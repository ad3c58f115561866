package mqttsn

// WillTopic carries the will topic, answering WILLTOPICREQ (MQTT-SN v1.2 §5.4.7, Table 12).
//
//	Length(1) MsgType(1) Flags(1) WillTopic(1:n)
//	Length(1) MsgType(1)                          -- empty: delete will topic and message
//
// Only the QoS (0..2) and Retain flags are used. An empty Topic encodes the
// 2-octet empty form, which deletes the will (§6.4); QoS and Retain must then
// be zero.
type WillTopic struct {
	QoS    QoS
	Retain bool
	Topic  []byte // empty means delete; aliases the decoded buffer
}

func (m *WillTopic) Type() MsgType { return TypeWillTopic }

func (m *WillTopic) Len() int {
	if len(m.Topic) == 0 {
		return 2
	}
	return MessageLen(1 + len(m.Topic))
}

func (m *WillTopic) AppendBinary(b []byte) ([]byte, error) {
	if len(m.Topic) == 0 {
		if m.QoS != QoS0 || m.Retain {
			return b, perr(TypeWillTopic, "Flags", ErrReservedFlags)
		}
		return append(b, 2, byte(TypeWillTopic)), nil
	}
	if err := checkQoS(TypeWillTopic, m.QoS, false); err != nil {
		return b, err
	}
	if err := checkTopicName(TypeWillTopic, "WillTopic", m.Topic); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeWillTopic, 1+len(m.Topic))
	if err != nil {
		return b, err
	}
	return append(append(b2, qosBits(m.QoS)|boolBit(m.Retain, FlagRetain)), m.Topic...), nil
}

func (m *WillTopic) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeWillTopic)
	if err != nil {
		return 0, err
	}
	if len(body) == 0 {
		*m = WillTopic{}
		return n, nil
	}
	if err := checkFlags(TypeWillTopic, body[0], flagQoSMask|FlagRetain); err != nil {
		return 0, err
	}
	f := Flags(body[0])
	if err := checkQoS(TypeWillTopic, f.QoS(), false); err != nil {
		return 0, err
	}
	if err := checkTopicName(TypeWillTopic, "WillTopic", body[1:]); err != nil {
		return 0, err
	}
	m.QoS, m.Retain, m.Topic = f.QoS(), f.Retain(), body[1:]
	return n, nil
}
