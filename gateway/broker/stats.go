package broker

import (
	"sync"
	"sync/atomic"
)

// Stats is a snapshot of an adapter's counters, for metrics. Counters only grow;
// Queued, Clients and Subscriptions are current values.
type Stats struct {
	State         State
	Clients       int    // attached clients
	Subscriptions int    // subscriptions held for clients
	Queued        int    // messages waiting in the outbound queue (external brokers)
	QueueLimit    int    // bound of the outbound queue (0: no queue)
	Published     uint64 // messages accepted (acknowledged by the broker or queued)
	Delivered     uint64 // messages handed to the DeliverFunc
	Busy          uint64 // Publish calls refused with ErrBusy
	Dropped       uint64 // messages dropped (see DroppedByReason)
	Reconnects    uint64 // successful connections after the first (external brokers)
	// DroppedByReason counts drops by a short reason: "no_deliver" (no
	// DeliverFunc installed), "detached_qos0" (a QoS 0 message for a detached
	// client), "detached_full" (the queue of a detached persistent client is
	// full), "shutdown" (queued at Close).
	DroppedByReason map[string]uint64
}

// StatsSource is implemented by every adapter in this package.
type StatsSource interface {
	Stats() Stats
}

func (s State) String() string {
	switch s {
	case StateDisconnected:
		return "disconnected"
	case StateConnecting:
		return "connecting"
	case StateConnected:
		return "connected"
	}
	return "unknown"
}

// counters is the shared bookkeeping behind Stats.
type counters struct {
	published, delivered, busy, reconnects atomic.Uint64
	mu                                     sync.Mutex
	dropped                                map[string]uint64
}

func (c *counters) drop(reason string, n int) {
	c.mu.Lock()
	if c.dropped == nil {
		c.dropped = make(map[string]uint64)
	}
	c.dropped[reason] += uint64(n)
	c.mu.Unlock()
}

func (c *counters) fill(s *Stats) {
	s.Published = c.published.Load()
	s.Delivered = c.delivered.Load()
	s.Busy = c.busy.Load()
	s.Reconnects = c.reconnects.Load()
	c.mu.Lock()
	s.DroppedByReason = make(map[string]uint64, len(c.dropped))
	for k, v := range c.dropped {
		s.DroppedByReason[k] = v
		s.Dropped += v
	}
	c.mu.Unlock()
}
