package mqttsn

// TSAdmitResponse is the TS's verdict on a TS-ADMITREQ (lsmqtt extension
// 0xA5, docs/protocol.md "TS-ADMITRESP"), authenticated with a MAC under the
// gateway's derived key. A gateway admits the node only on Status 0 with a
// valid MAC; the TS sends an all-zero MAC when it cannot authenticate (an
// unknown gateway), which the gateway treats as a refusal.
//
//	Length MsgType=0xA5 Status(1) Sender(2) Challenge(16)
//	ClientLen(1) ClientId(1..23) GroupLen(1) Group(1..64) MAC(16)
type TSAdmitResponse struct {
	Status    TSStatus
	Sender    uint16 // the node's device number (0 unless admitted)
	Challenge []byte // echoed from the request
	ClientID  []byte
	Group     []byte // the node's patient group ("-" unless admitted)
	MAC       []byte
}

func init() {
	RegisterExtension(TypeTSAdmitResponse, "TS-ADMITRESP", func() Decoder { return new(TSAdmitResponse) })
}

func (m *TSAdmitResponse) Type() MsgType { return TypeTSAdmitResponse }
func (m *TSAdmitResponse) bodyLen() int {
	return 3 + TSNonceLen + 2 + len(m.ClientID) + len(m.Group) + TSMACLen
}
func (m *TSAdmitResponse) Len() int { return MessageLen(m.bodyLen()) }

// AppendAuthData appends what MAC authenticates: MsgType and the body up to MAC.
func (m *TSAdmitResponse) AppendAuthData(b []byte) []byte {
	b = append16(append(b, byte(TypeTSAdmitResponse), byte(m.Status)), m.Sender)
	b = append(b, m.Challenge...)
	return appendIdent(appendIdent(b, m.ClientID), m.Group)
}

func (m *TSAdmitResponse) AppendBinary(b []byte) ([]byte, error) {
	t := TypeTSAdmitResponse
	if !m.Status.Valid() {
		return b, perr(t, "Status", ErrTSField)
	}
	if err := fixedField(t, "Challenge", m.Challenge, TSNonceLen); err != nil {
		return b, err
	}
	if err := tsIdent(t, "ClientId", m.ClientID, TSMaxNameLen); err != nil {
		return b, err
	}
	if err := tsIdent(t, "Group", m.Group, TSMaxGroupLen); err != nil {
		return b, err
	}
	if err := fixedField(t, "MAC", m.MAC, TSMACLen); err != nil {
		return b, err
	}
	b2, err := AppendHeader(b, t, m.bodyLen())
	if err != nil {
		return b, err
	}
	return append(m.AppendAuthData(b2[:len(b2)-1]), m.MAC...), nil
}

// Decode reads a TS-ADMITRESP; its fields alias b.
func (m *TSAdmitResponse) Decode(b []byte) (int, error) {
	body, n, err := ReadBody(b, TypeTSAdmitResponse)
	if err != nil {
		return 0, err
	}
	t := TypeTSAdmitResponse
	r := tsReader{t: t, body: body}
	status := TSStatus(r.u8("Status"))
	sender := r.u16("Sender")
	ch := r.fixed("Challenge", TSNonceLen)
	id := r.ident("ClientId", TSMaxNameLen)
	group := r.ident("Group", TSMaxGroupLen)
	mac := r.fixed("MAC", TSMACLen)
	switch {
	case r.err != nil:
		return 0, r.err
	case len(r.body) != 0:
		return 0, perr(t, "MAC", ErrLength)
	case !status.Valid():
		return 0, perr(t, "Status", ErrTSField)
	}
	*m = TSAdmitResponse{Status: status, Sender: sender, Challenge: ch, ClientID: id, Group: group, MAC: mac}
	return n, nil
}
