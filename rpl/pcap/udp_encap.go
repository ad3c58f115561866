package pcap

import (
	"encoding/binary"
	"errors"
	"net/netip"
)

// ErrEncap is returned by AppendIPv4UDP for non-IPv4 addresses or an
// oversized payload.
var ErrEncap = errors.New("pcap: cannot encapsulate in IPv4/UDP")

// AppendIPv4UDP appends an IPv4 header (RFC 791) and a UDP header (RFC 768)
// with correct checksums around payload, so that a captured datagram — a ZEP
// packet, say — can be written to a LinkTypeIPv4 file and dissected by its
// UDP port.
func AppendIPv4UDP(b []byte, src, dst netip.AddrPort, payload []byte) ([]byte, error) {
	if !src.Addr().Is4() || !dst.Addr().Is4() || len(payload) > 65535-28 {
		return b, ErrEncap
	}
	total := 20 + 8 + len(payload)
	start := len(b)
	s, d := src.Addr().As4(), dst.Addr().As4()
	b = append(b, 0x45, 0, byte(total>>8), byte(total), 0, 0, 0x40, 0, 64, 17, 0, 0)
	b = append(b, s[:]...)
	b = append(b, d[:]...)
	c := ^fold(sum(b[start:start+20], 0))
	binary.BigEndian.PutUint16(b[start+10:], c)
	u := len(b)
	ul := 8 + len(payload)
	b = binary.BigEndian.AppendUint16(b, src.Port())
	b = binary.BigEndian.AppendUint16(b, dst.Port())
	b = binary.BigEndian.AppendUint16(b, uint16(ul))
	b = append(b, 0, 0)
	b = append(b, payload...)
	// RFC 768 pseudo-header: src, dst, zero, protocol, UDP length.
	acc := sum(s[:], 0)
	acc = sum(d[:], acc)
	acc += 17 + uint32(ul)
	ck := ^fold(sum(b[u:], acc))
	if ck == 0 {
		ck = 0xffff
	}
	binary.BigEndian.PutUint16(b[u+6:], ck)
	return b, nil
}

func sum(b []byte, acc uint32) uint32 {
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
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
