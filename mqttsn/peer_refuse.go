package mqttsn

// HORefuse declines a peer's HO-FETCH or HO-TRANSFER (same XID) with a
// reason (lsmqtt extension 0xB6, docs/protocol.md "HO-REFUSE"). A visited
// gateway refused by the home gateway answers the node HO-RESUMED with that
// reason, and the node connects afresh.
//
//	Length MsgType=0xB6 PeerHeader XID(4) Reason(1) ClientLen(1) ClientId MAC(16)
type HORefuse struct {
	Hdr      PeerHeader
	XID      uint32
	Reason   HOStatus // never HOAccepted
	ClientID []byte
	MAC      []byte
}

func init() {
	RegisterExtension(TypeHORefuse, "HO-REFUSE", func() Decoder { return new(HORefuse) })
}

func (m *HORefuse) Type() MsgType { return TypeHORefuse }
func (m *HORefuse) bodyLen() int  { return m.Hdr.len() + 4 + 1 + 1 + len(m.ClientID) + HOMACLen }
func (m *HORefuse) Len() int      { return MessageLen(m.bodyLen()) }

func checkReason(t MsgType, s HOStatus) error {
	if s == HOAccepted || !s.Valid() {
		return perr(t, "Reason", ErrHOField)
	}
	return nil
}

func (m *HORefuse) AppendBinary(b []byte) ([]byte, error) {
	t := TypeHORefuse
	if err := checkPeer(t, &m.Hdr, m.ClientID, m.MAC); err != nil {
		return b, err
	}
	if err := checkReason(t, m.Reason); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	b2 = append(append32(m.Hdr.append(b2), m.XID), byte(m.Reason))
	return append(appendIdent(b2, m.ClientID), m.MAC...), nil
}

// Decode reads an HO-REFUSE; its fields alias b.
func (m *HORefuse) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHORefuse)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHORefuse, body: body}
	var v HORefuse
	v.Hdr.read(&r)
	v.XID = r.u32("XID")
	v.Reason = HOStatus(r.u8("Reason"))
	if r.err == nil {
		r.err = checkReason(TypeHORefuse, v.Reason)
	}
	v.ClientID = r.clientID()
	v.MAC = r.mac()
	if r.err != nil {
		return 0, r.err
	}
	*m = v
	return n, nil
}
