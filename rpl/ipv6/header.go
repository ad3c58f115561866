package ipv6

import (
	"encoding/binary"
	"net/netip"
)

// HeaderLen is the length of the fixed IPv6 header.
const HeaderLen = 40

// Header is the fixed IPv6 header (RFC 8200 §3):
//
//	version(4) traffic class(8) flow label(20) | payload length(16)
//	next header(8) hop limit(8) | source(128) | destination(128)
type Header struct {
	TrafficClass uint8
	FlowLabel    uint32 // 20 bits
	PayloadLen   uint16
	NextHeader   uint8
	HopLimit     uint8
	Src, Dst     netip.Addr
}

// Len is HeaderLen.
func (h *Header) Len() int { return HeaderLen }

// AppendBinary appends the 40-octet header.
func (h *Header) AppendBinary(b []byte) ([]byte, error) {
	if !h.Src.Is6() || h.Src.Zone() != "" {
		return b, perr("ipv6", "source", ErrAddress)
	}
	if !h.Dst.Is6() || h.Dst.Zone() != "" {
		return b, perr("ipv6", "destination", ErrAddress)
	}
	if h.FlowLabel > 0xfffff {
		return b, perr("ipv6", "flow label", ErrLength)
	}
	v := 6<<28 | uint32(h.TrafficClass)<<20 | h.FlowLabel
	b = binary.BigEndian.AppendUint32(b, v)
	b = binary.BigEndian.AppendUint16(b, h.PayloadLen)
	b = append(b, h.NextHeader, h.HopLimit)
	s, d := h.Src.As16(), h.Dst.As16()
	b = append(b, s[:]...)
	return append(b, d[:]...), nil
}

// DecodeHeader decodes the fixed header at the start of b and returns it
// with HeaderLen consumed. It does not check PayloadLen against len(b).
func DecodeHeader(b []byte) (Header, int, error) {
	if len(b) < HeaderLen {
		return Header{}, 0, perr("ipv6", "header", ErrTruncated)
	}
	v := binary.BigEndian.Uint32(b)
	if v>>28 != 6 {
		return Header{}, 0, perr("ipv6", "version", ErrVersion)
	}
	return Header{
		TrafficClass: uint8(v >> 20),
		FlowLabel:    v & 0xfffff,
		PayloadLen:   binary.BigEndian.Uint16(b[4:]),
		NextHeader:   b[6],
		HopLimit:     b[7],
		Src:          netip.AddrFrom16([16]byte(b[8:24])),
		Dst:          netip.AddrFrom16([16]byte(b[24:40])),
	}, HeaderLen, nil
}

// Packet splits an IPv6 packet into its header and payload, checking that
// the payload length matches. payload aliases pkt.
func Packet(pkt []byte) (h Header, payload []byte, err error) {
	h, n, err := DecodeHeader(pkt)
	if err != nil {
		return Header{}, nil, err
	}
	if int(h.PayloadLen) != len(pkt)-n {
		return Header{}, nil, perr("ipv6", "payload length", ErrLength)
	}
	return h, pkt[n:], nil
}
