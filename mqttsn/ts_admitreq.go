package mqttsn

// TSAdmitRequest carries a node's admission proof from the gateway to the
// TS (lsmqtt extension 0xA4, docs/protocol.md "TS-ADMITREQ"). The gateway
// authenticates it with a MAC under a key derived from its own pre-shared
// secret, so the TS answers only gateways it knows.
//
//	Length MsgType=0xA4 Challenge(16) Proof(16) GwNameLen(1) GwName(1..23)
//	ClientLen(1) ClientId(1..23) MAC(16)
type TSAdmitRequest struct {
	Challenge []byte // the challenge the gateway sent (fresh, so also the request nonce)
	Proof     []byte // the node's TS-PROOF Proof
	Gateway   []byte
	ClientID  []byte
	MAC       []byte
}

func init() {
	RegisterExtension(TypeTSAdmitRequest, "TS-ADMITREQ", func() Decoder { return new(TSAdmitRequest) })
}

func (m *TSAdmitRequest) Type() MsgType { return TypeTSAdmitRequest }
func (m *TSAdmitRequest) bodyLen() int {
	return TSNonceLen + TSMACLen + 2 + len(m.Gateway) + len(m.ClientID) + TSMACLen
}
func (m *TSAdmitRequest) Len() int { return MessageLen(m.bodyLen()) }

// AppendAuthData appends what MAC authenticates: MsgType and the body up to MAC.
func (m *TSAdmitRequest) AppendAuthData(b []byte) []byte {
	b = append(append(append(b, byte(TypeTSAdmitRequest)), m.Challenge...), m.Proof...)
	return appendIdent(appendIdent(b, m.Gateway), m.ClientID)
}

func (m *TSAdmitRequest) AppendBinary(b []byte) ([]byte, error) {
	t := TypeTSAdmitRequest
	for _, c := range []struct {
		f string
		v []byte
		n int
	}{{"Challenge", m.Challenge, TSNonceLen}, {"Proof", m.Proof, TSMACLen}, {"MAC", m.MAC, TSMACLen}} {
		if err := fixedField(t, c.f, c.v, c.n); err != nil {
			return b, err
		}
	}
	if err := tsIdent(t, "GwName", m.Gateway, TSMaxNameLen); err != nil {
		return b, err
	}
	if err := tsIdent(t, "ClientId", m.ClientID, TSMaxNameLen); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	return append(m.AppendAuthData(b2[:len(b2)-1]), m.MAC...), nil
}

// Decode reads a TS-ADMITREQ; its fields alias b.
func (m *TSAdmitRequest) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeTSAdmitRequest)
	if err != nil {
		return 0, err
	}
	r := tsReader{t: TypeTSAdmitRequest, body: body}
	ch := r.fixed("Challenge", TSNonceLen)
	proof := r.fixed("Proof", TSMACLen)
	gw := r.ident("GwName", TSMaxNameLen)
	id := r.ident("ClientId", TSMaxNameLen)
	mac := r.fixed("MAC", TSMACLen)
	if r.err != nil {
		return 0, r.err
	}
	if len(r.body) != 0 {
		return 0, perr(TypeTSAdmitRequest, "MAC", ErrLength)
	}
	*m = TSAdmitRequest{Challenge: ch, Proof: proof, Gateway: gw, ClientID: id, MAC: mac}
	return n, nil
}
