package mqttsn

// HOResumed answers HO-RESUME (lsmqtt extension 0xB2, docs/protocol.md
// "HO-RESUMED"). Home is the answering gateway's name. Accepted: the
// session is live there, with the node's client id, topic ids,
// subscriptions and in-flight messages; Home is the node's new home and
// Token its next token. Otherwise Status says why, Expiry is 0, Token is
// empty, and the node connects afresh (CONNECT, admission, REGISTER,
// SUBSCRIBE) — or, for "proof required", resumes again with a proof bound
// to Home.
//
//	Length MsgType=0xB2 Status(1) Expiry(4) HomeLen(1) Home(1..23)
//	TokenLen(1) Token(0 or 16..64)
type HOResumed struct {
	Status HOStatus
	Expiry uint32
	Home   []byte
	Token  []byte
}

func init() {
	RegisterExtension(TypeHOResumed, "HO-RESUMED", func() Decoder { return new(HOResumed) })
}

func (m *HOResumed) Type() MsgType { return TypeHOResumed }
func (m *HOResumed) bodyLen() int  { return 1 + 4 + 1 + len(m.Home) + 1 + len(m.Token) }
func (m *HOResumed) Len() int      { return MessageLen(m.bodyLen()) }

func (m *HOResumed) check() error {
	t := TypeHOResumed
	if !m.Status.Valid() {
		return perr(t, "Status", ErrHOField)
	}
	if err := tsIdent(t, "Home", m.Home, HONameMaxLen); err != nil {
		return err
	}
	if m.Status != HOAccepted {
		if m.Expiry != 0 || len(m.Token) != 0 {
			return perr(t, "Token", ErrHOField)
		}
		return nil
	}
	return checkToken(t, m.Token)
}

func (m *HOResumed) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeHOResumed, m.bodyLen())
	if err != nil {
		return b, err
	}
	return appendIdent(appendIdent(append32(append(b2, byte(m.Status)), m.Expiry), m.Home), m.Token), nil
}

// Decode reads an HO-RESUMED; its fields alias b.
func (m *HOResumed) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHOResumed)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHOResumed, body: body}
	st := HOStatus(r.u8("Status"))
	exp := r.u32("Expiry")
	home := r.fixed("Home", int(r.u8("Home")))
	tok := r.fixed("Token", int(r.u8("Token")))
	if r.err == nil && len(r.body) != 0 {
		r.fail("Token", ErrLength)
	}
	if r.err != nil {
		return 0, r.err
	}
	v := HOResumed{Status: st, Expiry: exp, Home: home, Token: tok}
	if err := v.check(); err != nil {
		return 0, err
	}
	*m = v
	return n, nil
}
