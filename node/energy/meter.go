package energy

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/node/profile"
)

// Activity says what CPU cycles were spent on, so a report can split the
// CPU state (Energest itself does not).
type Activity uint8

const (
	ActOther  Activity = iota // application work (CPU)
	ActStack                  // network stack (Stack)
	ActCrypto                 // cryptography (Crypto)
	ActSensor                 // sensor bus and conversion (Sample)
	numActivities
)

var (
	// ErrFrameSize is returned for a PSDU that no 802.15.4 radio can carry.
	ErrFrameSize = errors.New("energy: frame size out of range")
	// ErrUnknownSensor is returned by Sample for a sensor the profile lacks.
	ErrUnknownSensor = errors.New("energy: unknown sensor")
	// ErrTXPower is returned by SetTXPower for a level the profile lacks.
	ErrTXPower = errors.New("energy: TX power level not in profile")
)

// Meter accounts a node's energy. Create it with NewMeter; see the package
// documentation for the events it takes.
type Meter struct {
	mu sync.Mutex
	p  *profile.Profile

	elapsed acc // advanced wall time, denominator 1e9 (ns)
	cpu     acc // denominator: MCU clock (cycles)
	cycles  [numActivities]uint64
	tx      []acc // per TX level, denominator: bit rate (bits)
	txLevel int
	rxBits  acc // frames received, denominator: bit rate
	rxWait  acc // radio on without a frame, denominator 1e9 (ns)
	sensor  []acc
	samples []uint64

	framesTX, framesRX, bytesTX, bytesRX uint64
	cryptoOps                            uint64
	rejected                             uint64
}

// NewMeter returns a meter at time zero for profile p, transmitting at the
// profile's default power. The meter keeps p; do not change it afterwards
// (Clone it first).
func NewMeter(p *profile.Profile) *Meter {
	m := &Meter{
		p:       p,
		tx:      make([]acc, len(p.Radio.TXLevels)),
		sensor:  make([]acc, len(p.Sensors)),
		samples: make([]uint64, len(p.Sensors)),
	}
	for i, l := range p.Radio.TXLevels {
		if l.DBm == p.Radio.DefaultTXDBm {
			m.txLevel = i
		}
	}
	return m
}

// Profile returns the meter's profile.
func (m *Meter) Profile() *profile.Profile { return m.p }

// Advance records that d of wall (or virtual) time has passed. Time not spent
// in the CPU state is LPM. A negative d is ignored.
func (m *Meter) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	m.mu.Lock()
	m.elapsed.add(uint64(d), uint64(time.Second))
	m.mu.Unlock()
}

// CPU records cycles of MCU work (converted to ticks by the profile's clock).
func (m *Meter) CPU(cycles uint64) { m.cpuFor(ActOther, cycles) }

// Stack records cycles of network-stack work on the MCU.
func (m *Meter) Stack(cycles uint64) { m.cpuFor(ActStack, cycles) }

func (m *Meter) cpuFor(a Activity, cycles uint64) {
	m.mu.Lock()
	m.cpu.add(cycles, m.p.MCU.ClockHz)
	m.cycles[a] = satAdd(m.cycles[a], cycles)
	m.mu.Unlock()
}

// Crypto records one cryptographic operation and returns the cycles it cost
// (see CryptoCycles).
func (m *Meter) Crypto(s Suite, op Op, payloadLen, adLen int) (uint64, error) {
	c, err := CryptoCycles(m.p, s, op, payloadLen, adLen)
	m.mu.Lock()
	defer m.mu.Unlock()
	if err != nil {
		m.rejected++
		return 0, err
	}
	m.cpu.add(c, m.p.MCU.ClockHz)
	m.cycles[ActCrypto] = satAdd(m.cycles[ActCrypto], c)
	m.cryptoOps++
	return c, nil
}

func (m *Meter) frameOK(psdu int) bool {
	return psdu > m.p.Radio.FCSBytes && psdu <= m.p.Radio.MaxPSDUBytes
}

// TX records one frame transmitted: psduBytes is the MAC frame including
// its FCS (at most 127 bytes); airtime adds the PHY overhead.
func (m *Meter) TX(psduBytes int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.frameOK(psduBytes) {
		m.rejected++
		return fmt.Errorf("%w: TX %d bytes", ErrFrameSize, psduBytes)
	}
	m.tx[m.txLevel].add(AirtimeBits(m.p, psduBytes), m.p.Radio.BitRate)
	m.framesTX++
	m.bytesTX += uint64(psduBytes)
	return nil
}

// RX records one frame received (PSDU bytes, FCS included).
func (m *Meter) RX(psduBytes int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.frameOK(psduBytes) {
		m.rejected++
		return fmt.Errorf("%w: RX %d bytes", ErrFrameSize, psduBytes)
	}
	m.rxBits.add(AirtimeBits(m.p, psduBytes), m.p.Radio.BitRate)
	m.framesRX++
	m.bytesRX += uint64(psduBytes)
	return nil
}

// Listen records the radio on in receive mode without a frame for d: clear
// channel assessment, the turnaround before an ACK, waiting for a reply.
// Energest counts it as RX (LISTEN). A negative d is ignored.
func (m *Meter) Listen(d time.Duration) {
	if d <= 0 {
		return
	}
	m.mu.Lock()
	m.rxWait.add(uint64(d), uint64(time.Second))
	m.mu.Unlock()
}

// Sample records one reading of the named sensor: the sensor powered for
// its sample time and the MCU cycles to read it.
func (m *Meter) Sample(sensor string) error {
	i := m.p.SensorIndex(sensor)
	m.mu.Lock()
	defer m.mu.Unlock()
	if i < 0 {
		m.rejected++
		return fmt.Errorf("%w: %q", ErrUnknownSensor, sensor)
	}
	s := &m.p.Sensors[i]
	m.sensor[i].add(s.SampleUS, uint64(time.Second/time.Microsecond))
	m.samples[i]++
	m.cpu.add(s.CPUCycles, m.p.MCU.ClockHz)
	m.cycles[ActSensor] = satAdd(m.cycles[ActSensor], s.CPUCycles)
	return nil
}

// SetTXPower selects the output power of later transmissions; the level
// must be one of the profile's radio.tx_levels.
func (m *Meter) SetTXPower(dBm int) error {
	for i, l := range m.p.Radio.TXLevels {
		if l.DBm == dBm {
			m.mu.Lock()
			m.txLevel = i
			m.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("%w: %d dBm", ErrTXPower, dBm)
}
