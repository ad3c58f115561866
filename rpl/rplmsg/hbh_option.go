package rplmsg

// IPv6 option types of the RPL Option (RFC 6553 §3 assigns 0x63; RFC 9008
// §11.1 renumbers it 0x23). This package sends 0x63, as Contiki-NG, RIOT and
// smoltcp do, and accepts both.
const (
	OptTypeRPL     uint8 = 0x63
	OptTypeRPL9008 uint8 = 0x23
	rplOptDataLen        = 4
)

// RPLOption is the RPL Option carried in a Hop-by-Hop Options header
// (RFC 6553 §3):
//
//	option type | opt data len (4) | O R F flags(5) | RPLInstanceID | SenderRank (16)
type RPLOption struct {
	Down       bool  // O: the packet is expected to travel down
	RankError  bool  // R
	FwdError   bool  // F
	Flags      uint8 // the 5 other flag bits, as received
	InstanceID uint8
	SenderRank uint16
}

// Len is the option length including type and length octets.
func (RPLOption) Len() int { return 2 + rplOptDataLen }

// AppendBinary appends the option TLV.
func (o RPLOption) AppendBinary(b []byte) ([]byte, error) {
	if o.Flags > 0x1f {
		return b, perr("RPL option", "flags", ErrInvalid)
	}
	f := o.Flags
	if o.Down {
		f |= 0x80
	}
	if o.RankError {
		f |= 0x40
	}
	if o.FwdError {
		f |= 0x20
	}
	return append(b, OptTypeRPL, rplOptDataLen, f, o.InstanceID, byte(o.SenderRank>>8), byte(o.SenderRank)), nil
}

// DecodeRPLOption decodes the option TLV at the start of b.
func DecodeRPLOption(b []byte) (RPLOption, int, error) {
	if len(b) < 2 {
		return RPLOption{}, 0, perr("RPL option", "header", ErrTruncated)
	}
	if b[0] != OptTypeRPL && b[0] != OptTypeRPL9008 {
		return RPLOption{}, 0, perr("RPL option", "type", ErrType)
	}
	if b[1] != rplOptDataLen {
		return RPLOption{}, 0, perr("RPL option", "length", ErrLength)
	}
	if len(b) < 6 {
		return RPLOption{}, 0, perr("RPL option", "body", ErrTruncated)
	}
	return RPLOption{
		Down:       b[2]&0x80 != 0,
		RankError:  b[2]&0x40 != 0,
		FwdError:   b[2]&0x20 != 0,
		Flags:      b[2] & 0x1f,
		InstanceID: b[3],
		SenderRank: uint16(b[4])<<8 | uint16(b[5]),
	}, 6, nil
}

// AppendHopByHop appends a complete 8-octet Hop-by-Hop Options header
// (RFC 8200 §4.3) holding only the RPL option, followed by next.
func AppendHopByHop(b []byte, next uint8, o RPLOption) ([]byte, error) {
	return o.AppendBinary(append(b, next, 0))
}

// FindRPLOption looks for the RPL option in a Hop-by-Hop Options header
// hbh (next header and length octets included), skipping Pad1, PadN and
// other options. It returns the option and its offset in hbh, so a router
// can rewrite the flags and rank in place; ok is false if absent.
func FindRPLOption(hbh []byte) (o RPLOption, off int, ok bool, err error) {
	if len(hbh) < 2 {
		return RPLOption{}, 0, false, perr("Hop-by-Hop", "header", ErrTruncated)
	}
	end := (int(hbh[1]) + 1) * 8
	if len(hbh) < end {
		return RPLOption{}, 0, false, perr("Hop-by-Hop", "options", ErrTruncated)
	}
	for i := 2; i < end; {
		if hbh[i] == 0 { // Pad1 (RFC 8200 §4.2)
			i++
			continue
		}
		if i+2 > end || i+2+int(hbh[i+1]) > end {
			return RPLOption{}, 0, false, perr("Hop-by-Hop", "option", ErrTruncated)
		}
		if hbh[i] == OptTypeRPL || hbh[i] == OptTypeRPL9008 {
			o, _, err := DecodeRPLOption(hbh[i:end])
			if err != nil {
				return RPLOption{}, 0, false, err
			}
			return o, i, true, nil
		}
		i += 2 + int(hbh[i+1])
	}
	return RPLOption{}, 0, false, nil
}
