package mqttsn

// HOFwdAck acknowledges HO-FORWARD Seq (lsmqtt extension 0xB8,
// docs/protocol.md "HO-FWDACK"); until it arrives the home gateway
// retransmits the forward.
//
//	Length MsgType=0xB8 PeerHeader Seq(4) ClientLen(1) ClientId MAC(16)
type HOFwdAck struct {
	Hdr      PeerHeader
	Seq      uint32
	ClientID []byte
	MAC      []byte
}

func init() {
	RegisterExtension(TypeHOFwdAck, "HO-FWDACK", func() Decoder { return new(HOFwdAck) })
}

func (m *HOFwdAck) Type() MsgType { return TypeHOFwdAck }
func (m *HOFwdAck) bodyLen() int  { return m.Hdr.len() + 4 + 1 + len(m.ClientID) + HOMACLen }
func (m *HOFwdAck) Len() int      { return MessageLen(m.bodyLen()) }

func (m *HOFwdAck) AppendBinary(b []byte) ([]byte, error) {
	t := TypeHOFwdAck
	if err := checkPeer(t, &m.Hdr, m.ClientID, m.MAC); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	return append(appendIdent(append32(m.Hdr.append(b2), m.Seq), m.ClientID), m.MAC...), nil
}

// Decode reads an HO-FWDACK; its fields alias b.
func (m *HOFwdAck) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHOFwdAck)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHOFwdAck, body: body}
	var v HOFwdAck
	v.Hdr.read(&r)
	v.Seq = r.u32("Seq")
	v.ClientID = r.clientID()
	v.MAC = r.mac()
	if r.err != nil {
		return 0, r.err
	}
	*m = v
	return n, nil
}
