package ieee802154

// FrameType is the frame type subfield of the frame control field
// (IEEE 802.15.4-2006 §7.2.1.1.1, Table 79).
type FrameType uint8

// Frame types.
const (
	TypeBeacon  FrameType = 0
	TypeData    FrameType = 1
	TypeAck     FrameType = 2
	TypeCommand FrameType = 3
)

func (t FrameType) String() string {
	switch t {
	case TypeBeacon:
		return "beacon"
	case TypeData:
		return "data"
	case TypeAck:
		return "ack"
	case TypeCommand:
		return "command"
	}
	return "reserved"
}

// AddrMode is an addressing mode subfield (§7.2.1.1.6, Table 80).
type AddrMode uint8

// Addressing modes. Mode 1 is reserved.
const (
	AddrNone  AddrMode = 0
	AddrShort AddrMode = 2
	AddrExt   AddrMode = 3
)

// Len is the number of address octets the mode puts in the MAC header.
func (m AddrMode) Len() int {
	switch m {
	case AddrShort:
		return 2
	case AddrExt:
		return 8
	}
	return 0
}

// Frame versions (§7.2.1.1.7).
const (
	Version2003 uint8 = 0 // IEEE 802.15.4-2003
	Version2006 uint8 = 1 // IEEE 802.15.4-2006
)

// FrameControl is the decoded 16-bit frame control field (§7.2.1.1, Figure 42):
//
//	bits 0-2 frame type | 3 security enabled | 4 frame pending | 5 ack request |
//	6 PAN ID compression | 7-9 reserved | 10-11 dst addr mode |
//	12-13 frame version | 14-15 src addr mode
//
// The field is sent least significant octet first. Reserved bits are ignored
// on decode and sent as zero.
type FrameControl struct {
	Type             FrameType
	Security         bool
	FramePending     bool
	AckRequest       bool
	PANIDCompression bool
	DstMode          AddrMode
	Version          uint8
	SrcMode          AddrMode
}

// Uint16 packs the frame control field.
func (fc FrameControl) Uint16() uint16 {
	v := uint16(fc.Type & 7)
	if fc.Security {
		v |= 1 << 3
	}
	if fc.FramePending {
		v |= 1 << 4
	}
	if fc.AckRequest {
		v |= 1 << 5
	}
	if fc.PANIDCompression {
		v |= 1 << 6
	}
	v |= uint16(fc.DstMode&3) << 10
	v |= uint16(fc.Version&3) << 12
	v |= uint16(fc.SrcMode&3) << 14
	return v
}

// ParseFrameControl unpacks a frame control field without validating it.
func ParseFrameControl(v uint16) FrameControl {
	return FrameControl{
		Type:             FrameType(v & 7),
		Security:         v&(1<<3) != 0,
		FramePending:     v&(1<<4) != 0,
		AckRequest:       v&(1<<5) != 0,
		PANIDCompression: v&(1<<6) != 0,
		DstMode:          AddrMode(v>>10) & 3,
		Version:          uint8(v>>12) & 3,
		SrcMode:          AddrMode(v>>14) & 3,
	}
}

// check validates the combination of subfields this package supports.
func (fc FrameControl) check() error {
	if fc.Type > TypeCommand {
		return perr(fc.Type, "frame type", ErrUnsupported)
	}
	if fc.Security {
		return perr(fc.Type, "security enabled", ErrUnsupported)
	}
	if fc.Version > Version2006 {
		return perr(fc.Type, "frame version", ErrUnsupported)
	}
	if fc.DstMode == 1 || fc.DstMode > AddrExt {
		return perr(fc.Type, "dst addr mode", ErrAddrMode)
	}
	if fc.SrcMode == 1 || fc.SrcMode > AddrExt {
		return perr(fc.Type, "src addr mode", ErrAddrMode)
	}
	// §7.2.1.1.5: PAN ID compression is only meaningful when both
	// addresses are present.
	if fc.PANIDCompression && (fc.DstMode == AddrNone || fc.SrcMode == AddrNone) {
		return perr(fc.Type, "PAN ID compression", ErrAddrMode)
	}
	return nil
}

// headerLen is the MAC header length (frame control through source
// address) implied by the frame control field.
func (fc FrameControl) headerLen() int {
	n := 3 // frame control + sequence number
	if fc.DstMode != AddrNone {
		n += 2 + fc.DstMode.Len()
	}
	if fc.SrcMode != AddrNone {
		if !fc.PANIDCompression {
			n += 2
		}
		n += fc.SrcMode.Len()
	}
	return n
}
