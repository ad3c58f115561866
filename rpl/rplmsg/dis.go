package rplmsg

// DIS is the DODAG Information Solicitation (RFC 6550 §6.2):
//
//	flags | reserved | options (Pad1, PadN, Solicited Information)
type DIS struct {
	Flags    uint8
	Reserved uint8
	Options  []Option
}

func (*DIS) Code() uint8 { return CodeDIS }

func (d *DIS) Len() int { return ICMPHeaderLen + 2 + optionsLen(d.Options) }

// AppendBinary appends the ICMPv6 message with a zero checksum.
func (d *DIS) AppendBinary(b []byte) ([]byte, error) {
	b = append(appendICMPHeader(b, CodeDIS), d.Flags, d.Reserved)
	return appendOptions(b, d.Options)
}

func decodeDIS(b []byte) (*DIS, error) {
	if len(b) < 2 {
		return nil, perr("DIS", "base", ErrTruncated)
	}
	opts, err := DecodeOptions(b[2:])
	if err != nil {
		return nil, err
	}
	return &DIS{Flags: b[0], Reserved: b[1], Options: opts}, nil
}
