package ipv6

import "net/netip"

// PseudoHeaderSum is the 32-bit one's-complement partial sum of the IPv6
// pseudo-header (RFC 8200 §8.1): source, destination, upper-layer packet
// length and next header. Feed it to Checksum.
func PseudoHeaderSum(src, dst netip.Addr, length uint32, proto uint8) uint32 {
	s, d := src.As16(), dst.As16()
	acc := sum(s[:], 0)
	acc = sum(d[:], acc)
	acc += length>>16 + length&0xffff
	return acc + uint32(proto)
}

// Checksum finishes an Internet checksum (RFC 1071) over b starting from
// the partial sum acc: the one's complement of the folded sum.
func Checksum(b []byte, acc uint32) uint16 { return ^fold(sum(b, acc)) }

// UpperLayerChecksum computes the checksum of an upper-layer message (UDP
// datagram or ICMPv6 message) whose checksum field is zero, over the
// pseudo-header of src, dst and proto (RFC 8200 §8.1, RFC 4443 §2.3).
// For UDP a result of zero must be sent as 0xffff (RFC 8200 §8.1); use
// UDPChecksum for that.
func UpperLayerChecksum(src, dst netip.Addr, proto uint8, msg []byte) uint16 {
	return Checksum(msg, PseudoHeaderSum(src, dst, uint32(len(msg)), proto))
}

// VerifyChecksum reports whether msg, including its checksum field, sums to
// 0xffff over the pseudo-header.
func VerifyChecksum(src, dst netip.Addr, proto uint8, msg []byte) bool {
	return fold(sum(msg, PseudoHeaderSum(src, dst, uint32(len(msg)), proto))) == 0xffff
}

// sum adds b as big-endian 16-bit words to acc. Long inputs are folded as
// they go so acc never overflows.
func sum(b []byte, acc uint32) uint32 {
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		if acc >= 0x80000000 {
			acc = acc>>16 + acc&0xffff
		}
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

func fold(acc uint32) uint16 {
	for acc > 0xffff {
		acc = acc>>16 + acc&0xffff
	}
	return uint16(acc)
}
