package lowpan

import (
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// Fragmenter turns IPv6 packets into 6LoWPAN payloads that each fit one MAC
// frame (RFC 4944 §5.3), compressing the headers with IPHC (RFC 6282). It
// keeps the datagram tag counter; it is not safe for concurrent use.
type Fragmenter struct {
	// Contexts for context-based address compression; may be nil.
	Contexts *ContextTable
	tag      uint16
	buf      []byte
	frame    []byte
}

// NewFragmenter returns a Fragmenter whose first datagram tag is tag (pick
// it at random per node so restarts do not reuse tags).
func NewFragmenter(ctx *ContextTable, tag uint16) *Fragmenter {
	return &Fragmenter{Contexts: ctx, tag: tag}
}

// Fragment encodes pkt for a frame from src to dst whose MAC payload holds
// at most maxPayload octets, calling emit once per frame payload in order.
// A packet that fits after compression is emitted whole; otherwise a FRAG1
// carrying the compressed headers is followed by FRAGNs (every fragment but
// the last carries a multiple of 8 uncompressed octets). The slice passed to
// emit is only valid during the call.
func (f *Fragmenter) Fragment(pkt []byte, src, dst ieee802154.Address, maxPayload int, emit func([]byte) error) error {
	b, n, err := Compress(f.buf[:0], pkt, src, dst, f.Contexts)
	f.buf = b[:0]
	if err != nil {
		return err
	}
	hl := len(b)
	if hl+len(pkt)-n <= maxPayload {
		b = append(b, pkt[n:]...)
		f.buf = b[:0]
		return emit(b)
	}
	if len(pkt) > MaxDatagramSize {
		return perr("fragmenter", ErrTooLarge)
	}
	// FRAG1: fragment header, compressed headers, then payload up to a
	// multiple of 8 uncompressed octets.
	room := maxPayload - Frag1Len - hl
	end := (n + room) &^ 7
	if room < 0 || end < n {
		return perr("fragmenter", ErrTooSmall)
	}
	step := (maxPayload - FragNLen) &^ 7
	if step <= 0 {
		return perr("fragmenter", ErrTooSmall)
	}
	tag := f.tag
	f.tag++
	fh := FragHeader{First: true, Size: uint16(len(pkt)), Tag: tag}
	frame, _ := fh.AppendBinary(f.frame[:0])
	frame = append(frame, b...)
	frame = append(frame, pkt[n:end]...)
	if err := emit(frame); err != nil {
		return err
	}
	fh.First = false
	for off := end; off < len(pkt); off += step {
		stop := min(off+step, len(pkt))
		fh.Offset = uint8(off / 8)
		frame, _ = fh.AppendBinary(frame[:0])
		frame = append(frame, pkt[off:stop]...)
		if err := emit(frame); err != nil {
			return err
		}
	}
	f.frame = frame[:0]
	return nil
}
