// Package mqttsn encodes and decodes MQTT-SN v1.2 messages (MQTT For Sensor
// Networks, Stanford-Clark and Truong, IBM, 2013), plus the extension
// messages lsmqtt defines in the message type range v1.2 reserves.
//
// It imports nothing outside the standard library and never panics on any
// input: every decoder checks bounds before each read and reports problems as
// a *ParseError naming the message type and field, whose Err is one of the
// package's sentinel errors (ErrTruncated, ErrLength, ErrReservedFlags, ...).
//
// # Shape
//
// Each message is a small struct (Publish, Connect, ...) implementing
// Message: Len reports exactly how many octets AppendBinary appends, and
// AppendBinary appends the whole message (Length, MsgType and variable part)
// to a caller's buffer, choosing the 1-octet Length form below 256 octets and
// the 3-octet form (0x01 + 2 octets) from 256 octets on (MQTT-SN v1.2 §5.2.1).
// Encoding validates the same rules decoding does, so anything AppendBinary
// produces decodes again.
//
// Each message also has a typed Decode(b) (n int, err error) that decodes the
// message at the start of b and returns the octets consumed. Typed decoders
// allocate nothing: variable-length fields (topic names, client ids, data,
// will topic and message, gateway address, wireless node id) ALIAS b and are
// only valid while b is. Copy them when they must outlive the read buffer.
// ReadHeader reads the Length and MsgType fields without allocating. The
// package function Decode allocates the message struct and returns it behind
// the Message interface; it still aliases b.
//
// # Extensions
//
// Reserved message types (0x03, 0x11, 0x19, 0x1E–0xFD, 0xFF) decode to
// *Unknown, which keeps the body intact so nothing is lost. An extension
// message (lsmqtt uses 0xA0–0xAF for the Trusted System and 0xB0–0xBF for
// gateway-to-gateway handover) lives in its own file of this package and
// calls RegisterExtension from an init function; from then on Decode returns
// the typed message. docs/protocol.md describes the procedure and lists every
// type number in use.
package mqttsn
