// Package ipv6 is a minimal IPv6 codec for the emulated 6LoWPAN mesh: the
// fixed header (RFC 8200 §3), walking extension headers (RFC 8200 §4), the
// UDP header (RFC 768) and the upper-layer checksum over the IPv6
// pseudo-header (RFC 8200 §8.1), used by UDP and ICMPv6 (RFC 4443 §2.3).
//
// Addresses are netip.Addr values (always 16-octet IPv6; an IPv4 or zoned
// address is rejected on encode). Decode functions return values that copy
// the fixed fields; nothing aliases the input except where documented.
// Nothing in this package panics on any input.
package ipv6
