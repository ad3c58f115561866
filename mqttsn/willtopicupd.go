package mqttsn

// WillTopicUpd updates the will topic stored at the gateway (MQTT-SN v1.2 §5.4.22, Table 25).
//
//	Length(1) MsgType(1) Flags(1) WillTopic(1:n)
//	Length(1) MsgType(1)                          -- empty: delete will topic and message
//
// Only the QoS (0..2) and Retain flags are used. An empty Topic encodes the
// 2-octet empty form, which deletes the will (§6.4); QoS and Retain must then
// be zero.
type WillTopicUpd struct {
	QoS    QoS
	Retain bool
	Topic  []byte // empty means delete; aliases the decoded buffer
}

func (m *WillTopicUpd) Type() MsgType { return TypeWillTopicUpd }

func (m *WillTopicUpd) Len() int {
	if len(m.Topic) == 0 {
		return 2
	}
	return MessageLen(1 + len(m.Topic))
}

func (m *WillTopicUpd) AppendBinary(b []byte) ([]byte, error) {
	if len(m.Topic) == 0 {
		if m.QoS != QoS0 || m.Retain {
			return b, perr(TypeWillTopicUpd, "Flags", ErrReservedFlags)
		}
		return append(b, 2, byte(TypeWillTopicUpd)), nil
	}
	if err := checkQoS(TypeWillTopicUpd, m.QoS, false); err != nil {
		return b, err
	}
	if err := checkTopicName(TypeWillTopicUpd, "WillTopic", m.Topic); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeWillTopicUpd, 1+len(m.Topic))
	if err != nil {
		return b, err
	}
	return append(append(b2, qosBits(m.QoS)|boolBit(m.Retain, FlagRetain)), m.Topic...), nil
}

func (m *WillTopicUpd) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeWillTopicUpd)
	if err != nil {
		return 0, err
	}
	if len(body) == 0 {
		*m = WillTopicUpd{}
		return n, nil
	}
	if err := checkFlags(TypeWillTopicUpd, body[0], flagQoSMask|FlagRetain); err != nil {
		return 0, err
	}
	f := Flags(body[0])
	if err := checkQoS(TypeWillTopicUpd, f.QoS(), false); err != nil {
		return 0, err
	}
	if err := checkTopicName(TypeWillTopicUpd, "WillTopic", body[1:]); err != nil {
		return 0, err
	}
	m.QoS, m.Retain, m.Topic = f.QoS(), f.Retain(), body[1:]
	return n, nil
}
