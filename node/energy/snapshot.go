package energy

import (
	"math"
	"math/bits"
	"time"

	"github.com/lsmqtt/lsmqtt/node/profile"
)

// StateTicks is ticks per power state.
type StateTicks struct {
	CPU        uint64 `json:"cpu"`
	LPM        uint64 `json:"lpm"`
	TX         uint64 `json:"tx"`
	RX         uint64 `json:"rx"`
	IdleListen uint64 `json:"idle_listen"`
	Sensor     uint64 `json:"sensor"`
}

// StateEnergy is energy per power state, in mJ.
type StateEnergy struct {
	CPU        float64 `json:"cpu"`
	LPM        float64 `json:"lpm"`
	TX         float64 `json:"tx"`
	RX         float64 `json:"rx"`
	IdleListen float64 `json:"idle_listen"`
	Sensor     float64 `json:"sensor"`
}

// Total is the sum over states, in mJ.
func (e StateEnergy) Total() float64 {
	return e.CPU + e.LPM + e.TX + e.RX + e.IdleListen + e.Sensor
}

// Radio is the energy of the radio states (TX, RX and idle listening), in mJ.
func (e StateEnergy) Radio() float64 { return e.TX + e.RX + e.IdleListen }

func (e StateEnergy) sub(o StateEnergy) StateEnergy {
	return StateEnergy{e.CPU - o.CPU, e.LPM - o.LPM, e.TX - o.TX, e.RX - o.RX, e.IdleListen - o.IdleListen, e.Sensor - o.Sensor}
}

// Cycles are MCU cycles by what they were spent on.
type Cycles struct {
	Other  uint64 `json:"other"`
	Stack  uint64 `json:"stack"`
	Crypto uint64 `json:"crypto"`
	Sensor uint64 `json:"sensor"`
}

// Snapshot is a meter's accounting at one moment.
type Snapshot struct {
	Profile string `json:"profile"`
	// Time is the elapsed time in ticks: the time advanced, or the busy time
	// (CPU, or TX+RX) if the events overran it.
	Time   uint64      `json:"time_ticks"`
	Ticks  StateTicks  `json:"ticks"`
	Energy StateEnergy `json:"energy_mj"`
	Cycles Cycles      `json:"cycles"`

	FramesTX  uint64 `json:"frames_tx"`
	FramesRX  uint64 `json:"frames_rx"`
	BytesTX   uint64 `json:"bytes_tx"` // PSDU bytes, FCS included, PHY overhead not
	BytesRX   uint64 `json:"bytes_rx"`
	CryptoOps uint64 `json:"crypto_ops"`
	Samples   uint64 `json:"samples"`
	Rejected  uint64 `json:"rejected"` // events refused with an error
}

// Snapshot returns the accounting so far.
func (m *Meter) Snapshot() Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := m.p
	v := p.VoltageV
	var s Snapshot
	s.Profile = p.Name
	var txE float64
	for i := range m.tx {
		s.Ticks.TX = satAdd(s.Ticks.TX, m.tx[i].ticks)
		txE += MilliJoules(m.tx[i].ticks, p.Radio.TXLevels[i].MA, v)
	}
	var senE float64
	for i := range m.sensor {
		s.Ticks.Sensor = satAdd(s.Ticks.Sensor, m.sensor[i].ticks)
		senE += MilliJoules(m.sensor[i].ticks, p.Sensors[i].CurrentMA, v)
		s.Samples += m.samples[i]
	}
	s.Ticks.CPU = m.cpu.ticks
	s.Ticks.RX = satAdd(m.rxBits.ticks, m.rxWait.ticks)
	radioBusy := satAdd(s.Ticks.TX, s.Ticks.RX)
	s.Time = max(m.elapsed.ticks, s.Ticks.CPU, radioBusy)
	s.Ticks.LPM = s.Time - s.Ticks.CPU
	s.Ticks.IdleListen = mulDiv(s.Time-radioBusy, p.MAC.IdleListenPPM, 1_000_000)

	s.Energy = StateEnergy{
		CPU:        MilliJoules(s.Ticks.CPU, p.Currents.CPU, v),
		LPM:        MilliJoules(s.Ticks.LPM, p.Currents.LPM, v),
		TX:         txE,
		RX:         MilliJoules(s.Ticks.RX, p.Currents.RX, v),
		IdleListen: MilliJoules(s.Ticks.IdleListen, p.Currents.RX, v),
		Sensor:     senE,
	}
	s.Cycles = Cycles{m.cycles[ActOther], m.cycles[ActStack], m.cycles[ActCrypto], m.cycles[ActSensor]}
	s.FramesTX, s.FramesRX = m.framesTX, m.framesRX
	s.BytesTX, s.BytesRX = m.bytesTX, m.bytesRX
	s.CryptoOps, s.Rejected = m.cryptoOps, m.rejected
	return s
}

// mulDiv is a·b/c rounded down, for b ≤ c (so the quotient fits).
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, c)
	return q
}

// TotalMJ is the energy spent so far, in mJ.
func (s Snapshot) TotalMJ() float64 { return s.Energy.Total() }

// Elapsed is Time as a duration.
func (s Snapshot) Elapsed() time.Duration { return Duration(s.Time) }

// AveragePowerMW is the mean power over the elapsed time, in mW:
// Σ ticks × I × V / (TickRate × T) — the quantity the paper's formula (1)
// computes. Zero when no time has elapsed.
func (s Snapshot) AveragePowerMW() float64 {
	if s.Time == 0 {
		return 0
	}
	return s.TotalMJ() * TickRate / float64(s.Time)
}

// LifetimeHours projects how long the profile's battery (with its derating)
// lasts at this snapshot's average power. +Inf when the power is zero.
func (s Snapshot) LifetimeHours(b profile.Battery) float64 {
	return LifetimeHours(b, s.AveragePowerMW())
}

// LifetimeHours is battery energy over power: E_J × 1000 / P_mW / 3600.
func LifetimeHours(b profile.Battery, powerMW float64) float64 {
	if powerMW <= 0 {
		return math.Inf(1)
	}
	return b.EnergyJ() * 1000 / powerMW / 3600
}

// Sub returns s − o field by field: the accounting of what happened between
// an earlier snapshot o and s of the same meter.
func (s Snapshot) Sub(o Snapshot) Snapshot {
	d := s
	d.Time = satSub(s.Time, o.Time)
	d.Ticks = StateTicks{
		CPU: satSub(s.Ticks.CPU, o.Ticks.CPU), LPM: satSub(s.Ticks.LPM, o.Ticks.LPM),
		TX: satSub(s.Ticks.TX, o.Ticks.TX), RX: satSub(s.Ticks.RX, o.Ticks.RX),
		IdleListen: satSub(s.Ticks.IdleListen, o.Ticks.IdleListen), Sensor: satSub(s.Ticks.Sensor, o.Ticks.Sensor),
	}
	d.Energy = s.Energy.sub(o.Energy)
	d.Cycles = Cycles{
		satSub(s.Cycles.Other, o.Cycles.Other), satSub(s.Cycles.Stack, o.Cycles.Stack),
		satSub(s.Cycles.Crypto, o.Cycles.Crypto), satSub(s.Cycles.Sensor, o.Cycles.Sensor),
	}
	d.FramesTX, d.FramesRX = satSub(s.FramesTX, o.FramesTX), satSub(s.FramesRX, o.FramesRX)
	d.BytesTX, d.BytesRX = satSub(s.BytesTX, o.BytesTX), satSub(s.BytesRX, o.BytesRX)
	d.CryptoOps, d.Samples = satSub(s.CryptoOps, o.CryptoOps), satSub(s.Samples, o.Samples)
	d.Rejected = satSub(s.Rejected, o.Rejected)
	return d
}
