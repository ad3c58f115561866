package lowpan

// Dispatch values and patterns (RFC 4944 §5.1, RFC 6282 §3.1 and §4.1).
const (
	DispatchIPv6  = 0x41 // 01000001: uncompressed IPv6 header follows
	DispatchIPHC  = 0x60 // 011xxxxx (mask 0xe0)
	DispatchFrag1 = 0xc0 // 11000xxx (mask 0xf8)
	DispatchFragN = 0xe0 // 11100xxx (mask 0xf8)
)

// Kind classifies the first octet of a 6LoWPAN payload.
type Kind uint8

// Kinds of 6LoWPAN payload.
const (
	KindUnsupported Kind = iota // NALP, HC1, BC0, mesh, ESC, reserved
	KindIPv6                    // uncompressed IPv6
	KindIPHC
	KindFrag1
	KindFragN
)

// Classify returns the kind of a 6LoWPAN payload from its dispatch octet.
func Classify(b []byte) Kind {
	if len(b) == 0 {
		return KindUnsupported
	}
	switch d := b[0]; {
	case d == DispatchIPv6:
		return KindIPv6
	case d&0xe0 == DispatchIPHC:
		return KindIPHC
	case d&0xf8 == DispatchFrag1:
		return KindFrag1
	case d&0xf8 == DispatchFragN:
		return KindFragN
	}
	return KindUnsupported
}
