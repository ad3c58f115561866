package rplmsg

import "net/netip"

// SolicitedInfo is the Solicited Information option of a DIS (RFC 6550
// §6.7.9): only nodes matching every field whose flag is set respond.
//
//	type 7 | len 19 | RPLInstanceID | V I D flags(5) | DODAGID | version
type SolicitedInfo struct {
	InstanceID   uint8
	MatchVersion bool  // V
	MatchInst    bool  // I
	MatchDODAGID bool  // D
	Flags        uint8 // the 5 other flag bits, as received
	DODAGID      netip.Addr
	Version      uint8
}

func (SolicitedInfo) Type() uint8 { return OptSolicitedInfo }
func (SolicitedInfo) Len() int    { return 21 }

// AppendBinary appends the option; an invalid DODAGID is sent as ::.
func (s SolicitedInfo) AppendBinary(b []byte) ([]byte, error) {
	if s.Flags > 0x1f {
		return b, perr("Solicited Information", "flags", ErrInvalid)
	}
	f := s.Flags
	if s.MatchVersion {
		f |= 0x80
	}
	if s.MatchInst {
		f |= 0x40
	}
	if s.MatchDODAGID {
		f |= 0x20
	}
	id := s.DODAGID
	if !id.IsValid() {
		id = netip.IPv6Unspecified()
	}
	if !validAddr(id) {
		return b, perr("Solicited Information", "DODAGID", ErrAddress)
	}
	b = append(b, OptSolicitedInfo, 19, s.InstanceID, f)
	b = appendAddr(b, id)
	return append(b, s.Version), nil
}

func decodeSolicitedInfo(body []byte) (Option, error) {
	if len(body) != 19 {
		return nil, perr("Solicited Information", "length", ErrLength)
	}
	return SolicitedInfo{
		InstanceID:   body[0],
		MatchVersion: body[1]&0x80 != 0,
		MatchInst:    body[1]&0x40 != 0,
		MatchDODAGID: body[1]&0x20 != 0,
		Flags:        body[1] & 0x1f,
		DODAGID:      addr16(body[2:]),
		Version:      body[18],
	}, nil
}
