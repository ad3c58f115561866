package mqttsn

// TSKeyRequest asks the Trusted System for payload key material (lsmqtt
// extension 0xA0, docs/protocol.md "TS-KEYREQ"). A node asks for a fresh key
// for its own session (Fetch unset); a caregiver asks for an existing key by
// id (Fetch set). It travels node → gateway → TS, or caregiver → TS.
//
//	Length MsgType=0xA0 Flags(1) Suite(1) KeyID(4) Nonce(16)
//	NameLen(1) Name(1..23) GroupLen(1) Group(1..64) MAC(16)
//
// MAC is the truncated HMAC-SHA256 of AuthData under a key derived from the
// requester's pre-shared secret (trust/keywrap).
type TSKeyRequest struct {
	Fetch bool
	Suite uint8  // aead.ID wanted for a new key; 0 for Fetch
	KeyID uint32 // the key wanted (Fetch); 0 for a new key
	Nonce []byte // TSNonceLen octets, fresh per request
	Name  []byte // requester (a node's client id, or a caregiver name)
	Group []byte // patient group
	MAC   []byte // TSMACLen octets
}

const tsFlagFetch = 0x01

func init() {
	RegisterExtension(TypeTSKeyRequest, "TS-KEYREQ", func() Decoder { return new(TSKeyRequest) })
}

func (m *TSKeyRequest) Type() MsgType { return TypeTSKeyRequest }

func (m *TSKeyRequest) bodyLen() int {
	return 6 + TSNonceLen + 2 + len(m.Name) + len(m.Group) + TSMACLen
}

func (m *TSKeyRequest) Len() int { return MessageLen(m.bodyLen()) }

func (m *TSKeyRequest) check() error {
	t := TypeTSKeyRequest
	if err := fixedField(t, "Nonce", m.Nonce, TSNonceLen); err != nil {
		return err
	}
	if err := tsIdent(t, "Name", m.Name, TSMaxNameLen); err != nil {
		return err
	}
	if err := tsIdent(t, "Group", m.Group, TSMaxGroupLen); err != nil {
		return err
	}
	return fixedField(t, "MAC", m.MAC, TSMACLen)
}

// AppendAuthData appends what MAC authenticates: the MsgType octet and the
// body up to (not including) MAC.
func (m *TSKeyRequest) AppendAuthData(b []byte) []byte {
	var f byte
	if m.Fetch {
		f = tsFlagFetch
	}
	b = append(b, byte(TypeTSKeyRequest), f, m.Suite)
	b = append32(b, m.KeyID)
	b = append(b, m.Nonce...)
	b = appendIdent(b, m.Name)
	return appendIdent(b, m.Group)
}

func (m *TSKeyRequest) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeTSKeyRequest, m.bodyLen())
	if err != nil {
		return b, err
	}
	b2 = m.AppendAuthData(b2[:len(b2)-1]) // AuthData starts with the MsgType octet
	return append(b2, m.MAC...), nil
}

// Decode reads a TS-KEYREQ; every slice field aliases b.
func (m *TSKeyRequest) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeTSKeyRequest)
	if err != nil {
		return 0, err
	}
	r := tsReader{t: TypeTSKeyRequest, body: body}
	flags := r.u8("Flags")
	suite := r.u8("Suite")
	keyID := r.u32("KeyID")
	nonce := r.fixed("Nonce", TSNonceLen)
	name := r.ident("Name", TSMaxNameLen)
	group := r.ident("Group", TSMaxGroupLen)
	mac := r.fixed("MAC", TSMACLen)
	switch {
	case r.err != nil:
		return 0, r.err
	case len(r.body) != 0:
		return 0, perr(TypeTSKeyRequest, "MAC", ErrLength)
	case flags&^tsFlagFetch != 0:
		return 0, perr(TypeTSKeyRequest, "Flags", ErrReservedFlags)
	}
	*m = TSKeyRequest{Fetch: flags&tsFlagFetch != 0, Suite: suite, KeyID: keyID, Nonce: nonce,
		Name: name, Group: group, MAC: mac}
	return n, nil
}
