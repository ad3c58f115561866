package mqttsn

// HOToken gives a node the session token it presents when it resumes its
// session at another gateway (lsmqtt extension 0xB0, docs/protocol.md
// "HO-TOKEN"). The gateway sends it right after CONNACK, and again inside
// HO-RESUMED after every handover. The node keeps the latest one.
//
//	Length MsgType=0xB0 Expiry(4) HomeLen(1) Home(1..23) TokenLen(1) Token(16..64)
type HOToken struct {
	Expiry uint32 // Unix seconds after which the token is refused
	Home   []byte // the issuing gateway's name
	Token  []byte // opaque to the node
}

func init() {
	RegisterExtension(TypeHOToken, "HO-TOKEN", func() Decoder { return new(HOToken) })
}

func (m *HOToken) Type() MsgType { return TypeHOToken }
func (m *HOToken) bodyLen() int  { return 4 + 1 + len(m.Home) + 1 + len(m.Token) }
func (m *HOToken) Len() int      { return MessageLen(m.bodyLen()) }

func (m *HOToken) AppendBinary(b []byte) ([]byte, error) {
	if err := tsIdent(TypeHOToken, "Home", m.Home, HONameMaxLen); err != nil {
		return b, err
	}
	if err := checkToken(TypeHOToken, m.Token); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeHOToken, m.bodyLen())
	if err != nil {
		return b, err
	}
	return appendIdent(appendIdent(append32(b2, m.Expiry), m.Home), m.Token), nil
}

// Decode reads an HO-TOKEN; its fields alias b.
func (m *HOToken) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHOToken)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHOToken, body: body}
	exp := r.u32("Expiry")
	home := r.ident("Home", HONameMaxLen)
	tok := r.token()
	if r.err == nil && len(r.body) != 0 {
		r.fail("Token", ErrLength)
	}
	if r.err != nil {
		return 0, r.err
	}
	*m = HOToken{Expiry: exp, Home: home, Token: tok}
	return n, nil
}
