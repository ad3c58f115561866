package mqttsn

import "errors"

// Shared field rules of the handover extension messages (0xB0–0xBF,
// docs/protocol.md "Handover"). All integers are big-endian.
//
// Three of them travel between a node and a gateway (HO-TOKEN, HO-RESUME,
// HO-RESUMED); the others between two gateways over their peer sockets, and
// start with a PeerHeader and end with a MAC the receiving gateway checks
// under the key it shares with the sender (the codec only carries it: see
// PeerAuthData).

// Handover extension message types.
const (
	TypeHOToken    MsgType = 0xB0 // gateway → node: a session token
	TypeHOResume   MsgType = 0xB1 // node → visited gateway: resume my session
	TypeHOResumed  MsgType = 0xB2 // visited gateway → node: the answer
	TypeHOFetch    MsgType = 0xB3 // visited → home: send me this session
	TypeHOTransfer MsgType = 0xB4 // home → visited: the session (fetched or pushed)
	TypeHOConfirm  MsgType = 0xB5 // visited → home: installed, drop yours
	TypeHORefuse   MsgType = 0xB6 // either peer: no, with a reason
	TypeHOForward  MsgType = 0xB7 // home → visited: messages that arrived late
	TypeHOFwdAck   MsgType = 0xB8 // visited → home: forward received
)

// Sizes and bounds of handover fields.
const (
	HONameMaxLen  = 23 // gateway names: registered TS names (TSMaxNameLen)
	HOTokenMinLen = 16 // a token's first 16 octets are the challenge of a resume proof
	HOTokenMaxLen = 64
	HONonceLen    = 8  // PeerHeader nonce
	HOMACLen      = 16 // truncated HMAC-SHA256 of peer messages
	HOProofLen    = 16 // TS proof (TS-PROOF Proof)
	HOChallenge   = 16 // TS challenge length inside a session's admission record
)

// ErrHOField is carried in a *ParseError for a handover field outside its
// rules: a name or token of the wrong length, an undefined status or reason,
// a session record that does not hold together.
var ErrHOField = errors.New("invalid handover field")

// HOStatus is the Status of HO-RESUMED and the Reason of HO-REFUSE.
type HOStatus uint8

const (
	HOAccepted      HOStatus = 0  // resumed
	HOUnknownHome   HOStatus = 1  // the home gateway is not a peer of the visited one
	HOUnreachable   HOStatus = 2  // the home gateway did not answer
	HOUnknownClient HOStatus = 3  // the home gateway has no such session (any more)
	HOBadToken      HOStatus = 4  // the token is not the session's current token
	HOExpired       HOStatus = 5  // the token expired
	HONotAdmitted   HOStatus = 6  // the Trusted System refused the node (revoked, bad proof)
	HOBusy          HOStatus = 7  // no room or resources now
	HOProofRequired HOStatus = 8  // resume again with a proof of the node's secret
	HOBadRequest    HOStatus = 9  // malformed or not understood
	HOTooLarge      HOStatus = 10 // the session does not fit a transfer
)

var hoStatusNames = [...]string{"accepted", "unknown home", "home unreachable", "unknown client",
	"bad token", "token expired", "not admitted", "busy", "proof required", "bad request", "session too large"}

// Valid reports whether s is a defined status.
func (s HOStatus) Valid() bool { return int(s) < len(hoStatusNames) }

func (s HOStatus) String() string {
	if s.Valid() {
		return hoStatusNames[s]
	}
	return "reserved status"
}

// Error makes a refusal usable as an error.
func (s HOStatus) Error() string { return "handover: " + s.String() }

// PeerHeader starts every gateway-to-gateway handover message: who sends
// it, when (Unix milliseconds, the sender's clock) and a random nonce. With
// the MAC they let the receiver drop forged, replayed and stale messages.
//
//	FromLen(1) From(1..23) Time(8) Nonce(8)
type PeerHeader struct {
	From  []byte // the sending gateway's name
	Time  uint64 // Unix milliseconds
	Nonce []byte // HONonceLen random octets
}

func (h *PeerHeader) len() int { return 1 + len(h.From) + 8 + HONonceLen }

func (h *PeerHeader) check(t MsgType) error {
	if err := tsIdent(t, "From", h.From, HONameMaxLen); err != nil {
		return err
	}
	return fixedField(t, "Nonce", h.Nonce, HONonceLen)
}

func (h *PeerHeader) append(b []byte) []byte {
	b = appendIdent(b, h.From)
	b = append64(b, h.Time)
	return append(b, h.Nonce...)
}

func (h *PeerHeader) read(r *hoReader) {
	h.From = r.ident("From", HONameMaxLen)
	h.Time = r.u64("Time")
	h.Nonce = r.fixed("Nonce", HONonceLen)
}

// PeerAuthData splits an encoded peer message (HO-FETCH … HO-FWDACK) into
// what its MAC authenticates — the MsgType octet and the body up to the MAC
// — and the MAC. Both alias msg. It checks only the framing, not the fields:
// verify the MAC before decoding what it covers.
func PeerAuthData(msg []byte) (authData, mac []byte, err error) {
	h, err := ReadHeader(msg)
	if err != nil {
		return nil, nil, err
	}
	if h.Type < TypeHOFetch || h.Type > TypeHOFwdAck {
		return nil, nil, perr(h.Type, "MsgType", ErrType)
	}
	if h.Length-h.HeaderLen < HOMACLen {
		return nil, nil, perr(h.Type, "MAC", ErrTruncated)
	}
	end := h.Length - HOMACLen
	return msg[h.HeaderLen-1 : end], msg[end:h.Length], nil
}

// hoReader reads fields from a body, remembering the first error.
type hoReader struct {
	t    MsgType
	body []byte
	err  error
}

func (r *hoReader) fail(field string, err error) {
	if r.err == nil {
		r.err = perr(r.t, field, err)
	}
}

func (r *hoReader) fixed(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || len(r.body) < n {
		r.fail(field, ErrTruncated)
		return nil
	}
	v := r.body[:n:n]
	r.body = r.body[n:]
	return v
}

func (r *hoReader) u8(field string) uint8 {
	if v := r.fixed(field, 1); v != nil {
		return v[0]
	}
	return 0
}

func (r *hoReader) u16(field string) uint16 {
	if v := r.fixed(field, 2); v != nil {
		return be16(v)
	}
	return 0
}

func (r *hoReader) u32(field string) uint32 {
	if v := r.fixed(field, 4); v != nil {
		return uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	}
	return 0
}

func (r *hoReader) u64(field string) uint64 {
	var x uint64
	for _, c := range r.fixed(field, 8) {
		x = x<<8 | uint64(c)
	}
	return x
}

// ident reads Len(1) Value: a gateway name (TS name rules).
func (r *hoReader) ident(field string, max int) []byte {
	n := int(r.u8(field))
	v := r.fixed(field, n)
	if r.err == nil {
		r.err = tsIdent(r.t, field, v, max)
	}
	return v
}

// clientID reads Len(1) ClientId (1..23 octets, §5.3.1).
func (r *hoReader) clientID() []byte {
	n := int(r.u8("ClientId"))
	v := r.fixed("ClientId", n)
	if r.err == nil {
		r.err = checkClientID(r.t, v)
	}
	return v
}

// token reads Len(1) Token (HOTokenMinLen..HOTokenMaxLen octets).
func (r *hoReader) token() []byte {
	n := int(r.u8("Token"))
	v := r.fixed("Token", n)
	if r.err == nil {
		r.err = checkToken(r.t, v)
	}
	return v
}

// bytes16 reads Len(2) Value.
func (r *hoReader) bytes16(field string) []byte {
	n := int(r.u16(field))
	return r.fixed(field, n)
}

// mac reads the MAC and checks that nothing follows it.
func (r *hoReader) mac() []byte {
	mac := r.fixed("MAC", HOMACLen)
	if r.err == nil && len(r.body) != 0 {
		r.fail("MAC", ErrLength)
	}
	return mac
}

func checkToken(t MsgType, v []byte) error {
	if len(v) < HOTokenMinLen || len(v) > HOTokenMaxLen {
		return perr(t, "Token", ErrHOField)
	}
	return nil
}

func append64(b []byte, v uint64) []byte {
	return append32(append32(b, uint32(v>>32)), uint32(v))
}

func appendBytes16(b, v []byte) []byte { return append(append16(b, uint16(len(v))), v...) }

// checkPeer validates the parts every peer message shares.
func checkPeer(t MsgType, h *PeerHeader, clientID, mac []byte) error {
	if err := h.check(t); err != nil {
		return err
	}
	if err := checkClientID(t, clientID); err != nil {
		return err
	}
	return fixedField(t, "MAC", mac, HOMACLen)
}
