package pcap

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"time"
)

// File header constants.
const (
	magicMicro    = 0xa1b2c3d4
	magicNano     = 0xa1b23c4d
	versionMajor  = 2
	versionMinor  = 4
	fileHeaderLen = 24
	recordHdrLen  = 16
	// DefaultSnapLen is the snap length written in the file header.
	DefaultSnapLen = 262144
)

// ErrTooBig is returned for a packet longer than the snap length.
var ErrTooBig = errors.New("pcap: packet longer than snap length")

// Writer writes a pcap file. It is safe for concurrent use: records are
// written whole, one at a time.
type Writer struct {
	mu   sync.Mutex
	w    io.Writer
	nano bool
	snap uint32
	buf  []byte
	err  error
}

// WriterOptions tune NewWriter; the zero value gives microsecond timestamps
// and DefaultSnapLen.
type WriterOptions struct {
	Nanosecond bool   // write nanosecond timestamps (magic 0xa1b23c4d)
	SnapLen    uint32 // 0 means DefaultSnapLen
}

// NewWriter writes the file header for link type lt and returns a Writer.
func NewWriter(w io.Writer, lt LinkType, opt WriterOptions) (*Writer, error) {
	if opt.SnapLen == 0 {
		opt.SnapLen = DefaultSnapLen
	}
	magic := uint32(magicMicro)
	if opt.Nanosecond {
		magic = magicNano
	}
	h := make([]byte, 0, fileHeaderLen)
	h = binary.LittleEndian.AppendUint32(h, magic)
	h = binary.LittleEndian.AppendUint16(h, versionMajor)
	h = binary.LittleEndian.AppendUint16(h, versionMinor)
	h = binary.LittleEndian.AppendUint32(h, 0) // thiszone (reserved)
	h = binary.LittleEndian.AppendUint32(h, 0) // sigfigs (reserved)
	h = binary.LittleEndian.AppendUint32(h, opt.SnapLen)
	h = binary.LittleEndian.AppendUint32(h, uint32(lt))
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return &Writer{w: w, nano: opt.Nanosecond, snap: opt.SnapLen}, nil
}

// WritePacket writes one record with timestamp ts. data is not retained.
// After a write error every later call returns that error.
func (w *Writer) WritePacket(ts time.Time, data []byte) error {
	if uint64(len(data)) > uint64(w.snap) {
		return ErrTooBig
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	sub := uint32(ts.Nanosecond() / 1000)
	if w.nano {
		sub = uint32(ts.Nanosecond())
	}
	b := w.buf[:0]
	b = binary.LittleEndian.AppendUint32(b, uint32(ts.Unix()))
	b = binary.LittleEndian.AppendUint32(b, sub)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(data)))
	b = append(b, data...)
	w.buf = b
	if _, err := w.w.Write(b); err != nil {
		w.err = err
		return err
	}
	return nil
}
