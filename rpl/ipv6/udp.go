package ipv6

import (
	"encoding/binary"
	"net/netip"
)

// UDPHeaderLen is the length of the UDP header.
const UDPHeaderLen = 8

// UDPHeader is the UDP header (RFC 768).
type UDPHeader struct {
	SrcPort, DstPort uint16
	Length           uint16 // header plus data
	Checksum         uint16
}

// Len is UDPHeaderLen.
func (u *UDPHeader) Len() int { return UDPHeaderLen }

// AppendBinary appends the 8-octet header as it stands.
func (u *UDPHeader) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, u.SrcPort)
	b = binary.BigEndian.AppendUint16(b, u.DstPort)
	b = binary.BigEndian.AppendUint16(b, u.Length)
	return binary.BigEndian.AppendUint16(b, u.Checksum), nil
}

// DecodeUDPHeader decodes the UDP header at the start of b.
func DecodeUDPHeader(b []byte) (UDPHeader, int, error) {
	if len(b) < UDPHeaderLen {
		return UDPHeader{}, 0, perr("udp", "header", ErrTruncated)
	}
	return UDPHeader{
		SrcPort:  binary.BigEndian.Uint16(b),
		DstPort:  binary.BigEndian.Uint16(b[2:]),
		Length:   binary.BigEndian.Uint16(b[4:]),
		Checksum: binary.BigEndian.Uint16(b[6:]),
	}, UDPHeaderLen, nil
}

// UDPChecksum computes the checksum of a UDP datagram (header with a zero
// checksum field, plus data); zero is sent as 0xffff (RFC 8200 §8.1).
func UDPChecksum(src, dst netip.Addr, datagram []byte) uint16 {
	c := UpperLayerChecksum(src, dst, ProtoUDP, datagram)
	if c == 0 {
		c = 0xffff
	}
	return c
}

// AppendUDPPacket appends a complete IPv6 packet carrying one UDP datagram
// with a correct checksum (hop limit hop).
func AppendUDPPacket(b []byte, src, dst netip.AddrPort, hop uint8, data []byte) ([]byte, error) {
	n := UDPHeaderLen + len(data)
	if n > 0xffff {
		return b, perr("udp", "length", ErrLength)
	}
	h := Header{PayloadLen: uint16(n), NextHeader: ProtoUDP, HopLimit: hop, Src: src.Addr(), Dst: dst.Addr()}
	b, err := h.AppendBinary(b)
	if err != nil {
		return b, err
	}
	start := len(b)
	u := UDPHeader{SrcPort: src.Port(), DstPort: dst.Port(), Length: uint16(n)}
	b, _ = u.AppendBinary(b)
	b = append(b, data...)
	c := UDPChecksum(h.Src, h.Dst, b[start:])
	binary.BigEndian.PutUint16(b[start+6:], c)
	return b, nil
}

// UDP splits an IPv6 packet whose next header is UDP into its header, UDP
// header and data, checking the lengths and the checksum. data aliases pkt.
func UDP(pkt []byte) (h Header, u UDPHeader, data []byte, err error) {
	h, payload, err := Packet(pkt)
	if err != nil {
		return Header{}, UDPHeader{}, nil, err
	}
	if h.NextHeader != ProtoUDP {
		return Header{}, UDPHeader{}, nil, perr("udp", "next header", ErrExtHeader)
	}
	u, n, err := DecodeUDPHeader(payload)
	if err != nil {
		return Header{}, UDPHeader{}, nil, err
	}
	if int(u.Length) != len(payload) {
		return Header{}, UDPHeader{}, nil, perr("udp", "length", ErrLength)
	}
	if u.Checksum == 0 || !VerifyChecksum(h.Src, h.Dst, ProtoUDP, payload) {
		return Header{}, UDPHeader{}, nil, perr("udp", "checksum", ErrChecksum)
	}
	return h, u, payload[n:], nil
}
