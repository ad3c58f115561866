package mqttsn

// HOConfirm tells the home gateway that the session it transferred (XID) is
// installed at the sender, which serves the node from now on (lsmqtt
// extension 0xB5, docs/protocol.md "HO-CONFIRM"). The home gateway drops
// its copy and forwards what still arrives for the node (HO-FORWARD).
//
//	Length MsgType=0xB5 PeerHeader XID(4) ClientLen(1) ClientId MAC(16)
type HOConfirm struct {
	Hdr      PeerHeader
	XID      uint32
	ClientID []byte
	MAC      []byte
}

func init() {
	RegisterExtension(TypeHOConfirm, "HO-CONFIRM", func() Decoder { return new(HOConfirm) })
}

func (m *HOConfirm) Type() MsgType { return TypeHOConfirm }
func (m *HOConfirm) bodyLen() int  { return m.Hdr.len() + 4 + 1 + len(m.ClientID) + HOMACLen }
func (m *HOConfirm) Len() int      { return MessageLen(m.bodyLen()) }

func (m *HOConfirm) AppendBinary(b []byte) ([]byte, error) {
	t := TypeHOConfirm
	if err := checkPeer(t, &m.Hdr, m.ClientID, m.MAC); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	return append(appendIdent(append32(m.Hdr.append(b2), m.XID), m.ClientID), m.MAC...), nil
}

// Decode reads an HO-CONFIRM; its fields alias b.
func (m *HOConfirm) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHOConfirm)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHOConfirm, body: body}
	var v HOConfirm
	v.Hdr.read(&r)
	v.XID = r.u32("XID")
	v.ClientID = r.clientID()
	v.MAC = r.mac()
	if r.err != nil {
		return 0, r.err
	}
	*m = v
	return n, nil
}
