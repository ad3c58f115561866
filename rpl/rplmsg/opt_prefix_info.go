package rplmsg

import (
	"encoding/binary"
	"net/netip"
)

// PrefixInfo is the Prefix Information option (RFC 6550 §6.7.10, the RFC
// 4861 §4.6.2 format); a root hands out the area prefix with it, and a
// node forms its address from a prefix with the A flag set.
//
//	type 8 | len 30 | prefix length | L A R reserved(5) | valid lifetime |
//	preferred lifetime | reserved2 (32) | prefix (128)
type PrefixInfo struct {
	PrefixLen  uint8
	OnLink     bool  // L
	Autonomous bool  // A
	Router     bool  // R: Prefix is the sender's full address
	Flags      uint8 // the 5 reserved bits, as received
	Valid      uint32
	Preferred  uint32
	Reserved2  uint32
	Prefix     netip.Addr
}

func (PrefixInfo) Type() uint8 { return OptPrefixInfo }
func (PrefixInfo) Len() int    { return 32 }

// AppendBinary appends the option.
func (p PrefixInfo) AppendBinary(b []byte) ([]byte, error) {
	if p.PrefixLen > 128 || p.Flags > 0x1f {
		return b, perr("Prefix Information", "prefix length", ErrInvalid)
	}
	if !validAddr(p.Prefix) {
		return b, perr("Prefix Information", "prefix", ErrAddress)
	}
	f := p.Flags
	if p.OnLink {
		f |= 0x80
	}
	if p.Autonomous {
		f |= 0x40
	}
	if p.Router {
		f |= 0x20
	}
	b = append(b, OptPrefixInfo, 30, p.PrefixLen, f)
	b = binary.BigEndian.AppendUint32(b, p.Valid)
	b = binary.BigEndian.AppendUint32(b, p.Preferred)
	b = binary.BigEndian.AppendUint32(b, p.Reserved2)
	return appendAddr(b, p.Prefix), nil
}

// Net returns the prefix as a masked netip.Prefix.
func (p PrefixInfo) Net() netip.Prefix {
	return netip.PrefixFrom(p.Prefix, int(min(p.PrefixLen, 128))).Masked()
}

func decodePrefixInfo(body []byte) (Option, error) {
	const name = "Prefix Information"
	if len(body) != 30 {
		return nil, perr(name, "length", ErrLength)
	}
	if body[0] > 128 {
		return nil, perr(name, "prefix length", ErrInvalid)
	}
	return PrefixInfo{
		PrefixLen:  body[0],
		OnLink:     body[1]&0x80 != 0,
		Autonomous: body[1]&0x40 != 0,
		Router:     body[1]&0x20 != 0,
		Flags:      body[1] & 0x1f,
		Valid:      binary.BigEndian.Uint32(body[2:]),
		Preferred:  binary.BigEndian.Uint32(body[6:]),
		Reserved2:  binary.BigEndian.Uint32(body[10:]),
		Prefix:     addr16(body[14:]),
	}, nil
}
