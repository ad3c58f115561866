package ieee802154

// Decode decodes a PSDU: MAC header, payload and the 2-octet FCS, which must
// be correct. It returns the frame and the octets consumed (always len(psdu)
// on success: the PHY delimits the frame). Payload aliases psdu.
func Decode(psdu []byte) (Frame, int, error) {
	if len(psdu) > MaxPSDU {
		return Frame{}, 0, perr(0, "length", ErrTooLong)
	}
	if len(psdu) < minFrame {
		return Frame{}, 0, perr(0, "frame control", ErrTruncated)
	}
	if !CheckFCS(psdu) {
		return Frame{}, 0, perr(ParseFrameControl(uint16(psdu[0])|uint16(psdu[1])<<8).Type, "FCS", ErrBadFCS)
	}
	f, err := decodeMPDU(psdu[:len(psdu)-FCSLen])
	if err != nil {
		return Frame{}, 0, err
	}
	return f, len(psdu), nil
}

// DecodeNoFCS decodes a MAC frame whose FCS has been stripped (as some
// capture formats and test vectors carry it). Payload aliases b.
func DecodeNoFCS(b []byte) (Frame, int, error) {
	if len(b) > MaxPSDU-FCSLen {
		return Frame{}, 0, perr(0, "length", ErrTooLong)
	}
	f, err := decodeMPDU(b)
	if err != nil {
		return Frame{}, 0, err
	}
	return f, len(b), nil
}

// decodeMPDU parses header and payload of b (no FCS).
func decodeMPDU(b []byte) (Frame, error) {
	if len(b) < 3 {
		return Frame{}, perr(0, "frame control", ErrTruncated)
	}
	fc := ParseFrameControl(uint16(b[0]) | uint16(b[1])<<8)
	if err := fc.check(); err != nil {
		return Frame{}, err
	}
	f := Frame{
		Type:             fc.Type,
		FramePending:     fc.FramePending,
		AckRequest:       fc.AckRequest,
		PANIDCompression: fc.PANIDCompression,
		Version:          fc.Version,
		Seq:              b[2],
	}
	off := 3
	if fc.DstMode != AddrNone {
		if len(b) < off+2+fc.DstMode.Len() {
			return Frame{}, perr(fc.Type, "dst address", ErrTruncated)
		}
		f.DstPAN = uint16(b[off]) | uint16(b[off+1])<<8
		f.Dst = readAddr(b[off+2:], fc.DstMode)
		off += 2 + fc.DstMode.Len()
	}
	if fc.SrcMode != AddrNone {
		if fc.PANIDCompression {
			f.SrcPAN = f.DstPAN
		} else {
			if len(b) < off+2 {
				return Frame{}, perr(fc.Type, "src PAN", ErrTruncated)
			}
			f.SrcPAN = uint16(b[off]) | uint16(b[off+1])<<8
			off += 2
		}
		if len(b) < off+fc.SrcMode.Len() {
			return Frame{}, perr(fc.Type, "src address", ErrTruncated)
		}
		f.Src = readAddr(b[off:], fc.SrcMode)
		off += fc.SrcMode.Len()
	}
	f.Payload = b[off:len(b):len(b)]
	return f, nil
}

// PeekDst returns the frame type, destination PAN and destination address of
// a PSDU without checking the FCS or copying anything: what the radio medium
// needs to route a frame. A frame without destination address returns a
// zero Address (Mode AddrNone); a beacon, for example, goes to everyone.
func PeekDst(psdu []byte) (t FrameType, pan uint16, dst Address, err error) {
	if len(psdu) < 3 {
		return 0, 0, Address{}, perr(0, "frame control", ErrTruncated)
	}
	fc := ParseFrameControl(uint16(psdu[0]) | uint16(psdu[1])<<8)
	if err := fc.check(); err != nil {
		return fc.Type, 0, Address{}, err
	}
	if fc.DstMode == AddrNone {
		return fc.Type, 0, Address{}, nil
	}
	if len(psdu) < 3+2+fc.DstMode.Len() {
		return fc.Type, 0, Address{}, perr(fc.Type, "dst address", ErrTruncated)
	}
	pan = uint16(psdu[3]) | uint16(psdu[4])<<8
	return fc.Type, pan, readAddr(psdu[5:], fc.DstMode), nil
}
