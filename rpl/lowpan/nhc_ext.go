package lowpan

import "github.com/lsmqtt/lsmqtt/rpl/ipv6"

// NHC IPv6 extension header compression, RFC 6282 §4.2:
//
//	1 1 1 0 EID(3) NH
//
// followed by the next header octet when NH=0, a length octet counting the
// header octets after it, and the header body (everything after the IPv6
// Next Header and Hdr Ext Len octets). Bodies are carried unchanged, so the
// RPL option (RFC 6553) and source routing header (RFC 6554) pass through.
const (
	nhcExt     = 0xe0
	nhcExtMask = 0xf0
	nhcExtNH   = 0x01
)

// Extension header identifiers (EID), RFC 6282 §4.2.
const (
	eidHopByHop = 0
	eidRouting  = 1
	eidFragment = 2
	eidDestOpts = 3
	eidMobility = 4
	eidIPv6     = 7
)

// eidOf maps a Next Header value to the EID this package compresses.
func eidOf(proto uint8) (uint8, bool) {
	switch proto {
	case ipv6.ProtoHopByHop:
		return eidHopByHop, true
	case ipv6.ProtoRouting:
		return eidRouting, true
	case ipv6.ProtoDestOpts:
		return eidDestOpts, true
	}
	return 0, false
}

// protoOfNHC returns the Next Header value an NHC octet stands for.
func protoOfNHC(d byte) (uint8, bool) {
	if d&nhcUDPMask == nhcUDP {
		return ipv6.ProtoUDP, true
	}
	if d&nhcExtMask == nhcExt {
		switch (d >> 1) & 7 {
		case eidHopByHop:
			return ipv6.ProtoHopByHop, true
		case eidRouting:
			return ipv6.ProtoRouting, true
		case eidDestOpts:
			return ipv6.ProtoDestOpts, true
		}
	}
	return 0, false
}

// compressible reports whether the header of type proto at the start of b
// (which runs to the end of the packet) can be NHC-compressed by this package.
func compressible(proto uint8, b []byte) bool {
	if proto == ipv6.ProtoUDP {
		// The length is elided (RFC 6282 §4.3.3), so only a UDP header
		// whose Length field is right can be compressed.
		return len(b) >= ipv6.UDPHeaderLen && int(b[4])<<8|int(b[5]) == len(b)
	}
	if _, ok := eidOf(proto); !ok {
		return false
	}
	_, n, err := ipv6.ExtHeaderLen(proto, b)
	return err == nil && n-2 <= 255
}

// appendNHCExt compresses the extension header h (of type proto, complete)
// whose own next header is next; nextNHC says whether that next header is
// itself NHC-compressed.
func appendNHCExt(b []byte, proto uint8, h []byte, nextNHC bool) []byte {
	eid, _ := eidOf(proto)
	d := byte(nhcExt | eid<<1)
	if nextNHC {
		b = append(b, d|nhcExtNH)
	} else {
		b = append(b, d, h[0])
	}
	b = append(b, byte(len(h)-2))
	return append(b, h[2:]...)
}

// decompressNHCExt appends the uncompressed extension header; its Next
// Header octet is written by the caller (when NH=1) at the returned nhPos.
func decompressNHCExt(out, in []byte, off *int) (o []byte, nhPos int, nhc bool, err error) {
	const field = "NHC extension header"
	v, err := take(in, off, 1, field)
	if err != nil {
		return out, 0, false, err
	}
	d := v[0]
	eid := (d >> 1) & 7
	var proto uint8
	switch eid {
	case eidHopByHop:
		proto = ipv6.ProtoHopByHop
	case eidRouting:
		proto = ipv6.ProtoRouting
	case eidDestOpts:
		proto = ipv6.ProtoDestOpts
	default:
		return out, 0, false, perr(field, ErrUnsupported)
	}
	nhPos = len(out)
	nhc = d&nhcExtNH != 0
	next := byte(0)
	if !nhc {
		n, err := take(in, off, 1, field)
		if err != nil {
			return out, 0, false, err
		}
		next = n[0]
	}
	l, err := take(in, off, 1, field)
	if err != nil {
		return out, 0, false, err
	}
	body, err := take(in, off, int(l[0]), field)
	if err != nil {
		return out, 0, false, err
	}
	total := 2 + len(body)
	padded := (total + 7) &^ 7
	pad := padded - total
	if pad != 0 && proto == ipv6.ProtoRouting {
		return out, 0, false, perr(field, ErrLength)
	}
	out = append(out, next, byte(padded/8-1))
	out = append(out, body...)
	// RFC 6282 §4.2: a decompressor pads options headers out to a multiple
	// of 8 octets with Pad1 or PadN (RFC 8200 §4.2).
	switch {
	case pad == 1:
		out = append(out, 0)
	case pad > 1:
		out = append(out, 1, byte(pad-2))
		for range pad - 2 {
			out = append(out, 0)
		}
	}
	return out, nhPos, nhc, nil
}
