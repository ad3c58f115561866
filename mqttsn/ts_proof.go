package mqttsn

// TSProof is a node's answer to a TS-CHALLENGE: a MAC over the challenge,
// the gateway's name and the node's client id under a key derived from the
// node's pre-shared secret (lsmqtt extension 0xA3, docs/protocol.md
// "TS-PROOF"). The gateway cannot check it; it forwards it to the TS.
//
//	Length MsgType=0xA3 Challenge(16) Proof(16)
type TSProof struct {
	Challenge []byte // TSNonceLen octets, echoed
	Proof     []byte // TSMACLen octets
}

func init() {
	RegisterExtension(TypeTSProof, "TS-PROOF", func() Decoder { return new(TSProof) })
}

func (m *TSProof) Type() MsgType { return TypeTSProof }
func (m *TSProof) Len() int      { return MessageLen(TSNonceLen + TSMACLen) }

func (m *TSProof) AppendBinary(b []byte) ([]byte, error) {
	if err := fixedField(TypeTSProof, "Challenge", m.Challenge, TSNonceLen); err != nil {
		return b, err
	}
	if err := fixedField(TypeTSProof, "Proof", m.Proof, TSMACLen); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, TypeTSProof, TSNonceLen+TSMACLen)
	if err != nil {
		return b, err
	}
	return append(append(b2, m.Challenge...), m.Proof...), nil
}

// Decode reads a TS-PROOF; its fields alias b.
func (m *TSProof) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeTSProof)
	if err != nil {
		return 0, err
	}
	if err := fixedLen(TypeTSProof, body, TSNonceLen+TSMACLen); err != nil {
		return 0, err
	}
	m.Challenge, m.Proof = body[:TSNonceLen:TSNonceLen], body[TSNonceLen:]
	return n, nil
}
