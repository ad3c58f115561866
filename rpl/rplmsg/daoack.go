package rplmsg

import "net/netip"

// DAOACK is the DAO acknowledgment (RFC 6550 §6.5.1):
//
//	RPLInstanceID | D reserved(7) | DAOSequence | status |
//	[DODAGID (128) when D] | options
//
// Status 0 is unqualified acceptance; 1-127 accept with a remark; 128 and
// above reject (a NACK).
type DAOACK struct {
	InstanceID uint8
	Reserved   uint8 // the 7 bits after D, as received
	Seq        uint8
	Status     uint8
	DODAGID    netip.Addr // zero Addr: D=0, not sent
	Options    []Option
}

func (*DAOACK) Code() uint8 { return CodeDAOACK }

func (a *DAOACK) Len() int {
	n := ICMPHeaderLen + 4 + optionsLen(a.Options)
	if a.DODAGID.IsValid() {
		n += 16
	}
	return n
}

// Accepted reports whether the status accepts the DAO (status < 128).
func (a *DAOACK) Accepted() bool { return a.Status < 128 }

// AppendBinary appends the ICMPv6 message with a zero checksum.
func (a *DAOACK) AppendBinary(b []byte) ([]byte, error) {
	if a.Reserved > 0x7f {
		return b, perr("DAO-ACK", "flags", ErrInvalid)
	}
	if a.DODAGID.IsValid() && !validAddr(a.DODAGID) {
		return b, perr("DAO-ACK", "DODAGID", ErrAddress)
	}
	f := a.Reserved
	if a.DODAGID.IsValid() {
		f |= 0x80
	}
	b = append(appendICMPHeader(b, CodeDAOACK), a.InstanceID, f, a.Seq, a.Status)
	if a.DODAGID.IsValid() {
		b = appendAddr(b, a.DODAGID)
	}
	return appendOptions(b, a.Options)
}

func decodeDAOACK(b []byte) (*DAOACK, error) {
	if len(b) < 4 {
		return nil, perr("DAO-ACK", "base", ErrTruncated)
	}
	a := &DAOACK{InstanceID: b[0], Reserved: b[1] & 0x7f, Seq: b[2], Status: b[3]}
	off := 4
	if b[1]&0x80 != 0 {
		if len(b) < 20 {
			return nil, perr("DAO-ACK", "DODAGID", ErrTruncated)
		}
		a.DODAGID = addr16(b[4:])
		off = 20
	}
	opts, err := DecodeOptions(b[off:])
	if err != nil {
		return nil, err
	}
	a.Options = opts
	return a, nil
}
