package mqttsn

// Pingreq is the keep-alive probe (MQTT-SN v1.2 §5.4.19, Table 22).
//
//	Length(1) MsgType(1) ClientId(0 or 1..23)
//
// A sleeping client includes its ClientId when it wakes to collect buffered
// messages (§6.14); otherwise ClientID is empty.
type Pingreq struct {
	ClientID []byte // empty, or 1–23 octets; aliases the decoded buffer
}

func (m *Pingreq) Type() MsgType { return TypePingreq }
func (m *Pingreq) Len() int      { return 2 + len(m.ClientID) }

func (m *Pingreq) AppendBinary(b []byte) ([]byte, error) {
	if len(m.ClientID) > 0 {
		if err := checkClientID(TypePingreq, m.ClientID); err != nil {
			return b, err
		}
	}
	return append(append(b, byte(2+len(m.ClientID)), byte(TypePingreq)), m.ClientID...), nil
}

func (m *Pingreq) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypePingreq)
	if err != nil {
		return 0, err
	}
	if len(body) > 0 {
		if err := checkClientID(TypePingreq, body); err != nil {
			return 0, err
		}
	}
	m.ClientID = body
	return n, nil
}
