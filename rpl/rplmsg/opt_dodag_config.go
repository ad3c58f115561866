package rplmsg

import "encoding/binary"

// DODAGConfig is the DODAG Configuration option (RFC 6550 §6.7.6):
//
//	type 4 | len 14 | flags(4) A(1) PCS(3) | DIOIntDoubl | DIOIntMin |
//	DIORedun | MaxRankIncrease(16) | MinHopRankIncrease(16) | OCP(16) |
//	reserved | Def. Lifetime | Lifetime Unit(16)
type DODAGConfig struct {
	Flags              uint8 // the 4 unassigned flag bits, as received
	Auth               bool  // A: authentication enabled
	PCS                uint8 // path control size, 3 bits
	DIOIntDoublings    uint8
	DIOIntMin          uint8 // Imin = 2^DIOIntMin ms
	DIORedundancy      uint8
	MaxRankIncrease    uint16
	MinHopRankIncrease uint16
	OCP                uint16 // objective code point: 0 OF0, 1 MRHOF
	Reserved           uint8
	DefaultLifetime    uint8
	LifetimeUnit       uint16 // seconds
}

// DefaultDODAGConfig holds the RFC 6550 §17 defaults (MaxRankIncrease 0
// disables the mechanism), with OCP 1 (MRHOF) and infinite lifetimes, as in
// testdata/06-* (scapy).
var DefaultDODAGConfig = DODAGConfig{
	PCS: 0, DIOIntDoublings: 20, DIOIntMin: 3, DIORedundancy: 10,
	MaxRankIncrease: 0, MinHopRankIncrease: 256, OCP: 1,
	DefaultLifetime: 0xff, LifetimeUnit: 0xffff,
}

func (DODAGConfig) Type() uint8 { return OptDODAGConfig }
func (DODAGConfig) Len() int    { return 16 }

// AppendBinary appends the option.
func (c DODAGConfig) AppendBinary(b []byte) ([]byte, error) {
	if c.Flags > 15 || c.PCS > 7 {
		return b, perr("DODAG Configuration", "flags", ErrInvalid)
	}
	f := c.Flags<<4 | c.PCS
	if c.Auth {
		f |= 0x08
	}
	b = append(b, OptDODAGConfig, 14, f, c.DIOIntDoublings, c.DIOIntMin, c.DIORedundancy)
	b = binary.BigEndian.AppendUint16(b, c.MaxRankIncrease)
	b = binary.BigEndian.AppendUint16(b, c.MinHopRankIncrease)
	b = binary.BigEndian.AppendUint16(b, c.OCP)
	b = append(b, c.Reserved, c.DefaultLifetime)
	return binary.BigEndian.AppendUint16(b, c.LifetimeUnit), nil
}

func decodeDODAGConfig(body []byte) (Option, error) {
	if len(body) != 14 {
		return nil, perr("DODAG Configuration", "length", ErrLength)
	}
	return DODAGConfig{
		Flags:              body[0] >> 4,
		Auth:               body[0]&0x08 != 0,
		PCS:                body[0] & 7,
		DIOIntDoublings:    body[1],
		DIOIntMin:          body[2],
		DIORedundancy:      body[3],
		MaxRankIncrease:    binary.BigEndian.Uint16(body[4:]),
		MinHopRankIncrease: binary.BigEndian.Uint16(body[6:]),
		OCP:                binary.BigEndian.Uint16(body[8:]),
		Reserved:           body[10],
		DefaultLifetime:    body[11],
		LifetimeUnit:       binary.BigEndian.Uint16(body[12:]),
	}, nil
}
