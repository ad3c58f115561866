package dodag

import (
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/objective"
)

// Config configures a DODAG. Zero fields take the defaults noted; the
// DODAG-wide parameters (Trickle, ranks, lifetimes, objective) are set by
// the root and reach the nodes in the DODAG Configuration option.
type Config struct {
	// Root makes this node the DODAG root for Prefix.
	Root bool
	// Prefix is the area's /64, handed out in the Prefix Information
	// option (root only).
	Prefix netip.Prefix
	// InstanceID is the RPL instance (default 0, as Contiki-NG).
	InstanceID uint8

	// Root-set DODAG parameters (RFC 6550 §6.7.6).
	OCP                  uint16 // objective: objective.OCPMRHOF (default) or objective.OCP0
	OCPSet               bool   // OCP is meaningful even when zero (OF0)
	DIOIntervalMin       uint8  // log2 ms; default 10 (1.024 s); RPL-Lite 12
	DIOIntervalDoublings uint8  // default 8 (Imax about 4.4 min at the default Imin)
	DIORedundancy        uint8  // Trickle k; default 10 (RFC 6550 §17); 0 after DIORedundancySet means never suppress
	DIORedundancySet     bool
	MinHopRankIncrease   uint16 // default 128 (RPL-Lite)
	MaxRankIncrease      uint16 // default 1024 (RPL-Lite's 8·128)
	DefaultLifetime      uint8  // route lifetime in LifetimeUnits; default 5
	LifetimeUnit         uint16 // seconds; default 60 (so routes live 5 min)

	// Node behaviour (see the package documentation on parent loss).
	MaxNeighbors        int           // neighbour table size; default 8 (a z1 budget)
	ProbeInterval       time.Duration // probe a parent not heard from for this long; default 4 s
	ParentFailThreshold int           // consecutive failed unicasts that drop the parent; default 2
	DISInterval         time.Duration // first multicast DIS period while detached; default 2 s
	DISMaxInterval      time.Duration // the period doubles up to this; default 16 s (RPL-Lite: a fixed 30 s)
	DISStartDelay       time.Duration // first DIS after start, random up to this; default 500 ms
	DAODelay            time.Duration // DAO after a parent change, random in [d/2, d]; default 500 ms
	DAOAckTimeout       time.Duration // default 3 s
	DAOMaxRetries       int           // default 5, then local repair
	HoldDown            time.Duration // after a local repair, rejoin only below the old rank for this long; default 1 s
	// Leaf makes the node a leaf (RFC 6550 §8.5): it never extends the
	// DODAG, so it advertises INFINITE_RANK, sends no Trickle DIOs (a
	// unicast DIS still gets one, §8.3), and has no sub-DODAG to poison on
	// a local repair. It still sends DIS and DAOs. Default false (a
	// router), as before; for a node nobody routes through, such as a
	// patient's mote that moves between areas.
	Leaf bool

	Clock  clock.Clock // required
	Locker sync.Locker // the lock callers hold; timers take it; required
	Seed   uint64
	Logger *slog.Logger
}

func (c *Config) defaults() {
	if c.OCP == 0 && !c.OCPSet {
		c.OCP = objective.OCPMRHOF
	}
	if c.DIOIntervalMin == 0 {
		c.DIOIntervalMin = 10
	}
	if c.DIOIntervalDoublings == 0 {
		c.DIOIntervalDoublings = 8
	}
	if c.DIORedundancy == 0 && !c.DIORedundancySet {
		c.DIORedundancy = 10
	}
	if c.MinHopRankIncrease == 0 {
		c.MinHopRankIncrease = objective.ContikiMinHopRankIncrease
	}
	if c.MaxRankIncrease == 0 {
		c.MaxRankIncrease = 8 * c.MinHopRankIncrease
	}
	if c.DefaultLifetime == 0 {
		c.DefaultLifetime = 5
	}
	if c.LifetimeUnit == 0 {
		c.LifetimeUnit = 60
	}
	if c.MaxNeighbors <= 0 {
		c.MaxNeighbors = 8
	}
	if c.ProbeInterval <= 0 {
		c.ProbeInterval = 4 * time.Second
	}
	if c.ParentFailThreshold <= 0 {
		c.ParentFailThreshold = 2
	}
	if c.DISInterval <= 0 {
		c.DISInterval = 2 * time.Second
	}
	if c.DISMaxInterval < c.DISInterval {
		c.DISMaxInterval = max(16*time.Second, c.DISInterval)
	}
	if c.DISStartDelay <= 0 {
		c.DISStartDelay = 500 * time.Millisecond
	}
	if c.DAODelay <= 0 {
		c.DAODelay = 500 * time.Millisecond
	}
	if c.DAOAckTimeout <= 0 {
		c.DAOAckTimeout = 3 * time.Second
	}
	if c.DAOMaxRetries <= 0 {
		c.DAOMaxRetries = 5
	}
	if c.HoldDown <= 0 {
		c.HoldDown = time.Second
	}
	if c.Clock == nil {
		c.Clock = clock.Real{}
	}
	if c.Locker == nil {
		c.Locker = &sync.Mutex{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}
