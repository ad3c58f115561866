package mqttsn

// ProtocolID is the only ProtocolId v1.2 defines (§5.3.8).
const ProtocolID = 0x01

// Connect opens a connection (MQTT-SN v1.2 §5.4.4, Table 9).
//
//	Length(1) MsgType(1) Flags(1) ProtocolId(1) Duration(2) ClientId(1..23)
//
// Only the Will and CleanSession flags are used; any other flag bit set is
// ErrReservedFlags. ProtocolId must be 0x01.
type Connect struct {
	Will         bool   // ask the gateway to prompt for will topic and message (§6.2)
	CleanSession bool   // §6.3
	Duration     uint16 // keep-alive in seconds
	ClientID     []byte // 1–23 octets; aliases the decoded buffer
}

func (m *Connect) Type() MsgType { return TypeConnect }
func (m *Connect) Len() int      { return MessageLen(4 + len(m.ClientID)) }

func (m *Connect) AppendBinary(b []byte) ([]byte, error) {
	if err := checkClientID(TypeConnect, m.ClientID); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeConnect, 4+len(m.ClientID))
	if err != nil {
		return b, err
	}
	f := boolBit(m.Will, FlagWill) | boolBit(m.CleanSession, FlagCleanSession)
	b2 = append(b2, f, ProtocolID, byte(m.Duration>>8), byte(m.Duration))
	return append(b2, m.ClientID...), nil
}

func (m *Connect) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeConnect)
	if err != nil {
		return 0, err
	}
	if len(body) < 4 {
		return 0, perr(TypeConnect, "Duration", ErrTruncated)
	}
	if err := checkFlags(TypeConnect, body[0], FlagWill|FlagCleanSession); err != nil {
		return 0, err
	}
	if body[1] != ProtocolID {
		return 0, perr(TypeConnect, "ProtocolId", ErrProtocolID)
	}
	id := body[4:]
	if err := checkClientID(TypeConnect, id); err != nil {
		return 0, err
	}
	f := Flags(body[0])
	m.Will, m.CleanSession, m.Duration, m.ClientID = f.Will(), f.CleanSession(), be16(body[2:]), id
	return n, nil
}
