package ipv6

// IsExtHeader reports whether proto is an extension header this package can
// skip: Hop-by-Hop Options, Routing, Fragment or Destination Options
// (RFC 8200 §4).
func IsExtHeader(proto uint8) bool {
	switch proto {
	case ProtoHopByHop, ProtoRouting, ProtoFragment, ProtoDestOpts:
		return true
	}
	return false
}

// ExtHeaderLen returns the next header and total length of the extension
// header of type proto at the start of b: 8 octets for Fragment (RFC 8200
// §4.5), (Hdr Ext Len + 1) * 8 for the others (§4.3, §4.4, §4.6).
func ExtHeaderLen(proto uint8, b []byte) (next uint8, n int, err error) {
	if !IsExtHeader(proto) {
		return 0, 0, perr("extension", "type", ErrExtHeader)
	}
	if len(b) < 2 {
		return 0, 0, perr("extension", "header", ErrTruncated)
	}
	n = 8
	if proto != ProtoFragment {
		n = (int(b[1]) + 1) * 8
	}
	if len(b) < n {
		return 0, 0, perr("extension", "body", ErrTruncated)
	}
	return b[0], n, nil
}

// UpperLayer skips the extension headers of an IPv6 packet and returns the
// upper-layer protocol and the offset of its header in pkt.
func UpperLayer(pkt []byte) (proto uint8, off int, err error) {
	h, _, err := DecodeHeader(pkt)
	if err != nil {
		return 0, 0, err
	}
	proto, off = h.NextHeader, HeaderLen
	for IsExtHeader(proto) {
		next, n, err := ExtHeaderLen(proto, pkt[off:])
		if err != nil {
			return 0, 0, err
		}
		proto, off = next, off+n
	}
	return proto, off, nil
}
