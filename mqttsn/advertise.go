package mqttsn

// Advertise is broadcast periodically by a gateway (MQTT-SN v1.2 §5.4.1, Table 6).
//
//	Length(1) MsgType(1) GwId(1) Duration(2)
type Advertise struct {
	GWID     uint8
	Duration uint16 // seconds until the next ADVERTISE
}

func (m *Advertise) Type() MsgType { return TypeAdvertise }
func (m *Advertise) Len() int      { return 5 }

func (m *Advertise) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 5, byte(TypeAdvertise), m.GWID, byte(m.Duration>>8), byte(m.Duration)), nil
}

func (m *Advertise) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeAdvertise)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeAdvertise, body, 3); err != nil {
		return 0, err
	}
	m.GWID, m.Duration = body[0], be16(body[1:])
	return n, nil
}
