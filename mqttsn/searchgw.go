package mqttsn

// SearchGW is broadcast by a client looking for a gateway (MQTT-SN v1.2 §5.4.2, Table 7).
//
//	Length(1) MsgType(1) Radius(1)
type SearchGW struct {
	Radius uint8 // broadcast radius in hops; 0 means the whole network (§5.3.9)
}

func (m *SearchGW) Type() MsgType { return TypeSearchGW }
func (m *SearchGW) Len() int      { return 3 }

func (m *SearchGW) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 3, byte(TypeSearchGW), m.Radius), nil
}

func (m *SearchGW) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeSearchGW)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeSearchGW, body, 1); err != nil {
		return 0, err
	}
	m.Radius = body[0]
	return n, nil
}
