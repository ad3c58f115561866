package sensors

import "time"

// AlarmKind is a threshold that can be crossed.
type AlarmKind uint8

const (
	HeartRateHigh AlarmKind = iota
	HeartRateLow
	SpO2Low
	TemperatureHigh
	TemperatureLow
	numAlarms
)

var alarmNames = [numAlarms]string{"heart-rate-high", "heart-rate-low", "spo2-low", "temperature-high", "temperature-low"}

func (k AlarmKind) String() string {
	if k < numAlarms {
		return alarmNames[k]
	}
	return "alarm(?)"
}

// Thresholds are the alarm limits and how far back a value must come before
// an alarm clears (hysteresis), so a value hovering at a limit does not
// flap.
type Thresholds struct {
	HeartRateHigh, HeartRateLow     float64 // bpm
	SpO2Low                         float64 // %
	TemperatureHigh, TemperatureLow float64 // °C

	HeartRateHysteresis   float64
	SpO2Hysteresis        float64
	TemperatureHysteresis float64
}

// DefaultThresholds are common adult bedside-monitor limits.
var DefaultThresholds = Thresholds{
	HeartRateHigh: 130, HeartRateLow: 40, SpO2Low: 90, TemperatureHigh: 38.5, TemperatureLow: 35,
	HeartRateHysteresis: 5, SpO2Hysteresis: 2, TemperatureHysteresis: 0.3,
}

// Alarm is a change of an alarm's state.
type Alarm struct {
	Kind      AlarmKind
	Raised    bool // true: crossed into alarm; false: cleared
	At        time.Duration
	Value     float64
	Threshold float64
}

// Monitor watches vitals against thresholds. It is not safe for concurrent
// use.
type Monitor struct {
	th     Thresholds
	active [numAlarms]bool
}

// NewMonitor returns a monitor with no alarm active.
func NewMonitor(th Thresholds) *Monitor { return &Monitor{th: th} }

// Active reports whether an alarm of kind k is raised.
func (m *Monitor) Active(k AlarmKind) bool { return k < numAlarms && m.active[k] }

// Flags is the set of raised alarms as a bit mask (bit k for AlarmKind k).
func (m *Monitor) Flags() uint8 {
	var f uint8
	for k, a := range m.active {
		if a {
			f |= 1 << k
		}
	}
	return f
}

// Check compares v with the thresholds and appends to dst each alarm that
// was raised or cleared by it.
func (m *Monitor) Check(dst []Alarm, v Vitals) []Alarm {
	th := m.th
	dst = m.edge(dst, HeartRateHigh, v, v.HeartRate, th.HeartRateHigh, th.HeartRateHysteresis, true)
	dst = m.edge(dst, HeartRateLow, v, v.HeartRate, th.HeartRateLow, th.HeartRateHysteresis, false)
	dst = m.edge(dst, SpO2Low, v, v.SpO2, th.SpO2Low, th.SpO2Hysteresis, false)
	dst = m.edge(dst, TemperatureHigh, v, v.TemperatureC, th.TemperatureHigh, th.TemperatureHysteresis, true)
	dst = m.edge(dst, TemperatureLow, v, v.TemperatureC, th.TemperatureLow, th.TemperatureHysteresis, false)
	return dst
}

func (m *Monitor) edge(dst []Alarm, k AlarmKind, v Vitals, x, limit, hyst float64, high bool) []Alarm {
	var beyond, back bool
	if high {
		beyond, back = x > limit, x <= limit-hyst
	} else {
		beyond, back = x < limit, x >= limit+hyst
	}
	switch {
	case !m.active[k] && beyond:
		m.active[k] = true
		return append(dst, Alarm{Kind: k, Raised: true, At: v.At, Value: x, Threshold: limit})
	case m.active[k] && back:
		m.active[k] = false
		return append(dst, Alarm{Kind: k, Raised: false, At: v.At, Value: x, Threshold: limit})
	}
	return dst
}
