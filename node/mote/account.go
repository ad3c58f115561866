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
	// dutyCycled: the stack reports every stretch the radio listened
	// without a frame (listen), CCA, turnarounds and ACK waits included,
	// so frame and unacked charge airtime and CPU only.
	dutyCycled bool

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
	// acknowledgement (mesh only; each cost an AckWaitDuration of listening,
	// or, duty-cycled, what the stack reported).
	UnackedAttempts uint64 `json:"unacked_attempts"`
	// Listen is the radio-on time without a frame that a duty-cycled
	// stack reported (channel checks, ACK waits, strobe gaps, scanning
	// while unjoined); 0 for an always-on radio, whose idle listening is
	// the profile's model.
	Listen time.Duration `json:"listen_ns"`
}

func newRadioAccount(m *energy.Meter, countOverheard, dutyCycled bool) *radioAccount {
	p := m.Profile()
	a := &radioAccount{
		m:              m,
		stackCycles:    p.StackCyclesPerFrame,
		countOverheard: countOverheard,
		dutyCycled:     dutyCycled,
	}
	if !dutyCycled {
		a.cca = time.Duration(p.Radio.CCAUS) * time.Microsecond
		a.turn = time.Duration(p.Radio.TurnaroundUS) * time.Microsecond
	}
	return a
}

// listen accounts d of radio-on time without a frame, as a duty-cycled
// stack reports it (Energest LISTEN: charged at the RX current).
func (a *radioAccount) listen(d time.Duration) {
	if d <= 0 {
		return
	}
	a.mu.Lock()
	a.frames.Listen += d
	a.mu.Unlock()
	a.m.Listen(d)
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
	if !a.dutyCycled {
		a.m.Listen(time.Duration(k) * AckWaitDuration)
	}
}

func (a *radioAccount) counts() FrameCounts {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.frames
}
