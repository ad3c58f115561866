package stack

import (
	"errors"
	"time"
)

var errShort = errors.New("message too short")

// Counters count what the stack did. Drops are by reason.
type Counters struct {
	// Radio frames (every PSDU, acknowledgments included).
	TxFrames, TxOctets uint64
	RxFrames, RxOctets uint64 // frames addressed to this node or broadcast
	OverheardFrames    uint64 // frames heard but addressed to others
	AcksSent           uint64
	// MAC.
	MACTxAcked, MACTxFailed uint64 // unicast frames acknowledged / given up after retries
	MACRetries              uint64
	MACDuplicates           uint64
	MACQueueDrops           uint64
	RadioErrors             uint64
	// Duty cycling (Config.ChannelCheckInterval, Config.StrobeTime).
	SleptThrough  uint64        // frames that began while the radio slept: not received, not acknowledged
	StrobeRepeats uint64        // strobe repetitions after the first of each strobe
	ListenTime    time.Duration // sum of OnListen reports so far (settled at least once a second)
	// IPv6.
	PacketsTx, PacketsRx uint64
	FragmentedTx         uint64
	Forwarded            uint64
	SourceRouted         uint64 // packets the root sent with an SRH
	RPLTx                uint64
	ICMPErrorsTx         uint64
	ICMPErrorsRx         uint64
	UDPTx, UDPRx         uint64
	EchoReplies          uint64
	Drops                map[string]uint64
	// Bad counts input refused by a parser, by layer and reason.
	Bad map[string]uint64
}

// Counters returns a snapshot of the counters.
func (s *Stack) Counters() Counters {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cnt
	c.Drops = make(map[string]uint64, len(s.cnt.Drops))
	for k, v := range s.cnt.Drops {
		c.Drops[k] = v
	}
	c.Bad = make(map[string]uint64, len(s.bad))
	for k, v := range s.bad {
		c.Bad[k] = v
	}
	return c
}
