package mqttsn

// The three QoS 2 handshake messages share one layout (§5.4.14).

// Pubrec is the first answer to a QoS 2 PUBLISH (MQTT-SN v1.2 §5.4.14, Table 18).
//
//	Length(1) MsgType(1) MsgId(2)
type Pubrec struct {
	MsgID uint16
}

func (m *Pubrec) Type() MsgType { return TypePubrec }
func (m *Pubrec) Len() int      { return 4 }

func (m *Pubrec) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 4, byte(TypePubrec), byte(m.MsgID>>8), byte(m.MsgID)), nil
}

func (m *Pubrec) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypePubrec)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypePubrec, body, 2); err != nil {
		return 0, err
	}
	m.MsgID = be16(body)
	return n, nil
}

// Pubrel answers PUBREC (MQTT-SN v1.2 §5.4.14, Table 18).
//
//	Length(1) MsgType(1) MsgId(2)
type Pubrel struct {
	MsgID uint16
}

func (m *Pubrel) Type() MsgType { return TypePubrel }
func (m *Pubrel) Len() int      { return 4 }

func (m *Pubrel) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 4, byte(TypePubrel), byte(m.MsgID>>8), byte(m.MsgID)), nil
}

func (m *Pubrel) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypePubrel)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypePubrel, body, 2); err != nil {
		return 0, err
	}
	m.MsgID = be16(body)
	return n, nil
}

// Pubcomp answers PUBREL and completes a QoS 2 exchange (MQTT-SN v1.2 §5.4.14, Table 18).
//
//	Length(1) MsgType(1) MsgId(2)
type Pubcomp struct {
	MsgID uint16
}

func (m *Pubcomp) Type() MsgType { return TypePubcomp }
func (m *Pubcomp) Len() int      { return 4 }

func (m *Pubcomp) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 4, byte(TypePubcomp), byte(m.MsgID>>8), byte(m.MsgID)), nil
}

func (m *Pubcomp) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypePubcomp)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypePubcomp, body, 2); err != nil {
		return 0, err
	}
	m.MsgID = be16(body)
	return n, nil
}
