package rplmsg

import (
	"encoding/binary"
	"net/netip"
)

// RouteInfo is the Route Information option (RFC 6550 §6.7.5, the RFC 4191
// format):
//
//	type 3 | len | prefix length | resvd(3) Prf(2) resvd(3) |
//	route lifetime (32) | prefix (variable, (prefix length+7)/8 octets)
//
// Prefix holds the prefix octets; octets past (PrefixLen+7)/8 are ignored
// on decode and sent as zero.
type RouteInfo struct {
	PrefixLen uint8
	Prf       uint8 // route preference, 2 bits
	Lifetime  uint32
	Prefix    netip.Addr
}

func (RouteInfo) Type() uint8 { return OptRouteInfo }
func (r RouteInfo) Len() int  { return 2 + 6 + rioPrefixOctets(r.PrefixLen) }

// rioPrefixOctets sizes the prefix field as RFC 4191 §2.3 does (0, 8 or 16
// octets), which is what Wireshark and ND implementations expect; RFC 6550
// §6.7.5 allows any length, and the decoder accepts any.
func rioPrefixOctets(bits uint8) int {
	switch {
	case bits == 0:
		return 0
	case bits <= 64:
		return 8
	}
	return 16
}

// AppendBinary appends the option with a 0, 8 or 16-octet prefix field.
func (r RouteInfo) AppendBinary(b []byte) ([]byte, error) {
	if r.PrefixLen > 128 || r.Prf > 3 {
		return b, perr("Route Information", "prefix length", ErrInvalid)
	}
	if !validAddr(r.Prefix) {
		return b, perr("Route Information", "prefix", ErrAddress)
	}
	b = append(b, OptRouteInfo, byte(r.Len()-2), r.PrefixLen, r.Prf<<3)
	b = binary.BigEndian.AppendUint32(b, r.Lifetime)
	v := r.Prefix.As16()
	n := rioPrefixOctets(r.PrefixLen)
	clear(v[prefixOctets(r.PrefixLen):]) // bits past the prefix: reserved, zero
	return append(b, v[:n]...), nil
}

func decodeRouteInfo(body []byte) (Option, error) {
	const name = "Route Information"
	if len(body) < 6 || len(body) > 6+16 {
		return nil, perr(name, "length", ErrLength)
	}
	r := RouteInfo{
		PrefixLen: body[0],
		Prf:       (body[1] >> 3) & 3,
		Lifetime:  binary.BigEndian.Uint32(body[2:]),
	}
	if r.PrefixLen > 128 || len(body)-6 < prefixOctets(r.PrefixLen) {
		return nil, perr(name, "prefix length", ErrInvalid)
	}
	// Octets past the prefix length are padding and ignored.
	r.Prefix = prefixFrom(body[6 : 6+prefixOctets(r.PrefixLen)])
	return r, nil
}
