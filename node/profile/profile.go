package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
)

// Profile is one mote class. All currents are in mA, times in µs, clock and
// bit rate in Hz and bit/s. The zero value is not usable; get a Profile from
// Load, LoadFile or Parse, which validate it.
type Profile struct {
	Name        string `json:"name"`
	Description string `json:"description"`

	MCU      MCU      `json:"mcu"`
	VoltageV float64  `json:"voltage_v"` // supply voltage used for E = I·V·t
	Currents Currents `json:"currents_ma"`
	Radio    Radio    `json:"radio"`
	MAC      MAC      `json:"mac"`
	Battery  Battery  `json:"battery"`
	Crypto   Crypto   `json:"crypto_cycles"`

	// StackCyclesPerFrame is the CPU work to build or parse one frame through
	// the MAC, 6LoWPAN, UDP and MQTT-SN layers and move it over SPI.
	StackCyclesPerFrame uint64 `json:"stack_cycles_per_frame"`

	Sensors []Sensor `json:"sensors"`

	// CodeBytes is the code size of cryptographic building blocks on this
	// MCU, keyed by block name (e.g. "aes128", "ascon-p", "xor").
	CodeBytes map[string]int `json:"code_bytes"`

	// Sources names where each figure comes from, keyed by the JSON path of
	// the field (e.g. "currents_ma.cpu").
	Sources map[string]string `json:"sources"`
	// Approximate lists the JSON paths of figures that are estimates rather
	// than datasheet or measured values.
	Approximate []string `json:"approximate"`
}

// MCU is the microcontroller.
type MCU struct {
	Name       string `json:"name"`
	ClockHz    uint64 `json:"clock_hz"`
	RAMBytes   int    `json:"ram_bytes"`
	FlashBytes int    `json:"flash_bytes"`
}

// Currents are the whole-board currents of the Energest states, in mA.
// TX currents depend on output power and live in Radio.TXLevels.
type Currents struct {
	CPU float64 `json:"cpu"` // MCU active
	LPM float64 `json:"lpm"` // MCU in low-power mode, radio off
	RX  float64 `json:"rx"`  // radio receiving or listening
}

// TXLevel is the radio's current at one output power.
type TXLevel struct {
	DBm int     `json:"dbm"`
	MA  float64 `json:"ma"`
}

// Radio is the IEEE 802.15.4 transceiver.
type Radio struct {
	Name    string `json:"name"`
	BitRate uint64 `json:"bit_rate"` // bit/s on air; 250,000 for O-QPSK 2.4 GHz
	// PHYOverheadBytes is what the PHY adds to each PSDU: preamble 4, SFD 1,
	// frame length 1 (IEEE 802.15.4-2006 §6.3).
	PHYOverheadBytes int `json:"phy_overhead_bytes"`
	FCSBytes         int `json:"fcs_bytes"`      // MAC footer, counted in the PSDU
	MaxPSDUBytes     int `json:"max_psdu_bytes"` // aMaxPHYPacketSize, 127
	// TurnaroundUS is aTurnaroundTime (12 symbols, 192 µs at 2.4 GHz),
	// the RX-TX switch before an acknowledgement (IEEE 802.15.4-2006 §6.4.1).
	TurnaroundUS uint64 `json:"turnaround_us"`
	// CCAUS is the clear-channel assessment time, 8 symbols (128 µs).
	CCAUS        uint64    `json:"cca_us"`
	TXLevels     []TXLevel `json:"tx_levels"`
	DefaultTXDBm int       `json:"default_tx_dbm"`
}

// MAC is the radio duty cycle of the idle node.
type MAC struct {
	Name string `json:"name"`
	// IdleListenPPM is the fraction of otherwise idle time the radio is on
	// for channel checks, in parts per million (4,000 = 0.4 %).
	IdleListenPPM  uint64 `json:"idle_listen_ppm"`
	ChannelCheckHz int    `json:"channel_check_hz"`
}

// Battery is the energy store.
type Battery struct {
	Name        string  `json:"name"`
	CapacityMAh float64 `json:"capacity_mah"`
	VoltageV    float64 `json:"voltage_v"`
	// Derating is the usable fraction of the nominal capacity, in (0, 1].
	// 1 reproduces the paper; real cells at µA loads and with cut-off
	// voltages give less.
	Derating float64 `json:"derating"`
}

// EnergyJ is the usable energy of the battery in joules:
// capacity (mAh) × 3.6 C/mAh × V × derating.
func (b Battery) EnergyJ() float64 { return b.CapacityMAh * 3.6 * b.VoltageV * b.Derating }

// Crypto is the cost of cryptographic primitives on the MCU, in cycles.
type Crypto struct {
	XORPerByte       uint64 `json:"xor_per_byte"`       // load, xor, store, loop for one byte
	AESBlock         uint64 `json:"aes_block"`          // AES-128 encryption of one block
	AESKeySchedule   uint64 `json:"aes_key_schedule"`   // AES-128 key expansion
	AsconP6          uint64 `json:"ascon_p6"`           // six rounds of the Ascon permutation
	KDF              uint64 `json:"kdf"`                // one key derivation (HKDF-class)
	ECDHKeyGen       uint64 `json:"ecdh_keygen"`        // one ephemeral key pair
	ECDH             uint64 `json:"ecdh"`               // one shared secret
	ECDSASign        uint64 `json:"ecdsa_sign"`         // one signature
	ECDSAVerify      uint64 `json:"ecdsa_verify"`       // one verification
	SHA256Block      uint64 `json:"sha256_block"`       // one SHA-256 compression (DTLS PRF, transcript)
	HardwareAESBlock uint64 `json:"hardware_aes_block"` // 0 when the MCU has no AES engine in use
}

// Sensor is one on-board or attached sensor and the cost of one sample.
type Sensor struct {
	Name      string  `json:"name"`
	CurrentMA float64 `json:"current_ma"` // while sampling, on top of the MCU
	SampleUS  uint64  `json:"sample_us"`  // how long one sample keeps it powered
	CPUCycles uint64  `json:"cpu_cycles"` // MCU work per sample (bus transfer, conversion)
}

// TXCurrent returns the TX current at dBm and whether the profile has it.
func (p *Profile) TXCurrent(dBm int) (float64, bool) {
	for _, l := range p.Radio.TXLevels {
		if l.DBm == dBm {
			return l.MA, true
		}
	}
	return 0, false
}

// SensorIndex returns the index of the named sensor in Sensors, or -1.
func (p *Profile) SensorIndex(name string) int {
	for i := range p.Sensors {
		if p.Sensors[i].Name == name {
			return i
		}
	}
	return -1
}

// IsApproximate reports whether the figure at path is marked approximate.
func (p *Profile) IsApproximate(path string) bool {
	for _, a := range p.Approximate {
		if a == path {
			return true
		}
	}
	return false
}

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid profile")

func invalid(name, field, why string) error {
	return fmt.Errorf("%w %q: %s %s", ErrInvalid, name, field, why)
}

func positive(v float64) bool { return v > 0 && !math.IsInf(v, 0) && !math.IsNaN(v) }

// Validate checks that every figure the energy model divides by or
// multiplies with is present and sane.
func (p *Profile) Validate() error {
	n := p.Name
	switch {
	case p.Name == "":
		return invalid(n, "name", "is empty")
	case p.MCU.ClockHz < 32768:
		return invalid(n, "mcu.clock_hz", "must be >= 32768")
	case !positive(p.VoltageV):
		return invalid(n, "voltage_v", "must be > 0")
	case !positive(p.Currents.CPU):
		return invalid(n, "currents_ma.cpu", "must be > 0")
	case !positive(p.Currents.LPM):
		return invalid(n, "currents_ma.lpm", "must be > 0")
	case !positive(p.Currents.RX):
		return invalid(n, "currents_ma.rx", "must be > 0")
	case p.Radio.BitRate == 0 || p.Radio.BitRate%8 != 0:
		return invalid(n, "radio.bit_rate", "must be a positive multiple of 8")
	case p.Radio.PHYOverheadBytes < 0 || p.Radio.FCSBytes < 0:
		return invalid(n, "radio", "overheads must be >= 0")
	case p.Radio.MaxPSDUBytes <= p.Radio.FCSBytes:
		return invalid(n, "radio.max_psdu_bytes", "must exceed fcs_bytes")
	case len(p.Radio.TXLevels) == 0:
		return invalid(n, "radio.tx_levels", "is empty")
	case p.MAC.IdleListenPPM > 1_000_000:
		return invalid(n, "mac.idle_listen_ppm", "must be <= 1,000,000")
	case !positive(p.Battery.CapacityMAh) || !positive(p.Battery.VoltageV):
		return invalid(n, "battery", "capacity and voltage must be > 0")
	case !(p.Battery.Derating > 0 && p.Battery.Derating <= 1):
		return invalid(n, "battery.derating", "must be in (0, 1]")
	}
	for _, l := range p.Radio.TXLevels {
		if !positive(l.MA) {
			return invalid(n, "radio.tx_levels", fmt.Sprintf("current at %d dBm must be > 0", l.DBm))
		}
	}
	if _, ok := p.TXCurrent(p.Radio.DefaultTXDBm); !ok {
		return invalid(n, "radio.default_tx_dbm", fmt.Sprintf("%d dBm is not in tx_levels", p.Radio.DefaultTXDBm))
	}
	seen := map[string]bool{}
	for _, s := range p.Sensors {
		if s.Name == "" || seen[s.Name] {
			return invalid(n, "sensors", fmt.Sprintf("name %q is empty or repeated", s.Name))
		}
		seen[s.Name] = true
		if s.CurrentMA < 0 || math.IsNaN(s.CurrentMA) {
			return invalid(n, "sensors."+s.Name+".current_ma", "must be >= 0")
		}
	}
	return nil
}

// Parse decodes and validates a JSON profile. Unknown fields are errors, so a
// typo in a hand-written profile does not silently become a zero.
func Parse(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	p := new(Profile)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// Clone returns a deep copy, so callers may change a loaded profile (for
// example its battery derating) without touching the shared one.
func (p *Profile) Clone() *Profile {
	q := *p
	q.Radio.TXLevels = append([]TXLevel(nil), p.Radio.TXLevels...)
	q.Sensors = append([]Sensor(nil), p.Sensors...)
	q.Approximate = append([]string(nil), p.Approximate...)
	q.CodeBytes = cloneMap(p.CodeBytes)
	q.Sources = cloneMap(p.Sources)
	return &q
}

func cloneMap[V any](m map[string]V) map[string]V {
	if m == nil {
		return nil
	}
	c := make(map[string]V, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// SourceKeys returns the keys of Sources in order, for printing.
func (p *Profile) SourceKeys() []string {
	k := make([]string, 0, len(p.Sources))
	for s := range p.Sources {
		k = append(k, s)
	}
	sort.Strings(k)
	return k
}
