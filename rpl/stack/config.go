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
	case c.MaxFrameRetries == 0:
		c.MaxFrameRetries = DefaultMaxFrameRetries
	case c.MaxFrameRetries < 0:
		c.MaxFrameRetries = 0
	}
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
