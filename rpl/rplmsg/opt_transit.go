package rplmsg

import "net/netip"

// Transit is the Transit Information option (RFC 6550 §6.7.8):
//
//	type 6 | len 4 or 20 | E(1) flags(7) | path control | path sequence |
//	path lifetime | [parent address (128), non-storing mode]
type Transit struct {
	External     bool  // E
	Flags        uint8 // the 7 other flag bits, as received
	PathControl  uint8
	PathSequence uint8
	PathLifetime uint8 // in DODAG Configuration lifetime units
	// Parent is the DAO parent in non-storing mode; the zero Addr omits it.
	Parent netip.Addr
}

func (Transit) Type() uint8 { return OptTransit }

func (t Transit) Len() int {
	if t.Parent.IsValid() {
		return 22
	}
	return 6
}

// AppendBinary appends the option.
func (t Transit) AppendBinary(b []byte) ([]byte, error) {
	if t.Flags > 0x7f {
		return b, perr("Transit Information", "flags", ErrInvalid)
	}
	if t.Parent.IsValid() && !validAddr(t.Parent) {
		return b, perr("Transit Information", "parent", ErrAddress)
	}
	f := t.Flags
	if t.External {
		f |= 0x80
	}
	b = append(b, OptTransit, byte(t.Len()-2), f, t.PathControl, t.PathSequence, t.PathLifetime)
	if t.Parent.IsValid() {
		b = appendAddr(b, t.Parent)
	}
	return b, nil
}

func decodeTransit(body []byte) (Option, error) {
	if len(body) != 4 && len(body) != 20 {
		return nil, perr("Transit Information", "length", ErrLength)
	}
	t := Transit{
		External:     body[0]&0x80 != 0,
		Flags:        body[0] & 0x7f,
		PathControl:  body[1],
		PathSequence: body[2],
		PathLifetime: body[3],
	}
	if len(body) == 20 {
		t.Parent = addr16(body[4:])
	}
	return t, nil
}
