package pcap

import (
	"encoding/binary"
	"errors"
	"io"
	"time"
)

// Errors from the Reader.
var (
	ErrMagic  = errors.New("pcap: not a pcap file (bad magic)")
	ErrRecord = errors.New("pcap: record length exceeds snap length")
)

// maxSnap bounds the record buffer whatever the file header claims.
const maxSnap = 1 << 20

// Reader reads a pcap file written by this package or by libpcap.
type Reader struct {
	r        io.Reader
	order    binary.ByteOrder
	nano     bool
	snap     uint32
	linkType LinkType
	hdr      [recordHdrLen]byte
	buf      []byte
}

// NewReader reads and checks the file header.
func NewReader(r io.Reader) (*Reader, error) {
	var h [fileHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	rd := &Reader{r: r}
	switch {
	case binary.LittleEndian.Uint32(h[:]) == magicMicro:
		rd.order = binary.LittleEndian
	case binary.LittleEndian.Uint32(h[:]) == magicNano:
		rd.order, rd.nano = binary.LittleEndian, true
	case binary.BigEndian.Uint32(h[:]) == magicMicro:
		rd.order = binary.BigEndian
	case binary.BigEndian.Uint32(h[:]) == magicNano:
		rd.order, rd.nano = binary.BigEndian, true
	default:
		return nil, ErrMagic
	}
	rd.snap = min(rd.order.Uint32(h[16:]), maxSnap)
	rd.linkType = LinkType(rd.order.Uint32(h[20:]))
	return rd, nil
}

// LinkType is the file's link type.
func (r *Reader) LinkType() LinkType { return r.linkType }

// ReadPacket returns the next record. data aliases a buffer that the next
// call overwrites. At the end of the file it returns io.EOF.
func (r *Reader) ReadPacket() (ts time.Time, data []byte, err error) {
	if _, err := io.ReadFull(r.r, r.hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return time.Time{}, nil, io.ErrUnexpectedEOF
		}
		return time.Time{}, nil, err
	}
	sec := r.order.Uint32(r.hdr[0:])
	sub := r.order.Uint32(r.hdr[4:])
	n := r.order.Uint32(r.hdr[8:])
	if n > r.snap {
		return time.Time{}, nil, ErrRecord
	}
	if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
	}
	r.buf = r.buf[:n]
	if _, err := io.ReadFull(r.r, r.buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return time.Time{}, nil, err
	}
	if !r.nano {
		sub *= 1000
	}
	return time.Unix(int64(sec), int64(sub)), r.buf, nil
}
