package eval

import (
	"math"

	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

// Origin says where per-transaction figures come from.
type Origin string

const (
	// Modelled figures come from running the meter over a modelled
	// transaction (Model).
	Modelled Origin = "modelled"
	// Measured figures come from the meters of an emulator run (Measured).
	Measured Origin = "measured"
)

// Component is the marginal cost of one part of a transaction: what the
// node spends beyond what it would have spent idle over the same time (its
// active ticks minus the LPM and idle listening they displace).
type Component struct {
	EnergyMJ float64 `json:"energy_mj"`
	CPUTicks uint64  `json:"cpu_ticks"`
	TXTicks  uint64  `json:"tx_ticks"`
	RXTicks  uint64  `json:"rx_ticks"`
	Cycles   uint64  `json:"cycles"`
	FramesTX uint64  `json:"frames_tx"`
	FramesRX uint64  `json:"frames_rx"`
	BytesTX  uint64  `json:"bytes_tx"`
	BytesRX  uint64  `json:"bytes_rx"`
}

// marginal is the component of the events in d (a snapshot delta) over an
// idle delta of the same duration.
func marginal(d, idle energy.Snapshot) Component {
	return Component{
		EnergyMJ: d.TotalMJ() - idle.TotalMJ(),
		CPUTicks: d.Ticks.CPU,
		TXTicks:  d.Ticks.TX,
		RXTicks:  d.Ticks.RX,
		Cycles:   d.Cycles.Other + d.Cycles.Stack + d.Cycles.Crypto + d.Cycles.Sensor,
		FramesTX: d.FramesTX, FramesRX: d.FramesRX,
		BytesTX: d.BytesTX, BytesRX: d.BytesRX,
	}
}

func (c Component) scale(f float64) Component {
	r := func(v uint64) uint64 { return uint64(math.Round(float64(v) * f)) }
	return Component{
		EnergyMJ: c.EnergyMJ * f,
		CPUTicks: r(c.CPUTicks), TXTicks: r(c.TXTicks), RXTicks: r(c.RXTicks), Cycles: r(c.Cycles),
		FramesTX: r(c.FramesTX), FramesRX: r(c.FramesRX), BytesTX: r(c.BytesTX), BytesRX: r(c.BytesRX),
	}
}

// Figures are the per-transaction energies of one scheme on one profile.
// A transaction is, as in the paper's §6.3, encryption, transmission,
// reception and decryption: Encrypt and Transmit are spent by the
// publishing mote, Receive and Decrypt by a subscribing mote.
type Figures struct {
	Scheme  Scheme `json:"scheme"`
	Profile string `json:"profile"`
	Origin  Origin `json:"origin"`

	Encrypt  Component `json:"encrypt"`
	Transmit Component `json:"transmit"`
	Receive  Component `json:"receive"`
	Decrypt  Component `json:"decrypt"`

	// SetupPublisher and SetupSubscriber are one session's setup on each
	// mote (TS key delivery, or the DTLS handshake), spread over SessionTx
	// transactions. Zero in measured figures, whose runs include the setup.
	SetupPublisher  Component `json:"setup_publisher"`
	SetupSubscriber Component `json:"setup_subscriber"`
	SessionTx       int       `json:"session_tx"`

	// IdlePowerMW is the publisher's floor with no traffic: LPM current and
	// the MAC's idle listening.
	IdlePowerMW float64 `json:"idle_power_mw"`

	Frames FrameSizes `json:"frames"`
	Notes  []string   `json:"notes,omitempty"`
}

func (f Figures) setupShare(c Component) float64 {
	if f.SessionTx <= 0 {
		return 0
	}
	return c.EnergyMJ / float64(f.SessionTx)
}

// NodeMJ is the publishing mote's energy per transaction: encrypt,
// transmit, and its share of the session setup.
func (f Figures) NodeMJ() float64 {
	return f.Encrypt.EnergyMJ + f.Transmit.EnergyMJ + f.setupShare(f.SetupPublisher)
}

// TransactionMJ is the paper's per-transaction energy: encrypt, transmit,
// receive, decrypt, and both motes' shares of the session setup.
func (f Figures) TransactionMJ() float64 {
	return f.Encrypt.EnergyMJ + f.Transmit.EnergyMJ + f.Receive.EnergyMJ + f.Decrypt.EnergyMJ +
		f.setupShare(f.SetupPublisher) + f.setupShare(f.SetupSubscriber)
}

// LifetimeHours is the publishing mote's battery life at rate transactions
// per hour: battery energy / (idle floor over an hour + rate × NodeMJ).
func (f Figures) LifetimeHours(b profile.Battery, rate float64) float64 {
	return f.LifetimeHoursJ(b.EnergyJ(), rate)
}

// LifetimeHoursJ is LifetimeHours for a battery of batteryJ joules.
func (f Figures) LifetimeHoursJ(batteryJ, rate float64) float64 {
	perHour := f.IdlePowerMW*3600 + rate*f.NodeMJ()
	if perHour <= 0 {
		return math.Inf(1)
	}
	return batteryJ * 1000 / perHour
}

// Source supplies per-transaction figures for a scheme.
type Source interface {
	Figures(s Scheme) (Figures, error)
}
