package lowpan

// Fragment headers, RFC 4944 §5.3:
//
//	FRAG1: 1 1 0 0 0 datagram_size(11) | datagram_tag(16)
//	FRAGN: 1 1 1 0 0 datagram_size(11) | datagram_tag(16) | datagram_offset(8)
//
// datagram_size counts the octets of the uncompressed IPv6 datagram;
// datagram_offset counts 8-octet units of it.
const (
	Frag1Len = 4
	FragNLen = 5
	// MaxDatagramSize is the largest size the 11-bit field can carry.
	MaxDatagramSize = 2047
)

// FragHeader is a FRAG1 (First) or FRAGN header.
type FragHeader struct {
	First  bool
	Size   uint16 // datagram_size, at most 2047
	Tag    uint16 // datagram_tag
	Offset uint8  // datagram_offset in 8-octet units (FRAGN only)
}

// Len is 4 for FRAG1 and 5 for FRAGN.
func (f *FragHeader) Len() int {
	if f.First {
		return Frag1Len
	}
	return FragNLen
}

// AppendBinary appends the fragment header.
func (f *FragHeader) AppendBinary(b []byte) ([]byte, error) {
	if f.Size > MaxDatagramSize {
		return b, perr("fragment header", ErrTooLarge)
	}
	d := byte(DispatchFragN)
	if f.First {
		d = DispatchFrag1
	}
	b = append(b, d|byte(f.Size>>8), byte(f.Size), byte(f.Tag>>8), byte(f.Tag))
	if !f.First {
		b = append(b, f.Offset)
	}
	return b, nil
}

// DecodeFragHeader decodes a FRAG1 or FRAGN header at the start of b and
// returns it with the octets consumed.
func DecodeFragHeader(b []byte) (FragHeader, int, error) {
	var f FragHeader
	switch Classify(b) {
	case KindFrag1:
		f.First = true
	case KindFragN:
	default:
		return f, 0, perr("fragment header", ErrDispatch)
	}
	if len(b) < f.Len() {
		return FragHeader{}, 0, perr("fragment header", ErrTruncated)
	}
	f.Size = uint16(b[0]&7)<<8 | uint16(b[1])
	f.Tag = uint16(b[2])<<8 | uint16(b[3])
	if !f.First {
		f.Offset = b[4]
	}
	return f, f.Len(), nil
}
