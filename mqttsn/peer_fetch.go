package mqttsn

// HOFetch asks the home gateway for a node's session (lsmqtt extension
// 0xB3, docs/protocol.md "HO-FETCH"): the visited gateway sends it when the
// node resumed there, presenting the node's token. The home gateway answers
// HO-TRANSFER (same XID) or HO-REFUSE.
//
//	Length MsgType=0xB3 PeerHeader XID(4) Flags(1) ClientLen(1) ClientId
//	TokenLen(1) Token(16..64) MAC(16)
//
// Flags: bit 0 ProofVerified (the visited gateway had the TS verify the
// node's proof of its secret); bit 1 Asleep (the node resumed asleep).
type HOFetch struct {
	Hdr           PeerHeader
	XID           uint32 // exchange id, echoed in the answer
	ProofVerified bool
	Asleep        bool
	ClientID      []byte
	Token         []byte
	MAC           []byte
}

const (
	hoFetchProof  = 0x01
	hoFetchAsleep = 0x02
)

func init() {
	RegisterExtension(TypeHOFetch, "HO-FETCH", func() Decoder { return new(HOFetch) })
}

func (m *HOFetch) Type() MsgType { return TypeHOFetch }
func (m *HOFetch) bodyLen() int {
	return m.Hdr.len() + 4 + 1 + 1 + len(m.ClientID) + 1 + len(m.Token) + HOMACLen
}
func (m *HOFetch) Len() int { return MessageLen(m.bodyLen()) }

func (m *HOFetch) AppendBinary(b []byte) ([]byte, error) {
	t := TypeHOFetch
	if err := checkPeer(t, &m.Hdr, m.ClientID, m.MAC); err != nil {
		return b, err
	}
	if err := checkToken(t, m.Token); err != nil {
		return b, err
	}
	var flags byte
	if m.ProofVerified {
		flags |= hoFetchProof
	}
	if m.Asleep {
		flags |= hoFetchAsleep
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	b2 = append(append32(m.Hdr.append(b2), m.XID), flags)
	return append(appendIdent(appendIdent(b2, m.ClientID), m.Token), m.MAC...), nil
}

// Decode reads an HO-FETCH; its fields alias b.
func (m *HOFetch) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHOFetch)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHOFetch, body: body}
	var v HOFetch
	v.Hdr.read(&r)
	v.XID = r.u32("XID")
	flags := r.u8("Flags")
	if r.err == nil && flags&^(hoFetchProof|hoFetchAsleep) != 0 {
		r.fail("Flags", ErrReservedFlags)
	}
	v.ProofVerified, v.Asleep = flags&hoFetchProof != 0, flags&hoFetchAsleep != 0
	v.ClientID = r.clientID()
	v.Token = r.token()
	v.MAC = r.mac()
	if r.err != nil {
		return 0, r.err
	}
	*m = v
	return n, nil
}
