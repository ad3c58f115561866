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
// Prefix carries the address bits as received (bits past PrefixLen are
// reserved and sent as they stand).
type RouteInfo struct {
	PrefixLen uint8
	Prf       uint8 // route preference, 2 bits
	Lifetime  uint32
	Prefix    netip.Addr
}

func (RouteInfo) Type() uint8 { return OptRouteInfo }
func (r RouteInfo) Len() int  { return 2 + 6 + prefixOctets(r.PrefixLen) }

// AppendBinary appends the option with the shortest prefix field.
func (r RouteInfo) AppendBinary(b []byte) ([]byte, error) {
	if r.PrefixLen > 128 || r.Prf > 3 {
		return b, perr("Route Information", "prefix length", ErrInvalid)
	}
	if !validAddr(r.Prefix) {
		return b, perr("Route Information", "prefix", ErrAddress)
	}
	b = append(b, OptRouteInfo, byte(r.Len()-2), r.PrefixLen, r.Prf<<3)
	b = binary.BigEndian.AppendUint32(b, r.Lifetime)
	return appendPrefix(b, r.Prefix, r.PrefixLen), nil
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
		Prefix:    prefixFrom(body[6:]),
	}
	if r.PrefixLen > 128 || len(body)-6 < prefixOctets(r.PrefixLen) {
		return nil, perr(name, "prefix length", ErrInvalid)
	}
	return r, nil
}
