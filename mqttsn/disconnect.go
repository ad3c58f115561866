package mqttsn

// Disconnect closes a connection, or with a Duration puts the client to sleep
// (MQTT-SN v1.2 §5.4.21, Table 24; §6.14).
//
//	Length(1) MsgType(1)
//	Length(1) MsgType(1) Duration(2)   -- sleep for Duration seconds
type Disconnect struct {
	HasDuration bool   // the Duration field is present (the client goes to sleep)
	Duration    uint16 // sleep duration in seconds, when HasDuration
}

func (m *Disconnect) Type() MsgType { return TypeDisconnect }

func (m *Disconnect) Len() int {
	if m.HasDuration {
		return 4
	}
	return 2
}

func (m *Disconnect) AppendBinary(b []byte) ([]byte, error) {
	if m.HasDuration {
		return append(b, 4, byte(TypeDisconnect), byte(m.Duration>>8), byte(m.Duration)), nil
	}
	if m.Duration != 0 {
		return b, perr(TypeDisconnect, "Duration", ErrLength)
	}
	return append(b, 2, byte(TypeDisconnect)), nil
}

func (m *Disconnect) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeDisconnect)
	if err != nil {
		return 0, err
	}
	switch len(body) {
	case 0:
		*m = Disconnect{}
	case 2:
		*m = Disconnect{HasDuration: true, Duration: be16(body)}
	default:
		return 0, perr(TypeDisconnect, "Length", ErrLength)
	}
	return n, nil
}
