package mote

import (
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// AckWaitDuration is macAckWaitDuration for the 2.4 GHz O-QPSK PHY:
// aUnitBackoffPeriod (20) + aTurnaroundTime (12) + phySHRDuration (10) +
// 6 × phySymbolsPerOctet (12) = 54 symbols of 16 µs (IEEE 802.15.4-2006
// §7.4.2). A sender listens this long for an acknowledgement that does not
// come.
const AckWaitDuration = 54 * 16 * time.Microsecond

const ackPSDU = energy.AckPSDUBytes

// radioAccount turns frames into meter events. It is the one place where
// frame-level energy rules live, for both transports.
type radioAccount struct {
	m              *energy.Meter
	cca, turn      time.Duration
	stackCycles    uint64
	countOverheard bool

	mu     sync.Mutex
	frames FrameCounts
}

// FrameCounts counts the frames a mote's radio sent and heard.
type FrameCounts struct {
	TxFrames uint64 `json:"tx_frames"`
	TxOctets uint64 `json:"tx_octets"` // PSDU octets, FCS included
	RxFrames uint64 `json:"rx_frames"`
	RxOctets uint64 `json:"rx_octets"`
	// Overheard frames were addressed to others (mesh only).
	OverheardFrames uint64 `json:"overheard_frames"`
	OverheardOctets uint64 `json:"overheard_octets"`
	// TxAcks and RxAcks are the link-layer acknowledgements among them.
	TxAcks uint64 `json:"tx_acks"`
	RxAcks uint64 `json:"rx_acks"`
	// UnackedAttempts are unicast transmissions that got no
	// acknowledgement (mesh only; each cost an AckWaitDuration of listening).
	UnackedAttempts uint64 `json:"unacked_attempts"`
}

func newRadioAccount(m *energy.Meter, countOverheard bool) *radioAccount {
	p := m.Profile()
	return &radioAccount{
		m:              m,
		cca:            time.Duration(p.Radio.CCAUS) * time.Microsecond,
		turn:           time.Duration(p.Radio.TurnaroundUS) * time.Microsecond,
		stackCycles:    p.StackCyclesPerFrame,
		countOverheard: countOverheard,
	}
}

// frame accounts one PSDU of n octets (FCS included) in direction d.
//
//	Tx data frame: TX airtime, one CCA of listening before it, stack cycles.
//	Tx ack:        TX airtime, the RX-to-TX turnaround before it.
//	Rx data frame: RX airtime, stack cycles.
//	Rx ack:        RX airtime, the turnaround the sender waited through.
//	Overheard:     RX airtime only (or nothing, if not counted).
func (a *radioAccount) frame(d stack.Dir, n int) {
	ack := n == energy.AckPSDUBytes
	a.mu.Lock()
	switch d {
	case stack.Tx:
		a.frames.TxFrames++
		a.frames.TxOctets += uint64(n)
		if ack {
			a.frames.TxAcks++
		}
	case stack.Rx:
		a.frames.RxFrames++
		a.frames.RxOctets += uint64(n)
		if ack {
			a.frames.RxAcks++
		}
	default:
		a.frames.OverheardFrames++
		a.frames.OverheardOctets += uint64(n)
	}
	a.mu.Unlock()
	switch d {
	case stack.Tx:
		_ = a.m.TX(n)
		if ack {
			a.m.Listen(a.turn)
		} else {
			a.m.Listen(a.cca)
			a.m.Stack(a.stackCycles)
		}
	case stack.Rx:
		_ = a.m.RX(n)
		if ack {
			a.m.Listen(a.turn)
		} else {
			a.m.Stack(a.stackCycles)
		}
	default:
		if a.countOverheard {
			_ = a.m.RX(n)
		}
	}
}

// unacked accounts k unicast attempts that got no acknowledgement.
func (a *radioAccount) unacked(k uint64) {
	if k == 0 {
		return
	}
	a.mu.Lock()
	a.frames.UnackedAttempts += k
	a.mu.Unlock()
	a.m.Listen(time.Duration(k) * AckWaitDuration)
}

func (a *radioAccount) counts() FrameCounts {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.frames
}
