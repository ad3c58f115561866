package hospital

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/lsmqtt/lsmqtt/node/sensors"
)

// Transports: how the motes reach their ward's gateway.
const (
	// TransportMesh: every mote on the emulated 6LoWPAN/RPL mesh (one
	// radio medium for the floor plan, a border router per ward).
	TransportMesh = "mesh"
	// TransportUDP: MQTT-SN over loopback UDP, frames estimated
	// (mote.LinkModel); the fast option for very large runs.
	TransportUDP = "udp"
)

// Handover modes.
const (
	HandoverReconnect = "reconnect"
	HandoverSession   = "handover"
)

// Duration is a time.Duration written as "90s" or "5m" in scenario files.
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	d.Duration = v
	return err
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Scenario is what a simulation runs: the hospital, its patients and how
// they move, the traffic and the security suite. Files are TOML
// (node/hospital/scenarios/*.toml; docs/hospital.md describes every key).
type Scenario struct {
	Name string `toml:"name"`
	Seed uint64 `toml:"seed"`
	// Duration is the simulated time (default 5m).
	Duration Duration `toml:"duration"`

	// Areas are the wards by name, in corridor order. Default: AreaCount
	// wards named "1", "2", ...
	Areas     []string `toml:"areas"`
	AreaCount int      `toml:"area_count"`
	// Spacing is the corridor distance between ward centres (m, default 60);
	// Size the side of a ward (m, default 20).
	Spacing float64 `toml:"spacing"`
	Size    float64 `toml:"size"`

	// Patients is how many patients there are (default 4). Patient i starts
	// in ward i mod len(Areas).
	Patients int `toml:"patients"`
	// Scenarios are the sensors scenarios dealt to patients in turn
	// (default "stable"; see node/sensors).
	Scenarios []string `toml:"sensor_scenarios"`

	// Alarms overrides alarm limits (zero fields keep
	// sensors.DefaultThresholds): a demo with tight limits shows alarms in
	// a minute, where the built-in episodes start after several.
	Alarms AlarmLimits `toml:"alarms"`

	Mobility Mobility `toml:"mobility"`

	// PublishInterval is how often a mote samples and publishes its vitals
	// (default 10s).
	PublishInterval Duration `toml:"publish_interval"`
	// QoS of the vitals; alarms go at max(QoS, 1) (default 1).
	QoS *int `toml:"qos"`
	// Suite is the payload cipher (ascon128, aes128-ccm8, paper-xor).
	Suite string `toml:"suite"`
	// Transport is "mesh" (default: the emulated 6LoWPAN/RPL mesh) or
	// "udp" (loopback UDP with estimated frames).
	Transport string `toml:"transport"`
	// RadioRange is the radio range on the mesh (m, default Spacing/2: a
	// patient in a ward reaches that ward's border router and nobody
	// else's).
	RadioRange float64 `toml:"radio_range"`
	// Loss drops this fraction of datagrams between motes and gateways
	// (both ways, UDP transport), or of frame deliveries on the radio
	// medium (mesh), drawn from the seed.
	Loss float64 `toml:"loss"`
	// Handover is how a node changes wards: "handover" (default: the
	// gateways' session handover, HO-RESUME at the visited gateway, which
	// node/mote's Move does) or "reconnect" (a full connect at the new
	// ward's gateway: mote Config.NoHandover).
	Handover string `toml:"handover"`
	// HandoverTimeout bounds a reconnection after a move (default 60s).
	HandoverTimeout Duration `toml:"handover_timeout"`
}

// AlarmLimits override sensors.DefaultThresholds where non-zero.
type AlarmLimits struct {
	HeartRateHigh   float64 `toml:"heart_rate_high"`
	HeartRateLow    float64 `toml:"heart_rate_low"`
	SpO2Low         float64 `toml:"spo2_low"`
	TemperatureHigh float64 `toml:"temperature_high"`
}

func (a AlarmLimits) thresholds() *sensors.Thresholds {
	t := sensors.DefaultThresholds
	if a.HeartRateHigh != 0 {
		t.HeartRateHigh = a.HeartRateHigh
	}
	if a.HeartRateLow != 0 {
		t.HeartRateLow = a.HeartRateLow
	}
	if a.SpO2Low != 0 {
		t.SpO2Low = a.SpO2Low
	}
	if a.TemperatureHigh != 0 {
		t.TemperatureHigh = a.TemperatureHigh
	}
	return &t
}

// Mobility says how patients move.
type Mobility struct {
	// Model is "waypoint" (default), "script" or "static".
	Model string `toml:"model"`
	// Dwell is the mean stay in a ward (default 2m); Speed the walking speed
	// (m/s, default 1.2).
	Dwell Duration `toml:"dwell"`
	Speed float64  `toml:"speed"`
	// Moving is the fraction of patients who walk (default 1); the others
	// stay in bed.
	Moving *float64 `toml:"moving"`
	// Moves are the scripted moves (Model "script").
	Moves []Move `toml:"moves"`
}

// Move is one scripted move: at At, patient Patient (0-based) leaves for
// ward Area.
type Move struct {
	At      Duration `toml:"at"`
	Patient int      `toml:"patient"`
	Area    string   `toml:"area"`
}

// LoadScenario reads a TOML scenario file and fills in the defaults.
func LoadScenario(path string) (*Scenario, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseScenario(b)
}

// ParseScenario parses a TOML scenario and fills in the defaults.
func ParseScenario(b []byte) (*Scenario, error) {
	var s Scenario
	md, err := toml.Decode(string(b), &s)
	if err != nil {
		return nil, fmt.Errorf("hospital: scenario: %w", err)
	}
	if un := md.Undecoded(); len(un) > 0 {
		return nil, fmt.Errorf("hospital: scenario: unknown key %q", un[0].String())
	}
	if err := s.Defaults(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Defaults fills in zero fields and checks the scenario.
func (s *Scenario) Defaults() error {
	if s.Name == "" {
		s.Name = "hospital"
	}
	if s.Duration.Duration == 0 {
		s.Duration.Duration = 5 * time.Minute
	}
	if len(s.Areas) == 0 {
		if s.AreaCount == 0 {
			s.AreaCount = 2
		}
		for i := range s.AreaCount {
			s.Areas = append(s.Areas, fmt.Sprint(i+1))
		}
	}
	s.AreaCount = len(s.Areas)
	if s.AreaCount > 250 {
		return errors.New("hospital: at most 250 areas")
	}
	seen := map[string]bool{}
	for _, a := range s.Areas {
		if a == "" || seen[a] {
			return fmt.Errorf("hospital: area name %q empty or repeated", a)
		}
		seen[a] = true
	}
	if s.Spacing == 0 {
		s.Spacing = 60
	}
	if s.Size == 0 {
		s.Size = 20
	}
	if s.RadioRange == 0 {
		s.RadioRange = s.Spacing / 2
	}
	switch s.Transport {
	case "":
		s.Transport = TransportMesh
	case TransportMesh, TransportUDP:
	default:
		return fmt.Errorf("hospital: transport %q (mesh or udp)", s.Transport)
	}
	if s.Patients == 0 {
		s.Patients = 4
	}
	if s.Patients < 0 || s.Patients > 60000 {
		return fmt.Errorf("hospital: %d patients", s.Patients)
	}
	if len(s.Scenarios) == 0 {
		s.Scenarios = []string{"stable"}
	}
	m := &s.Mobility
	if m.Model == "" {
		m.Model = "waypoint"
	}
	switch m.Model {
	case "waypoint", "static":
	case "script":
		for _, mv := range m.Moves {
			if mv.Patient < 0 || mv.Patient >= s.Patients || !seen[mv.Area] {
				return fmt.Errorf("hospital: scripted move of patient %d to %q: no such patient or area", mv.Patient, mv.Area)
			}
		}
	default:
		return fmt.Errorf("hospital: mobility model %q (waypoint, script or static)", m.Model)
	}
	if m.Dwell.Duration == 0 {
		m.Dwell.Duration = 2 * time.Minute
	}
	if m.Speed == 0 {
		m.Speed = 1.2
	}
	if m.Moving == nil {
		one := 1.0
		m.Moving = &one
	}
	if s.PublishInterval.Duration == 0 {
		s.PublishInterval.Duration = 10 * time.Second
	}
	if s.QoS == nil {
		one := 1
		s.QoS = &one
	}
	if *s.QoS < 0 || *s.QoS > 1 {
		return fmt.Errorf("hospital: QoS %d (0 or 1)", *s.QoS)
	}
	if s.Suite == "" {
		s.Suite = "ascon128"
	}
	if s.Loss < 0 || s.Loss >= 1 {
		return fmt.Errorf("hospital: loss %v not in [0,1)", s.Loss)
	}
	for _, n := range s.Scenarios {
		if _, err := sensors.Scenario(n, 0); err != nil {
			return fmt.Errorf("hospital: %w", err)
		}
	}
	slices.SortStableFunc(m.Moves, func(a, b Move) int { return cmp.Compare(a.At.Duration, b.At.Duration) })
	switch s.Handover {
	case "":
		s.Handover = HandoverSession
	case HandoverReconnect, HandoverSession:
	default:
		return fmt.Errorf("hospital: handover %q (reconnect or handover)", s.Handover)
	}
	if s.HandoverTimeout.Duration == 0 {
		s.HandoverTimeout.Duration = time.Minute
	}
	return nil
}
