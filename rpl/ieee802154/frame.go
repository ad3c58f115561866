package ieee802154

// MaxPSDU is aMaxPHYPacketSize, the largest PSDU (MAC frame including the
// FCS) the PHY carries (IEEE 802.15.4-2006 §6.4.1).
const MaxPSDU = 127

// minFrame is frame control + sequence number + FCS, the ack frame (§7.2.2.3).
const minFrame = 2 + 1 + FCSLen

// Frame is one MAC frame (§7.2.1, Figure 41): MAC header, payload and FCS.
// Addressing modes come from Dst.Mode and Src.Mode; a PAN identifier is only
// sent for an address that is present. With PANIDCompression set (both
// addresses present, §7.2.1.1.5) the source PAN is not sent: SrcPAN is
// ignored by AppendBinary and set equal to DstPAN by Decode.
type Frame struct {
	Type             FrameType
	FramePending     bool
	AckRequest       bool
	PANIDCompression bool
	Version          uint8 // Version2003 (zero value) or Version2006
	Seq              uint8 // data sequence number (§7.2.1.2)
	DstPAN           uint16
	Dst              Address
	SrcPAN           uint16
	Src              Address
	// Payload is the MAC payload. For a beacon it starts with the superframe
	// specification (§7.2.2.1); for a command with the command frame
	// identifier (§7.3). After Decode it aliases the input.
	Payload []byte
}

// DataFrame builds a data frame within one PAN: PAN ID compression is used
// when both addresses are present, and an acknowledgment is requested for a
// unicast destination when ackReq is set.
func DataFrame(seq uint8, pan uint16, dst, src Address, payload []byte, ackReq bool) Frame {
	return Frame{
		Type:             TypeData,
		AckRequest:       ackReq && !dst.IsBroadcast() && dst.Mode != AddrNone,
		PANIDCompression: dst.Mode != AddrNone && src.Mode != AddrNone,
		Seq:              seq,
		DstPAN:           pan,
		Dst:              dst,
		SrcPAN:           pan,
		Src:              src,
		Payload:          payload,
	}
}

// AckFrame builds the acknowledgment of the frame with sequence number seq (§7.2.2.3).
func AckFrame(seq uint8, framePending bool) Frame {
	return Frame{Type: TypeAck, Seq: seq, FramePending: framePending}
}

// Control returns the frame control field implied by f.
func (f *Frame) Control() FrameControl {
	return FrameControl{
		Type:             f.Type,
		FramePending:     f.FramePending,
		AckRequest:       f.AckRequest,
		PANIDCompression: f.PANIDCompression,
		DstMode:          f.Dst.Mode,
		Version:          f.Version,
		SrcMode:          f.Src.Mode,
	}
}

// HeaderLen is the length of the MAC header (frame control to source address).
func (f *Frame) HeaderLen() int { return f.Control().headerLen() }

// Len is the PSDU length AppendBinary appends: header, payload and FCS.
func (f *Frame) Len() int { return f.HeaderLen() + len(f.Payload) + FCSLen }

// MaxPayload is the largest payload that fits a 127-octet PSDU with f's header.
func (f *Frame) MaxPayload() int { return MaxPSDU - f.HeaderLen() - FCSLen }

// AppendBinary appends the PSDU (MAC header, payload, FCS) to b. It fails
// for an invalid addressing combination or a frame over 127 octets.
func (f *Frame) AppendBinary(b []byte) ([]byte, error) {
	fc := f.Control()
	if err := fc.check(); err != nil {
		return b, err
	}
	if f.Len() > MaxPSDU {
		return b, perr(f.Type, "length", ErrTooLong)
	}
	start := len(b)
	v := fc.Uint16()
	b = append(b, byte(v), byte(v>>8), f.Seq)
	if fc.DstMode != AddrNone {
		b = append(b, byte(f.DstPAN), byte(f.DstPAN>>8))
		b = appendAddr(b, f.Dst)
	}
	if fc.SrcMode != AddrNone {
		if !fc.PANIDCompression {
			b = append(b, byte(f.SrcPAN), byte(f.SrcPAN>>8))
		}
		b = appendAddr(b, f.Src)
	}
	b = append(b, f.Payload...)
	c := FCS(b[start:])
	return append(b, byte(c), byte(c>>8)), nil
}
