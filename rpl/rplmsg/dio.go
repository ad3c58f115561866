package rplmsg

import (
	"encoding/binary"
	"net/netip"
)

// Modes of operation (RFC 6550 §6.3.1).
const (
	MOPNoDownward      uint8 = 0
	MOPNonStoring      uint8 = 1
	MOPStoringNoMcast  uint8 = 2
	MOPStoringWithMcst uint8 = 3
)

// DIO is the DODAG Information Object (RFC 6550 §6.3.1):
//
//	RPLInstanceID | version | rank (16) | G 0 MOP(3) Prf(3) | DTSN |
//	flags | reserved | DODAGID (128) | options
type DIO struct {
	InstanceID uint8
	Version    uint8
	Rank       uint16
	Grounded   bool  // G
	MOP        uint8 // mode of operation, 3 bits
	Prf        uint8 // DODAG preference, 3 bits
	DTSN       uint8
	Flags      uint8
	Reserved   uint8
	DODAGID    netip.Addr
	Options    []Option
}

const dioBaseLen = 24

func (*DIO) Code() uint8 { return CodeDIO }

func (d *DIO) Len() int { return ICMPHeaderLen + dioBaseLen + optionsLen(d.Options) }

// AppendBinary appends the ICMPv6 message with a zero checksum.
func (d *DIO) AppendBinary(b []byte) ([]byte, error) {
	if d.MOP > 7 || d.Prf > 7 {
		return b, perr("DIO", "MOP/Prf", ErrInvalid)
	}
	if !validAddr(d.DODAGID) {
		return b, perr("DIO", "DODAGID", ErrAddress)
	}
	g := d.MOP<<3 | d.Prf
	if d.Grounded {
		g |= 0x80
	}
	b = append(appendICMPHeader(b, CodeDIO), d.InstanceID, d.Version)
	b = binary.BigEndian.AppendUint16(b, d.Rank)
	b = append(b, g, d.DTSN, d.Flags, d.Reserved)
	b = appendAddr(b, d.DODAGID)
	return appendOptions(b, d.Options)
}

func decodeDIO(b []byte) (*DIO, error) {
	if len(b) < dioBaseLen {
		return nil, perr("DIO", "base", ErrTruncated)
	}
	opts, err := DecodeOptions(b[dioBaseLen:])
	if err != nil {
		return nil, err
	}
	// Bit 0x40 of the G/MOP/Prf octet is unassigned and must be zero
	// (RFC 6550 §6.3.1); it is ignored here.
	return &DIO{
		InstanceID: b[0],
		Version:    b[1],
		Rank:       binary.BigEndian.Uint16(b[2:]),
		Grounded:   b[4]&0x80 != 0,
		MOP:        (b[4] >> 3) & 7,
		Prf:        b[4] & 7,
		DTSN:       b[5],
		Flags:      b[6],
		Reserved:   b[7],
		DODAGID:    addr16(b[8:]),
		Options:    opts,
	}, nil
}

// Config returns the DIO's DODAG Configuration option, if present.
func (d *DIO) Config() (DODAGConfig, bool) {
	for _, o := range d.Options {
		if c, ok := o.(DODAGConfig); ok {
			return c, true
		}
	}
	return DODAGConfig{}, false
}

// PrefixInfo returns the DIO's first Prefix Information option, if present.
func (d *DIO) PrefixInfo() (PrefixInfo, bool) {
	for _, o := range d.Options {
		if p, ok := o.(PrefixInfo); ok {
			return p, true
		}
	}
	return PrefixInfo{}, false
}
