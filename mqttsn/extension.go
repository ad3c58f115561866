package mqttsn

// Extension message types lsmqtt allocates inside the range v1.2 reserves
// (0x1E–0xFD). See docs/protocol.md for the table of types in use.
const (
	// ExtTrustFirst..ExtTrustLast: the Trusted System (key request and
	// response, admission challenge and proof).
	ExtTrustFirst MsgType = 0xA0
	ExtTrustLast  MsgType = 0xAF
	// ExtPeerFirst..ExtPeerLast: gateway-to-gateway handover.
	ExtPeerFirst MsgType = 0xB0
	ExtPeerLast  MsgType = 0xBF
)

type extension struct {
	name string
	new  func() Decoder
}

// extensions is written only by RegisterExtension from init functions, and
// read-only afterwards, so it needs no lock.
var extensions [256]extension

// RegisterExtension makes Decode, New and MsgType.String know an extension
// message type. Call it from an init function in the file that defines the
// message (mqttsn/ts_*.go, mqttsn/peer_*.go). newMsg returns a new zero
// message whose Type() is t.
//
// It panics — at program start, as a programming error — if t is not a type
// v1.2 reserves, is already registered, or name or newMsg is missing.
func RegisterExtension(t MsgType, name string, newMsg func() Decoder) {
	switch {
	case !t.IsReserved():
		panic("mqttsn: RegisterExtension: type " + t.String() + " is not reserved by MQTT-SN v1.2")
	case extensions[t].new != nil:
		panic("mqttsn: RegisterExtension: type " + t.String() + " registered twice")
	case name == "" || newMsg == nil:
		panic("mqttsn: RegisterExtension: missing name or constructor")
	}
	extensions[t] = extension{name: name, new: newMsg}
}

// IsExtension reports whether t is a registered extension type.
func (t MsgType) IsExtension() bool { return extensions[t].new != nil }
