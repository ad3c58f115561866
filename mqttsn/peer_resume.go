package mqttsn

// HOResume is what a node sends a gateway of the area it just entered to
// carry on with its session instead of connecting afresh (lsmqtt extension
// 0xB1, docs/protocol.md "HO-RESUME"). The visited gateway fetches the
// session from Home, presenting Token, and answers HO-RESUMED.
//
//	Length MsgType=0xB1 Flags(1) ClientLen(1) ClientId(1..23) HomeLen(1)
//	Home(1..23) TokenLen(1) Token(16..64) [Proof(16)]
//
// Flags: bit 0 Proof present; bit 1 Asleep (the node sleeps, MQTT-SN v1.2
// §6.14, and will wake with PINGREQ); the other bits are reserved. The proof
// is the TS admission proof (docs/protocol.md "Trusted System messages") of
// the challenge Token[0:16] for the visited gateway's name.
type HOResume struct {
	Asleep   bool
	ClientID []byte
	Home     []byte
	Token    []byte
	Proof    []byte // nil, or HOProofLen octets
}

const (
	hoResumeProof  = 0x01
	hoResumeAsleep = 0x02
)

func init() {
	RegisterExtension(TypeHOResume, "HO-RESUME", func() Decoder { return new(HOResume) })
}

func (m *HOResume) Type() MsgType { return TypeHOResume }
func (m *HOResume) bodyLen() int {
	return 1 + 1 + len(m.ClientID) + 1 + len(m.Home) + 1 + len(m.Token) + len(m.Proof)
}
func (m *HOResume) Len() int { return MessageLen(m.bodyLen()) }

func (m *HOResume) AppendBinary(b []byte) ([]byte, error) {
	t := TypeHOResume
	if err := checkClientID(t, m.ClientID); err != nil {
		return b, err
	}
	if err := tsIdent(t, "Home", m.Home, HONameMaxLen); err != nil {
		return b, err
	}
	if err := checkToken(t, m.Token); err != nil {
		return b, err
	}
	var flags byte
	if m.Proof != nil {
		if err := fixedField(t, "Proof", m.Proof, HOProofLen); err != nil {
			return b, err
		}
		flags |= hoResumeProof
	}
	if m.Asleep {
		flags |= hoResumeAsleep
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	b2 = appendIdent(appendIdent(appendIdent(append(b2, flags), m.ClientID), m.Home), m.Token)
	return append(b2, m.Proof...), nil
}

// Decode reads an HO-RESUME; its fields alias b.
func (m *HOResume) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeHOResume)
	if err != nil {
		return 0, err
	}
	r := hoReader{t: TypeHOResume, body: body}
	flags := r.u8("Flags")
	if r.err == nil && flags&^(hoResumeProof|hoResumeAsleep) != 0 {
		r.fail("Flags", ErrReservedFlags)
	}
	id := r.clientID()
	home := r.ident("Home", HONameMaxLen)
	tok := r.token()
	var proof []byte
	if flags&hoResumeProof != 0 {
		proof = r.fixed("Proof", HOProofLen)
	}
	if r.err == nil && len(r.body) != 0 {
		r.fail("Proof", ErrLength)
	}
	if r.err != nil {
		return 0, r.err
	}
	*m = HOResume{Asleep: flags&hoResumeAsleep != 0, ClientID: id, Home: home, Token: tok, Proof: proof}
	return n, nil
}
