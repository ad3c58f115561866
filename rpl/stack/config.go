package stack

import (
	"log/slog"
	"net/netip"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// DefaultPAN is the PAN identifier every area's mesh uses unless told
// otherwise (one PAN, so a node that moves hears the next area at once).
const DefaultPAN uint16 = 0xabcd

// Dir says whether a frame was sent, received for this node, or overheard
// (heard on the air but addressed to someone else).
type Dir uint8

const (
	Tx Dir = iota
	Rx
	Overheard
)

func (d Dir) String() string {
	switch d {
	case Tx:
		return "tx"
	case Rx:
		return "rx"
	}
	return "overheard"
}

// Config configures a Stack. Zero fields take defaults.
type Config struct {
	// Addr is the node's EUI-64; its link-local and global addresses
	// derive from it (RFC 4944 §6).
	Addr ieee802154.ExtAddr
	// PAN is the 802.15.4 PAN identifier (DefaultPAN when 0).
	PAN uint16
	// Radio is the transceiver (a medium.Port or medium.ZEPRadio). The
	// stack installs its receiver and closes the radio on Close.
	Radio medium.Radio
	Clock clock.Clock // clock.Real{} when nil
	// Seed seeds the node's random draws (backoff, Trickle, DAO jitter).
	Seed   uint64
	Logger *slog.Logger

	// RPL configures the routing protocol: a node by default, the DODAG
	// root when RPL.Root is set (see package border).
	RPL dodag.Config

	// MAC.
	MaxFrameRetries int           // macMaxFrameRetries (DefaultMaxFrameRetries); -1 for none
	AckWait         time.Duration // wait for an acknowledgment before retrying (default 20 ms)
	TxQueue         int           // frames waiting for the radio (default 32)

	// Radio duty cycling, ContikiMAC-style (see dutycycle.go and the
	// package documentation). Both off by default: the radio is always on.
	//
	// ChannelCheckInterval, when > 0, puts this node's radio to sleep
	// between channel checks, one every interval (125 ms for ContikiMAC's
	// 8 Hz), at a phase drawn from Seed, each keeping the radio on for
	// CheckWindow. A frame that begins while the radio sleeps is not
	// received and not acknowledged (Counters.SleptThrough; no OnFrame). The
	// radio stays on while a check has detected a frame (DetectListen, for
	// the next repetition), after a fragment for it with more to come
	// (BurstHold), while
	// its own frame is in flight (strobing, waiting for the ACK, backoff),
	// and while the node is not joined to a DODAG (it scans, as Contiki-NG
	// nodes do before they associate; a root counts as joined).
	ChannelCheckInterval time.Duration
	// StrobeTime, when > 0, makes the sender strobe (ContikiMAC transmit):
	// a unicast frame is sent again and again, StrobeGap apart, until it is
	// acknowledged or StrobeTime has passed (each repetition a real frame:
	// TxFrames, OnFrame(Tx)); a strobe without an ACK is one failed try for
	// the retry and backoff logic, and MaxFrameRetries then defaults to
	// DefaultStrobeRetries. A broadcast frame is repeated for the whole
	// StrobeTime, so every duty-cycled neighbour's check falls inside it.
	// An always-on receiver acknowledges the first repetition, so strobing
	// costs nothing extra there. Use StrobeTimeFor(the receivers'
	// ChannelCheckInterval): the interval plus two maximum-size repetitions.
	StrobeTime time.Duration
	// OnListen, when set and ChannelCheckInterval > 0, is told of radio-on
	// time in which the radio neither sent nor received a frame told to
	// OnFrame: channel checks, listening after a detection and in a burst
	// hold, the gaps between strobe repetitions and ACK waits, backoff
	// while a frame is in flight, and all the time the node is unjoined.
	// Calls carry increments; their sum is Counters.ListenTime. They come
	// from the stack's own timers and radio deliveries (never from a
	// method the caller calls), at least once a second and on every frame
	// heard, settled 10 ms behind the clock (a frame is judged when its
	// last octet arrives). Never called for an always-on radio. Same rules
	// as OnFrame (lock held, no blocking, no calls into the Stack).
	OnListen func(d time.Duration)

	// 6LoWPAN reassembly (RFC 4944 §5.3): buffers (default 4, a z1-like
	// budget) and timeout (default 10 s; the RFC's 60 s outlives a radio
	// mesh's useful latency).
	ReassemblyBuffers int
	ReassemblyTimeout time.Duration

	// UDPQueue is the number of datagrams a socket holds unread (default 64).
	UDPQueue int
	// HopLimit for packets this node originates (default 64).
	HopLimit uint8

	// OnFrame, when set, is told of every frame the radio sends or hears,
	// with its PSDU length in octets (MAC header, payload, FCS): data and
	// acknowledgment frames, fragments, retransmissions and RPL control
	// traffic alike. It runs with the stack's lock held and must neither
	// block nor call back into the Stack. The energy meter attaches here.
	OnFrame func(dir Dir, octets int)
	// OnJoin, when set, is told when the node joins a DODAG (at start-up,
	// after a repair, or in a new area after moving): the root's address
	// (where that area's gateway is) and the node's new global address.
	// OnLeave is told when it leaves one. Same rules as OnFrame.
	OnJoin  func(root, addr netip.Addr)
	OnLeave func()
}

func (c *Config) defaults() {
	if c.PAN == 0 {
		c.PAN = DefaultPAN
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	switch {
	case c.MaxFrameRetries == 0 && c.StrobeTime > 0:
		c.MaxFrameRetries = DefaultStrobeRetries
	case c.MaxFrameRetries == 0:
		c.MaxFrameRetries = DefaultMaxFrameRetries
	case c.MaxFrameRetries < 0:
		c.MaxFrameRetries = 0
	}
	c.ChannelCheckInterval = max(c.ChannelCheckInterval, 0)
	c.StrobeTime = max(c.StrobeTime, 0)
	if c.AckWait <= 0 {
		c.AckWait = 20 * time.Millisecond
	}
	if c.TxQueue <= 0 {
		c.TxQueue = 32
	}
	if c.ReassemblyBuffers <= 0 {
		c.ReassemblyBuffers = 4
		if c.RPL.Root {
			c.ReassemblyBuffers = 64
		}
	}
	if c.ReassemblyTimeout <= 0 {
		c.ReassemblyTimeout = 10 * time.Second
	}
	if c.UDPQueue <= 0 {
		c.UDPQueue = 64
	}
	if c.HopLimit == 0 {
		c.HopLimit = 64
	}
}
