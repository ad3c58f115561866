package mqttsn

// HOTransfer carries a node's session from its home gateway to another
// gateway (lsmqtt extension 0xB4, docs/protocol.md "HO-TRANSFER"): the
// answer to HO-FETCH (same XID), or, with Push set, sent ahead of the node
// (proactive handover; the receiver then expects the node to resume with
// Token before Expiry). The receiver answers HO-CONFIRM or HO-REFUSE.
//
//	Length MsgType=0xB4 PeerHeader XID(4) Flags(1) Expiry(4) ClientLen(1)
//	ClientId TokenLen(1) Token(16..64) SessionLen(2) Session MAC(16)
//
// Flags: bit 0 Push. Session is an HOSession record (its own layout, so a
// receiver can check the MAC before it parses it).
type HOTransfer struct {
	Hdr      PeerHeader
	XID      uint32
	Push     bool
	Expiry   uint32 // Unix seconds: the token's expiry
	ClientID []byte
	Token    []byte
	Session  []byte // an encoded HOSession
	MAC      []byte
}

const hoTransferPush = 0x01

func init() {
	RegisterExtension(TypeHOTransfer, "HO-TRANSFER", func() Decoder { return new(HOTransfer) })
}

func (m *HOTransfer) Type() MsgType { return TypeHOTransfer }
func (m *HOTransfer) bodyLen() int {
	return m.Hdr.len() + 4 + 1 + 4 + 1 + len(m.ClientID) + 1 + len(m.Token) + 2 + len(m.Session) + HOMACLen
}
func (m *HOTransfer) Len() int { return MessageLen(m.bodyLen()) }

func (m *HOTransfer) AppendBinary(b []byte) ([]byte, error) {
	t := TypeHOTransfer
	if err := checkPeer(t, &m.Hdr, m.ClientID, m.MAC); err != nil {
		return b, err
	}
	if err := checkToken(t, m.Token); err != nil {
		return b, err
	}
	if len(m.Session) > MaxLen {
		return b, perr(t, "Session", ErrTooLong)
	}
	var flags byte
	if m.Push {
		flags |= hoTransferPush
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	b2 = append32(append(append32(m.Hdr.append(b2), m.XID), flags), m.Expiry)
	b2 = appendBytes16(appendIdent(appendIdent(b2, m.ClientID), m.Token), m.Session)
	return append(b2, m.MAC...), nil
}

// Decode reads an HO-TRANSFER; its fields alias b. Session is not parsed:
// decode it with HOSession.Decode once the MAC verified.
func (m *HOTransfer) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHOTransfer)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHOTransfer, body: body}
	var v HOTransfer
	v.Hdr.read(&r)
	v.XID = r.u32("XID")
	flags := r.u8("Flags")
	if r.err == nil && flags&^hoTransferPush != 0 {
		r.fail("Flags", ErrReservedFlags)
	}
	v.Push = flags&hoTransferPush != 0
	v.Expiry = r.u32("Expiry")
	v.ClientID = r.clientID()
	v.Token = r.token()
	v.Session = r.bytes16("Session")
	v.MAC = r.mac()
	if r.err != nil {
		return 0, r.err
	}
	*m = v
	return n, nil
}
