package gateway

// Message type names used as metric labels. MQTT-SN v1.2 §5.2.2, Table 3;
// the extension ranges are lsmqtt's (docs/protocol.md).
var v12TypeNames = map[byte]string{
	0x00: "ADVERTISE", 0x01: "SEARCHGW", 0x02: "GWINFO", 0x04: "CONNECT", 0x05: "CONNACK",
	0x06: "WILLTOPICREQ", 0x07: "WILLTOPIC", 0x08: "WILLMSGREQ", 0x09: "WILLMSG",
	0x0A: "REGISTER", 0x0B: "REGACK", 0x0C: "PUBLISH", 0x0D: "PUBACK", 0x0E: "PUBCOMP",
	0x0F: "PUBREC", 0x10: "PUBREL", 0x12: "SUBSCRIBE", 0x13: "SUBACK", 0x14: "UNSUBSCRIBE",
	0x15: "UNSUBACK", 0x16: "PINGREQ", 0x17: "PINGRESP", 0x18: "DISCONNECT",
	0x1A: "WILLTOPICUPD", 0x1B: "WILLTOPICRESP", 0x1C: "WILLMSGUPD", 0x1D: "WILLMSGRESP",
	0xFE: "ENCAPSULATED",
}

// Extension ranges: the Trusted System's and gateway-to-gateway handover's.
const (
	extTrustFirst    = 0xA0
	extTrustLast     = 0xAF
	extHandoverFirst = 0xB0
	extHandoverLast  = 0xBF
)

func isExtensionType(t byte) bool {
	return (t >= extTrustFirst && t <= extTrustLast) || (t >= extHandoverFirst && t <= extHandoverLast)
}

// isTrustType reports whether t is in the Trusted System's range, the one
// admission exchanges use.
func isTrustType(t byte) bool { return t >= extTrustFirst && t <= extTrustLast }

func msgTypeName(t byte) string {
	if n, ok := v12TypeNames[t]; ok {
		return n
	}
	switch {
	case isTrustType(t):
		return "EXT_TRUST"
	case isExtensionType(t):
		return "EXT_HANDOVER"
	}
	return "RESERVED"
}
