package mqttsn

// TSKeyResponse is the Trusted System's answer to a TS-KEYREQ (lsmqtt
// extension 0xA1, docs/protocol.md "TS-KEYRESP"). It travels TS → gateway →
// node (the gateway routes it by Name), or TS → caregiver.
//
//	Length MsgType=0xA1 Status(1) Flags(1) Suite(1) KeyID(4) Sender(2)
//	NotAfter(4) ReqNonce(16) TSNonce(16) NameLen(1) Name(1..23)
//	GroupLen(1) Group(1..64) Sealed(0:n)
//
// Sealed is the AEAD (Ascon-AEAD128) ciphertext of the key material and its
// tag under a wrap key derived from the requester's pre-shared secret and
// both nonces, with AuthData as associated data. A refusal carries only the
// tag (empty plaintext), or nothing when the TS does not know the requester
// and so cannot authenticate its answer.
type TSKeyResponse struct {
	Status   TSStatus
	Fetch    bool
	Suite    uint8
	KeyID    uint32
	Sender   uint16 // the device number the key belongs to
	NotAfter uint32 // Unix seconds; the key is not used after it
	ReqNonce []byte // TSNonceLen octets: the request's Nonce
	TSNonce  []byte // TSNonceLen octets, fresh per response
	Name     []byte
	Group    []byte
	Sealed   []byte
}

func init() {
	RegisterExtension(TypeTSKeyResponse, "TS-KEYRESP", func() Decoder { return new(TSKeyResponse) })
}

func (m *TSKeyResponse) Type() MsgType { return TypeTSKeyResponse }

func (m *TSKeyResponse) bodyLen() int {
	return 13 + 2*TSNonceLen + 2 + len(m.Name) + len(m.Group) + len(m.Sealed)
}

func (m *TSKeyResponse) Len() int { return MessageLen(m.bodyLen()) }

func (m *TSKeyResponse) check() error {
	t := TypeTSKeyResponse
	if !m.Status.Valid() {
		return perr(t, "Status", ErrTSField)
	}
	if err := fixedField(t, "ReqNonce", m.ReqNonce, TSNonceLen); err != nil {
		return err
	}
	if err := fixedField(t, "TSNonce", m.TSNonce, TSNonceLen); err != nil {
		return err
	}
	if err := tsIdent(t, "Name", m.Name, TSMaxNameLen); err != nil {
		return err
	}
	return tsIdent(t, "Group", m.Group, TSMaxGroupLen)
}

// AppendAuthData appends the associated data of Sealed: the MsgType octet
// and the body up to (not including) Sealed.
func (m *TSKeyResponse) AppendAuthData(b []byte) []byte {
	var f byte
	if m.Fetch {
		f = tsFlagFetch
	}
	b = append(b, byte(TypeTSKeyResponse), byte(m.Status), f, m.Suite)
	b = append32(b, m.KeyID)
	b = append16(b, m.Sender)
	b = append32(b, m.NotAfter)
	b = append(b, m.ReqNonce...)
	b = append(b, m.TSNonce...)
	b = appendIdent(b, m.Name)
	return appendIdent(b, m.Group)
}

func (m *TSKeyResponse) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeTSKeyResponse, m.bodyLen())
	if err != nil {
		return b, err
	}
	b2 = m.AppendAuthData(b2[:len(b2)-1])
	return append(b2, m.Sealed...), nil
}

// Decode reads a TS-KEYRESP; every slice field aliases b.
func (m *TSKeyResponse) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeTSKeyResponse)
	if err != nil {
		return 0, err
	}
	t := TypeTSKeyResponse
	r := tsReader{t: t, body: body}
	status := TSStatus(r.u8("Status"))
	flags := r.u8("Flags")
	suite := r.u8("Suite")
	keyID := r.u32("KeyID")
	sender := r.u16("Sender")
	notAfter := r.u32("NotAfter")
	reqNonce := r.fixed("ReqNonce", TSNonceLen)
	tsNonce := r.fixed("TSNonce", TSNonceLen)
	name := r.ident("Name", TSMaxNameLen)
	group := r.ident("Group", TSMaxGroupLen)
	switch {
	case r.err != nil:
		return 0, r.err
	case !status.Valid():
		return 0, perr(t, "Status", ErrTSField)
	case flags&^tsFlagFetch != 0:
		return 0, perr(t, "Flags", ErrReservedFlags)
	}
	*m = TSKeyResponse{Status: status, Fetch: flags&tsFlagFetch != 0, Suite: suite, KeyID: keyID,
		Sender: sender, NotAfter: notAfter, ReqNonce: reqNonce, TSNonce: tsNonce, Name: name,
		Group: group, Sealed: r.body}
	return n, nil
}
