package mqttsn

import "errors"

// Shared field rules of the Trusted System extension messages (0xA0–0xAF,
// docs/protocol.md "Trusted System messages"). All integers are big-endian.

// TS extension message types.
const (
	TypeTSKeyRequest    MsgType = 0xA0
	TypeTSKeyResponse   MsgType = 0xA1
	TypeTSChallenge     MsgType = 0xA2
	TypeTSProof         MsgType = 0xA3
	TypeTSAdmitRequest  MsgType = 0xA4
	TypeTSAdmitResponse MsgType = 0xA5
)

// Sizes of TS message fields.
const (
	TSNonceLen    = 16 // requester nonces, TS nonces, gateway challenges
	TSMACLen      = 16 // truncated HMAC-SHA256 tags and proofs
	TSMaxNameLen  = 23 // principal names are MQTT-SN client ids (§5.3.1)
	TSMaxGroupLen = 64 // patient group names
)

// TSStatus is the Status field of TS-KEYRESP and TS-ADMITRESP.
type TSStatus uint8

const (
	TSOK          TSStatus = 0 // key issued / client admitted
	TSUnknown     TSStatus = 1 // the principal is not registered
	TSRevoked     TSStatus = 2 // the principal is revoked
	TSDenied      TSStatus = 3 // not allowed: group not on the access list, not a node, wrong group
	TSBadAuth     TSStatus = 4 // request MAC or admission proof does not verify
	TSUnknownKey  TSStatus = 5 // the key asked for does not exist (or expired and was purged)
	TSBadRequest  TSStatus = 6 // unsupported suite, flags or combination
	TSUnavailable TSStatus = 7 // the TS could not serve the request (internal error)
)

var tsStatusNames = [...]string{"ok", "unknown principal", "revoked", "denied", "bad authentication",
	"unknown key", "bad request", "unavailable"}

// Valid reports whether s is a defined status.
func (s TSStatus) Valid() bool { return int(s) < len(tsStatusNames) }

func (s TSStatus) String() string {
	if s.Valid() {
		return tsStatusNames[s]
	}
	return "reserved status"
}

// ErrTSField is carried in a *ParseError for a TS field outside its rules:
// a name or group of the wrong length or not printable ASCII, a reserved
// flag, an undefined status.
var ErrTSField = errors.New("invalid TS field")

// tsIdent checks a name or group: 1..max octets of printable ASCII without
// the MQTT wildcards '+' '#' and without '/' (names and groups appear
// inside topic filters and file names).
func tsIdent(t MsgType, field string, v []byte, max int) error {
	if len(v) < 1 || len(v) > max {
		return perr(t, field, ErrTSField)
	}
	for _, c := range v {
		if c <= 0x20 || c >= 0x7f || c == '+' || c == '#' || c == '/' {
			return perr(t, field, ErrTSField)
		}
	}
	return nil
}

// ValidTSName reports whether s is acceptable as a principal name.
func ValidTSName(s string) bool { return tsIdent(0, "", []byte(s), TSMaxNameLen) == nil }

// ValidTSGroup reports whether s is acceptable as a patient group name.
func ValidTSGroup(s string) bool { return tsIdent(0, "", []byte(s), TSMaxGroupLen) == nil }

// tsReader reads fields from a body, remembering the first error.
type tsReader struct {
	t    MsgType
	body []byte
	err  error
}

func (r *tsReader) fixed(field string, n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.body) < n {
		r.err = perr(r.t, field, ErrTruncated)
		return nil
	}
	v := r.body[:n:n]
	r.body = r.body[n:]
	return v
}

func (r *tsReader) u8(field string) uint8 {
	if v := r.fixed(field, 1); v != nil {
		return v[0]
	}
	return 0
}

func (r *tsReader) u16(field string) uint16 {
	if v := r.fixed(field, 2); v != nil {
		return be16(v)
	}
	return 0
}

func (r *tsReader) u32(field string) uint32 {
	if v := r.fixed(field, 4); v != nil {
		return uint32(v[0])<<24 | uint32(v[1])<<16 | uint32(v[2])<<8 | uint32(v[3])
	}
	return 0
}

// ident reads Len(1) Value(Len) and checks it with tsIdent.
func (r *tsReader) ident(field string, max int) []byte {
	n := int(r.u8(field))
	v := r.fixed(field, n)
	if r.err == nil {
		r.err = tsIdent(r.t, field, v, max)
	}
	return v
}

func append32(b []byte, v uint32) []byte {
	return append(b, byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

func appendIdent(b, v []byte) []byte { return append(append(b, byte(len(v))), v...) }

// fixedField checks that a fixed-size field an encoder was given has its size.
func fixedField(t MsgType, field string, v []byte, n int) error {
	if len(v) != n {
		return perr(t, field, ErrLength)
	}
	return nil
}
