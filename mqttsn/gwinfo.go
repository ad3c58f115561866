package mqttsn

// GWInfo answers a SEARCHGW (MQTT-SN v1.2 §5.4.3, Table 8).
//
//	Length(1) MsgType(1) GwId(1) GwAdd(0:n)
//
// GwAdd is present only when a client answers on behalf of a gateway; its
// format depends on the network, so it is kept as raw octets.
type GWInfo struct {
	GWID  uint8
	GWAdd []byte // empty when sent by a gateway; aliases the decoded buffer
}

func (m *GWInfo) Type() MsgType { return TypeGWInfo }
func (m *GWInfo) Len() int      { return MessageLen(1 + len(m.GWAdd)) }

func (m *GWInfo) AppendBinary(b []byte) ([]byte, error) {
	b2, err := AppendHeader(b, TypeGWInfo, 1+len(m.GWAdd))
	if err != nil {
		return b, err
	}
	return append(append(b2, m.GWID), m.GWAdd...), nil
}

func (m *GWInfo) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeGWInfo)
	if err != nil {
		return 0, err
	}
	if len(body) < 1 {
		return 0, perr(TypeGWInfo, "GwId", ErrTruncated)
	}
	m.GWID, m.GWAdd = body[0], body[1:]
	return n, nil
}
