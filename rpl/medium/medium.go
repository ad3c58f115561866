package medium

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/zep"
)

// Defaults.
const (
	DefaultRange   = 50.0 // metres, Cooja UDGM's default transmission range
	DefaultChannel = 26
	// OctetTime is the airtime of one octet at 250 kbit/s (O-QPSK, 2.4 GHz).
	OctetTime = 32 * time.Microsecond
	// PHYHeaderLen is preamble (4), SFD (1) and PHR (1).
	PHYHeaderLen = 6
)

// Airtime returns how long a PSDU of n octets occupies the channel.
func Airtime(n int) time.Duration { return time.Duration(n+PHYHeaderLen) * OctetTime }

// Capture receives every frame the medium carries, once, when it is sent.
// It is called with the medium's lock held and must not call back into it.
type Capture interface {
	WriteFrame(at time.Time, psdu []byte) error
}

// Config configures a Medium. The zero value is a loss-free unit disk of
// DefaultRange on the real clock.
type Config struct {
	Clock clock.Clock // clock.Real{} when nil
	Seed  uint64      // seeds every random draw
	Model Model       // ModelDisk (default) or ModelLinks
	Range float64     // unit-disk radius in metres; DefaultRange when 0
	// EdgeLoss is the loss probability at the edge of the range, growing
	// from 0 at distance 0 with the square of the distance (Cooja UDGM's
	// 1 − SUCCESS_RATIO_RX). 0, the default, is Cooja's default.
	EdgeLoss float64
	// Loss drops each delivery with this probability, on top of the model.
	Loss float64
	// Delay is added to each frame's airtime; Jitter adds a uniform random
	// [0, Jitter) per delivery (deliveries never overtake each other).
	Delay  time.Duration
	Jitter time.Duration
	// Channel is the 802.15.4 channel written into ZEP headers (DefaultChannel when 0).
	Channel uint8
	// Capture, when set, gets every frame (e.g. a pcap writer).
	Capture Capture
	// MaxEndpoints bounds the UDP peers ServeUDP tracks (4096 when 0).
	MaxEndpoints int
	Logger       *slog.Logger
}

// ErrClosed is returned when using a closed medium or radio.
var ErrClosed = errors.New("medium: closed")

// Medium is the emulated radio channel. Its methods are safe for concurrent use.
type Medium struct {
	cfg Config
	clk clock.Clock
	log *slog.Logger

	mu     sync.Mutex
	closed bool
	rng    *rand.Rand
	seq    uint32
	eps    []*endpoint                      // attached endpoints, in attach order
	byAddr map[ieee802154.Address]*endpoint // endpoints that have an address
	pos    map[ieee802154.Address]Position  // node positions
	links  map[linkKey]float64              // explicit link probabilities
	stats  counters
}

// New returns a medium.
func New(cfg Config) *Medium {
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Range == 0 {
		cfg.Range = DefaultRange
	}
	if cfg.Channel == 0 {
		cfg.Channel = DefaultChannel
	}
	if cfg.MaxEndpoints <= 0 {
		cfg.MaxEndpoints = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Loss = min(max(cfg.Loss, 0), 1)
	cfg.EdgeLoss = min(max(cfg.EdgeLoss, 0), 1)
	return &Medium{
		cfg:    cfg,
		clk:    cfg.Clock,
		log:    cfg.Logger,
		rng:    rand.New(rand.NewPCG(cfg.Seed, 0x6d65_6469_756d)),
		byAddr: make(map[ieee802154.Address]*endpoint),
		pos:    make(map[ieee802154.Address]Position),
		links:  make(map[linkKey]float64),
		stats:  newCounters(),
	}
}

// Config returns the configuration in effect (defaults filled in).
func (m *Medium) Config() Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

// SetLoss changes the global loss probability at run time.
func (m *Medium) SetLoss(p float64) {
	m.mu.Lock()
	m.cfg.Loss = min(max(p, 0), 1)
	m.mu.Unlock()
}

// Close stops all deliveries; frames in flight are dropped. Idempotent.
func (m *Medium) Close() error {
	m.mu.Lock()
	m.closed = true
	eps := m.eps
	m.eps = nil
	m.byAddr = map[ieee802154.Address]*endpoint{}
	m.mu.Unlock()
	for _, e := range eps {
		e.detach()
	}
	return nil
}

// sink is where an endpoint's deliveries go: an in-process Port or a UDP peer.
type sink interface {
	deliver(datagram []byte)
}

// endpoint is one attached radio.
type endpoint struct {
	m    *Medium
	sink sink
	addr ieee802154.Address // learned or given; Mode AddrNone until known
	// fixed: the address was given (Attach), not learned from frames. A
	// radio's frames may carry any source address (a forgery); only a UDP
	// peer's address is learned from them, and never one a fixed radio owns.
	fixed bool
	devID uint16
	// pos mirrors Medium.pos[addr] (guarded by Medium.mu) so the per-frame
	// loop needs no map lookups.
	pos    Position
	placed bool

	dmu   sync.Mutex // held across a delivery: deliveries never run concurrently
	qmu   sync.Mutex // guards queue and dead; never held while taking another lock
	queue [][]byte
	dead  bool
}

func (e *endpoint) detach() {
	e.qmu.Lock()
	e.dead = true
	e.queue = nil
	e.qmu.Unlock()
}

// push queues a datagram and schedules its delivery after d.
func (e *endpoint) push(b []byte, d time.Duration) {
	e.qmu.Lock()
	if e.dead {
		e.qmu.Unlock()
		return
	}
	e.queue = append(e.queue, b)
	e.qmu.Unlock()
	e.m.clk.AfterFunc(d, e.pop)
}

// pop delivers the oldest queued datagram: whatever timer fires first takes
// the head, so deliveries keep transmission order even when the real
// clock's timer goroutines race. dmu is held across the delivery so that
// deliveries to one endpoint never run concurrently; qmu only around the
// queue, because the medium pushes with its own lock held.
func (e *endpoint) pop() {
	e.dmu.Lock()
	defer e.dmu.Unlock()
	e.qmu.Lock()
	if e.dead || len(e.queue) == 0 {
		e.qmu.Unlock()
		return
	}
	b := e.queue[0]
	e.queue[0] = nil
	e.queue = e.queue[1:]
	if len(e.queue) == 0 {
		e.queue = nil
	}
	e.qmu.Unlock()
	e.sink.deliver(b)
}

// addEndpoint registers an endpoint; it must hold m.mu.
func (m *Medium) addEndpointLocked(e *endpoint) {
	m.eps = append(m.eps, e)
	if e.addr.Mode != ieee802154.AddrNone {
		m.bindLocked(e, e.addr)
	}
}

// bindLocked gives endpoint e MAC address a, evicting an older endpoint that
// claimed it (a node process restarted on a new UDP port).
func (m *Medium) bindLocked(e *endpoint, a ieee802154.Address) {
	if old, ok := m.byAddr[a]; ok && old != e {
		m.removeEndpointLocked(old)
	}
	e.addr = a
	m.byAddr[a] = e
	e.pos, e.placed = m.pos[a]
	m.log.Info("medium: node attached", "addr", a.String(), "placed", e.placed)
}

func (m *Medium) removeEndpointLocked(e *endpoint) {
	for i, x := range m.eps {
		if x == e {
			m.eps = append(m.eps[:i], m.eps[i+1:]...)
			break
		}
	}
	if e.addr.Mode != ieee802154.AddrNone && m.byAddr[e.addr] == e {
		delete(m.byAddr, e.addr)
	}
	e.detach()
}

// BadForeignSource is the Stats.Bad reason counting frames whose source
// address is not their sender's: an attached radio's frame carrying another
// address, or a UDP peer's frame claiming an attached radio's address.
// Such a frame is still put on the air, from its sender's position.
const BadForeignSource = "foreign source address"

// ingest handles one ZEP datagram sent by endpoint src. The datagram is
// not retained.
func (m *Medium) ingest(src *endpoint, datagram []byte) error {
	pkt, n, err := zep.Decode(datagram)
	if err == nil && n != len(datagram) {
		err = &zep.ParseError{Field: "datagram", Err: zep.ErrLength}
	}
	if err != nil {
		m.bad(err)
		return err
	}
	if pkt.Type != zep.TypeData {
		return nil // ZEP acks carry no frame
	}
	psdu := pkt.Frame
	var fr ieee802154.Frame
	if pkt.CRCMode {
		fr, _, err = ieee802154.Decode(psdu)
	} else {
		fr, _, err = ieee802154.DecodeNoFCS(psdu[:max(len(psdu)-2, 0)])
	}
	if err != nil {
		m.bad(err)
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if fr.Src.Mode != ieee802154.AddrNone && src.addr != fr.Src {
		if owner := m.byAddr[fr.Src]; src.fixed || (owner != nil && owner.fixed) {
			// A frame claiming an address that is not its sender's (a
			// forgery, or a UDP peer claiming an attached radio's
			// address): it goes out from where it was sent, counted; the
			// owner of the address stays attached where it is.
			m.stats.bad[BadForeignSource]++
		} else {
			if src.addr.Mode != ieee802154.AddrNone && m.byAddr[src.addr] == src {
				delete(m.byAddr, src.addr)
			}
			m.bindLocked(src, fr.Src)
		}
	}
	if src.addr.Mode == ieee802154.AddrNone {
		m.stats.bad["unbound sender"]++
		return nil
	}
	src.devID = pkt.DeviceID
	m.transmitLocked(src, pkt, fr.Type)
	return nil
}

func (m *Medium) bad(err error) {
	reason := err.Error()
	var ze *zep.ParseError
	var fe *ieee802154.ParseError
	if errors.As(err, &ze) {
		reason = "zep " + ze.Reason()
	} else if errors.As(err, &fe) {
		reason = "802.15.4 " + fe.Reason()
	}
	m.mu.Lock()
	m.stats.bad[reason]++
	m.mu.Unlock()
	m.log.Debug("medium: bad datagram", "reason", reason)
}

// transmitLocked puts one frame on the air: capture, then a delivery draw
// for every other placed endpoint.
func (m *Medium) transmitLocked(src *endpoint, pkt zep.Packet, ft ieee802154.FrameType) {
	now := m.clk.Now()
	psdu := pkt.Frame
	m.stats.frames++
	m.stats.octets += uint64(len(psdu))
	m.stats.node(src.addr).tx(len(psdu))
	if m.cfg.Capture != nil {
		if err := m.cfg.Capture.WriteFrame(now, psdu); err != nil {
			m.stats.bad["capture write"]++
		}
	}
	base := Airtime(len(psdu)) + m.cfg.Delay
	for _, dst := range m.eps {
		if dst == src || dst.addr.Mode == ieee802154.AddrNone {
			continue
		}
		p := m.epProbLocked(src, dst)
		if p <= 0 {
			continue
		}
		ls := m.stats.link(src.addr, dst.addr)
		ls.Offered++
		if m.rng.Float64() >= p*(1-m.cfg.Loss) {
			continue
		}
		ls.Delivered++
		m.stats.node(dst.addr).rx(len(psdu))
		d := base
		if m.cfg.Jitter > 0 {
			d += time.Duration(m.rng.Int64N(int64(m.cfg.Jitter)))
		}
		m.seq++
		out := zep.Packet{
			Type:     zep.TypeData,
			Channel:  m.cfg.Channel,
			DeviceID: pkt.DeviceID,
			CRCMode:  pkt.CRCMode,
			LQI:      uint8(p * 255),
			NTP:      zep.NTPTime(now.Add(d)),
			Seq:      m.seq,
			Frame:    psdu,
		}
		b, _ := out.AppendBinary(make([]byte, 0, out.Len()))
		dst.push(b, d)
	}
	_ = ft
}
