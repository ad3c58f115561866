package rplmsg

import "net/netip"

// appendAddr appends the 16 octets of an IPv6 address.
func appendAddr(b []byte, a netip.Addr) []byte {
	v := a.As16()
	return append(b, v[:]...)
}

func addr16(b []byte) netip.Addr { return netip.AddrFrom16([16]byte(b[:16])) }

func validAddr(a netip.Addr) bool { return a.Is6() && a.Zone() == "" }

// appendPrefix appends the first (bits+7)/8 octets of a: the
// variable-length prefix field of the Route Information and RPL Target
// options (RFC 6550 §6.7.5, §6.7.7).
func appendPrefix(b []byte, a netip.Addr, bits uint8) []byte {
	v := a.As16()
	return append(b, v[:prefixOctets(bits)]...)
}

func prefixOctets(bits uint8) int { return (int(bits) + 7) / 8 }

// prefixFrom reads a variable-length prefix field, zero-filling the rest.
func prefixFrom(b []byte) netip.Addr {
	var v [16]byte
	copy(v[:], b)
	return netip.AddrFrom16(v)
}

func addrFrom(v [16]byte) netip.Addr { return netip.AddrFrom16(v) }
