package lowpan

import (
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// ReassemblerConfig bounds a Reassembler. Zero fields take the defaults.
type ReassemblerConfig struct {
	// MaxDatagrams is the number of datagrams reassembled at once (default
	// 4, a z1-like budget; a border router should raise it). When full, the
	// oldest partial datagram is evicted.
	MaxDatagrams int
	// MaxSize is the largest datagram accepted (default 1280, the IPv6
	// minimum MTU, RFC 8200 §5; at most 2047).
	MaxSize int
	// Timeout discards a datagram whose first fragment arrived this long
	// ago (default 60 s, RFC 4944 §5.3).
	Timeout time.Duration
	// Clock tells the time (default clock.Real).
	Clock clock.Clock
	// Contexts for context-based decompression; may be nil.
	Contexts *ContextTable
}

// ReassemblyStats counts what the Reassembler did, by outcome and reason.
type ReassemblyStats struct {
	Unfragmented uint64 // complete packets that needed no reassembly
	Completed    uint64 // datagrams reassembled from fragments
	TimedOut     uint64 // partial datagrams dropped by Timeout
	Evicted      uint64 // partial datagrams dropped to make room
	Duplicates   uint64 // fragments received twice (ignored)
	Overlaps     uint64 // overlapping fragments that restarted a datagram (RFC 4944 §5.3)
	TooLarge     uint64 // datagrams above MaxSize
	BadFragments uint64 // inconsistent size, offset or length
	BadHeaders   uint64 // undecodable dispatch or compressed headers
}

// datagram is one reassembly buffer, keyed per RFC 4944 §5.3 by link-layer
// source and destination, datagram size and tag.
type datagram struct {
	key      dgramKey
	started  time.Time
	buf      []byte
	have     [MaxDatagramSize/8 + 1]bool // received 8-octet units
	received int
	info     headerInfo
	gotFirst bool
}

type dgramKey struct {
	src, dst  ieee802154.Address
	size, tag uint16
}

// Reassembler rebuilds IPv6 packets from 6LoWPAN frame payloads. It is safe
// for concurrent use and starts no goroutines: expiry happens on Input and
// Expire, using the configured clock.
type Reassembler struct {
	mu    sync.Mutex
	cfg   ReassemblerConfig
	dgs   []*datagram
	stats ReassemblyStats
	hdr   []byte // scratch for decompressed FRAG1 headers
}

// NewReassembler returns a Reassembler with cfg's defaults filled in.
func NewReassembler(cfg ReassemblerConfig) *Reassembler {
	if cfg.MaxDatagrams <= 0 {
		cfg.MaxDatagrams = 4
	}
	if cfg.MaxSize <= 0 {
		cfg.MaxSize = 1280
	}
	cfg.MaxSize = min(cfg.MaxSize, MaxDatagramSize)
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	return &Reassembler{cfg: cfg}
}

// Stats returns a snapshot of the counters.
func (r *Reassembler) Stats() ReassemblyStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Pending is the number of partial datagrams held.
func (r *Reassembler) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.dgs)
}

// Expire drops partial datagrams older than the timeout.
func (r *Reassembler) Expire() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire()
}

func (r *Reassembler) expire() {
	now := r.cfg.Clock.Now()
	kept := r.dgs[:0]
	for _, d := range r.dgs {
		if now.Sub(d.started) >= r.cfg.Timeout {
			r.stats.TimedOut++
			continue
		}
		kept = append(kept, d)
	}
	clear(r.dgs[len(kept):])
	r.dgs = kept
}

// Input takes the 6LoWPAN payload of one MAC frame from src to dst. It
// returns the complete IPv6 packet when payload completes one (a packet
// the caller owns), nil and no error when more fragments are needed, or an
// error for a payload it drops.
func (r *Reassembler) Input(payload []byte, src, dst ieee802154.Address) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.expire()
	switch Classify(payload) {
	case KindIPv6, KindIPHC:
		pkt, err := Decompress(nil, payload, src, dst, r.cfg.Contexts)
		if err != nil {
			r.stats.BadHeaders++
			return nil, err
		}
		if len(pkt) > r.cfg.MaxSize {
			r.stats.TooLarge++
			return nil, perr("datagram", ErrTooLarge)
		}
		r.stats.Unfragmented++
		return pkt, nil
	case KindFrag1, KindFragN:
	default:
		r.stats.BadHeaders++
		return nil, perr("dispatch", ErrDispatch)
	}
	fh, n, err := DecodeFragHeader(payload)
	if err != nil {
		r.stats.BadHeaders++
		return nil, err
	}
	size := int(fh.Size)
	if size > r.cfg.MaxSize {
		r.stats.TooLarge++
		return nil, perr("datagram", ErrTooLarge)
	}
	body := payload[n:]

	// Work out which uncompressed octets [lo, hi) this fragment carries.
	var lo, hi int
	var info headerInfo
	var hdr []byte
	if fh.First {
		if Classify(body) != KindIPHC && Classify(body) != KindIPv6 {
			r.stats.BadHeaders++
			return nil, perr("FRAG1", ErrDispatch)
		}
		if Classify(body) == KindIPv6 {
			// RFC 4944 §5.1: an uncompressed IPv6 header follows; a first
			// fragment whose header is not IPv6 is malformed (fuzz finding).
			if len(body) < 2 || body[1]>>4 != 6 {
				r.stats.BadHeaders++
				return nil, perr("FRAG1", ErrDispatch)
			}
			hdr, body, info = nil, body[1:], headerInfo{udpOff: -1, raw: true}
		} else {
			var used int
			hdr, used, info, err = decompressHeaders(r.hdr[:0], body, src, dst, r.cfg.Contexts, size)
			r.hdr = hdr[:0]
			if err != nil {
				r.stats.BadHeaders++
				return nil, err
			}
			body = body[used:]
		}
		lo, hi = 0, len(hdr)+len(body)
	} else {
		lo = int(fh.Offset) * 8
		hi = lo + len(body)
	}
	// RFC 4944 §5.3: every fragment but the last carries a multiple of 8
	// octets; none reaches past datagram_size.
	if hi > size || hi == lo || (hi != size && hi%8 != 0) || size < 40 {
		r.stats.BadFragments++
		return nil, perr("fragment", ErrFragment)
	}

	key := dgramKey{src: src, dst: dst, size: fh.Size, tag: fh.Tag}
	d := r.find(key)
	if d != nil {
		switch d.overlap(lo, hi) {
		case overlapAll:
			r.stats.Duplicates++
			return nil, nil
		case overlapSome:
			// Discard what was accumulated; restart with this fragment.
			r.stats.Overlaps++
			r.remove(d)
			d = nil
		}
	}
	if d == nil {
		if len(r.dgs) >= r.cfg.MaxDatagrams {
			r.stats.Evicted++
			r.remove(r.dgs[0]) // oldest first
		}
		d = &datagram{key: key, started: r.cfg.Clock.Now(), buf: make([]byte, size)}
		r.dgs = append(r.dgs, d)
	}
	copy(d.buf[lo:], hdr)
	copy(d.buf[lo+len(hdr):], body)
	for u := lo / 8; u < (hi+7)/8; u++ {
		d.have[u] = true
	}
	d.received += hi - lo
	if fh.First {
		d.info, d.gotFirst = info, true
	}
	if d.received < size {
		return nil, nil
	}
	r.remove(d)
	if !d.gotFirst {
		r.stats.BadFragments++
		return nil, perr("fragment", ErrFragment)
	}
	// RFC 4944 §5.3: datagram_size is the size of the whole IPv6 packet, so
	// an uncompressed header's Payload Length must be datagram_size − 40
	// (fuzz finding: a FRAG1 with 0x41 and a header of the wrong length was
	// reassembled into a packet no IPv6 parser accepts).
	if d.info.raw && int(d.buf[4])<<8|int(d.buf[5]) != size-40 {
		r.stats.BadHeaders++
		return nil, perr("FRAG1", ErrDispatch)
	}
	if d.info.udpCsum {
		fixUDPChecksum(d.buf, d.info)
	}
	r.stats.Completed++
	return d.buf, nil
}

type overlapKind int

const (
	overlapNone overlapKind = iota
	overlapSome
	overlapAll
)

func (d *datagram) overlap(lo, hi int) overlapKind {
	n, all := 0, 0
	for u := lo / 8; u < (hi+7)/8; u++ {
		all++
		if d.have[u] {
			n++
		}
	}
	switch n {
	case 0:
		return overlapNone
	case all:
		return overlapAll
	}
	return overlapSome
}

func (r *Reassembler) find(k dgramKey) *datagram {
	for _, d := range r.dgs {
		if d.key == k {
			return d
		}
	}
	return nil
}

func (r *Reassembler) remove(d *datagram) {
	for i, x := range r.dgs {
		if x == d {
			copy(r.dgs[i:], r.dgs[i+1:])
			r.dgs[len(r.dgs)-1] = nil
			r.dgs = r.dgs[:len(r.dgs)-1]
			return
		}
	}
}
