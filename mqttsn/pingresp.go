package mqttsn

// Pingresp answers PINGREQ; to a waking sleeper it also means "no more buffered messages" (§6.14) (MQTT-SN v1.2 §5.4.20, Table 23).
//
//	Length(1) MsgType(1)
type Pingresp struct{}

func (m *Pingresp) Type() MsgType { return TypePingresp }
func (m *Pingresp) Len() int      { return 2 }

func (m *Pingresp) AppendBinary(b []byte) ([]byte, error) {
	return append(b, 2, byte(TypePingresp)), nil
}

func (m *Pingresp) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypePingresp)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypePingresp, body, 0); err != nil {
		return 0, err
	}
	return n, nil
}
