package rplmsg

import "net/netip"

// DAO is the Destination Advertisement Object (RFC 6550 §6.4.1):
//
//	RPLInstanceID | K D flags(6) | reserved | DAOSequence |
//	[DODAGID (128) when D] | options (Target, Transit, ...)
//
// D is implied by a valid DODAGID.
type DAO struct {
	InstanceID uint8
	AckRequest bool  // K
	Flags      uint8 // the 6 other flag bits, as received
	Reserved   uint8
	Seq        uint8
	DODAGID    netip.Addr // zero Addr: D=0, not sent
	Options    []Option
}

func (*DAO) Code() uint8 { return CodeDAO }

func (d *DAO) Len() int {
	n := ICMPHeaderLen + 4 + optionsLen(d.Options)
	if d.DODAGID.IsValid() {
		n += 16
	}
	return n
}

// AppendBinary appends the ICMPv6 message with a zero checksum.
func (d *DAO) AppendBinary(b []byte) ([]byte, error) {
	if d.Flags > 0x3f {
		return b, perr("DAO", "flags", ErrInvalid)
	}
	if d.DODAGID.IsValid() && !validAddr(d.DODAGID) {
		return b, perr("DAO", "DODAGID", ErrAddress)
	}
	f := d.Flags
	if d.AckRequest {
		f |= 0x80
	}
	if d.DODAGID.IsValid() {
		f |= 0x40
	}
	b = append(appendICMPHeader(b, CodeDAO), d.InstanceID, f, d.Reserved, d.Seq)
	if d.DODAGID.IsValid() {
		b = appendAddr(b, d.DODAGID)
	}
	return appendOptions(b, d.Options)
}

func decodeDAO(b []byte) (*DAO, error) {
	if len(b) < 4 {
		return nil, perr("DAO", "base", ErrTruncated)
	}
	d := &DAO{InstanceID: b[0], AckRequest: b[1]&0x80 != 0, Flags: b[1] & 0x3f, Reserved: b[2], Seq: b[3]}
	off := 4
	if b[1]&0x40 != 0 {
		if len(b) < 20 {
			return nil, perr("DAO", "DODAGID", ErrTruncated)
		}
		d.DODAGID = addr16(b[4:])
		off = 20
	}
	opts, err := DecodeOptions(b[off:])
	if err != nil {
		return nil, err
	}
	d.Options = opts
	return d, nil
}

// Targets returns the RPL Target options of the DAO.
func (d *DAO) Targets() []Target {
	var ts []Target
	for _, o := range d.Options {
		if t, ok := o.(Target); ok {
			ts = append(ts, t)
		}
	}
	return ts
}

// Transit returns the DAO's first Transit Information option, if present.
func (d *DAO) Transit() (Transit, bool) {
	for _, o := range d.Options {
		if t, ok := o.(Transit); ok {
			return t, true
		}
	}
	return Transit{}, false
}
