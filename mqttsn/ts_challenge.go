package mqttsn

// TSChallenge is the gateway's admission challenge to a connecting node,
// sent after CONNECT and before CONNACK (lsmqtt extension 0xA2,
// docs/protocol.md "TS-CHALLENGE").
//
//	Length MsgType=0xA2 Challenge(16) GwNameLen(1) GwName(1..23)
type TSChallenge struct {
	Challenge []byte // TSNonceLen fresh random octets
	Gateway   []byte // the gateway's name as registered in the TS
}

func init() {
	RegisterExtension(TypeTSChallenge, "TS-CHALLENGE", func() Decoder { return new(TSChallenge) })
}

func (m *TSChallenge) Type() MsgType { return TypeTSChallenge }
func (m *TSChallenge) bodyLen() int  { return TSNonceLen + 1 + len(m.Gateway) }
func (m *TSChallenge) Len() int      { return MessageLen(m.bodyLen()) }

func (m *TSChallenge) AppendBinary(b []byte) ([]byte, error) {
	if err := fixedField(TypeTSChallenge, "Challenge", m.Challenge, TSNonceLen); err != nil {
		return b, err
	}
	if err := tsIdent(TypeTSChallenge, "GwName", m.Gateway, TSMaxNameLen); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeTSChallenge, m.bodyLen())
	if err != nil {
		return b, err
	}
	return appendIdent(append(b2, m.Challenge...), m.Gateway), nil
}

// Decode reads a TS-CHALLENGE; its fields alias b.
func (m *TSChallenge) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeTSChallenge)
	if err != nil {
		return 0, err
	}
	r := tsReader{t: TypeTSChallenge, body: body}
	ch := r.fixed("Challenge", TSNonceLen)
	gw := r.ident("GwName", TSMaxNameLen)
	if r.err != nil {
		return 0, r.err
	}
	if len(r.body) != 0 {
		return 0, perr(TypeTSChallenge, "GwName", ErrLength)
	}
	m.Challenge, m.Gateway = ch, gw
	return n, nil
}
