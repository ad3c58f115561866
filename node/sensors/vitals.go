package sensors

import (
	"fmt"
	"math"
	"time"
)

// Sensor names, as in node/profile.
const (
	PulseOximeter = "pulse-oximeter" // heart rate and SpO2
	Thermometer   = "temperature"
	ECGFrontEnd   = "ecg"
)

// Vitals is one reading of the slow vital signs.
type Vitals struct {
	At           time.Duration // since the patient's start
	HeartRate    float64       // beats per minute
	SpO2         float64       // %
	TemperatureC float64       // °C
}

// EpisodeKind is a clinical event a scenario can script.
type EpisodeKind string

const (
	Tachycardia  EpisodeKind = "tachycardia"  // heart rate rises to Level bpm
	Bradycardia  EpisodeKind = "bradycardia"  // heart rate falls to Level bpm
	Desaturation EpisodeKind = "desaturation" // SpO2 falls to Level %
	Fever        EpisodeKind = "fever"        // temperature rises to Level °C
)

// Episode moves one vital sign towards Level from Start for Duration, with
// Ramp-long transitions in and out.
type Episode struct {
	Kind     EpisodeKind
	Start    time.Duration
	Duration time.Duration
	Ramp     time.Duration
	Level    float64
}

// weight is how far into the episode t is: 0 outside, 1 on the plateau.
func (e Episode) weight(t time.Duration) float64 {
	end := e.Start + e.Duration
	if t <= e.Start || t >= end {
		return 0
	}
	r := max(e.Ramp, 1)
	w := 1.0
	if in := t - e.Start; in < r {
		w = float64(in) / float64(r)
	}
	if out := end - t; out < r {
		w = min(w, float64(out)/float64(r))
	}
	return w * w * (3 - 2*w) // smoothstep
}

// Baseline is a patient's resting values.
type Baseline struct {
	HeartRate    float64
	SpO2         float64
	TemperatureC float64
}

// DefaultBaseline is a resting adult.
var DefaultBaseline = Baseline{HeartRate: 72, SpO2: 97.5, TemperatureC: 36.8}

// Config describes a patient.
type Config struct {
	Seed     uint64
	Baseline Baseline  // zero: DefaultBaseline jittered by the seed
	Episodes []Episode // scripted events; see Scenario
	ECGHz    int       // ECG sample rate; 0 means 250 Hz
}

// Scenario names a built-in script.
var scenarios = map[string]func(seed uint64) []Episode{
	"stable": func(uint64) []Episode { return nil },
	"tachycardia": func(s uint64) []Episode {
		return []Episode{{Kind: Tachycardia, Start: jitter(s, 1, 10*time.Minute), Duration: 15 * time.Minute, Ramp: 2 * time.Minute, Level: 145}}
	},
	"bradycardia": func(s uint64) []Episode {
		return []Episode{{Kind: Bradycardia, Start: jitter(s, 2, 10*time.Minute), Duration: 10 * time.Minute, Ramp: time.Minute, Level: 36}}
	},
	"desaturation": func(s uint64) []Episode {
		return []Episode{{Kind: Desaturation, Start: jitter(s, 3, 5*time.Minute), Duration: 8 * time.Minute, Ramp: time.Minute, Level: 85}}
	},
	"fever": func(s uint64) []Episode {
		return []Episode{{Kind: Fever, Start: jitter(s, 4, 20*time.Minute), Duration: 3 * time.Hour, Ramp: 40 * time.Minute, Level: 39.3}}
	},
	"deteriorating": func(s uint64) []Episode {
		t0 := jitter(s, 5, 15*time.Minute)
		return []Episode{
			{Kind: Fever, Start: t0, Duration: 4 * time.Hour, Ramp: 45 * time.Minute, Level: 38.9},
			{Kind: Tachycardia, Start: t0 + 30*time.Minute, Duration: 2 * time.Hour, Ramp: 15 * time.Minute, Level: 135},
			{Kind: Desaturation, Start: t0 + time.Hour, Duration: 40 * time.Minute, Ramp: 10 * time.Minute, Level: 87},
		}
	},
}

// Scenarios lists the built-in scenario names.
func Scenarios() []string {
	return []string{"stable", "tachycardia", "bradycardia", "desaturation", "fever", "deteriorating"}
}

// Scenario returns the episodes of a built-in scenario, with start times
// jittered by the seed.
func Scenario(name string, seed uint64) ([]Episode, error) {
	f, ok := scenarios[name]
	if !ok {
		return nil, fmt.Errorf("sensors: unknown scenario %q", name)
	}
	return f(seed), nil
}

// jitter returns base ± 50 % chosen by the seed.
func jitter(seed, stream uint64, base time.Duration) time.Duration {
	return base + time.Duration(lattice(seed, 100+stream, 0)*0.5*float64(base))
}

// Patient generates one patient's signals.
type Patient struct {
	seed     uint64
	base     Baseline
	episodes []Episode
	ecgHz    int
}

// noise streams
const (
	streamHRSlow uint64 = iota + 1
	streamHRFast
	streamSpO2
	streamTemp
	streamRespRate
	streamBase
	streamECG
)

// New returns a patient. The config's slices are copied.
func New(cfg Config) *Patient {
	b := cfg.Baseline
	if b == (Baseline{}) {
		b = DefaultBaseline
		b.HeartRate += 8 * lattice(cfg.Seed, streamBase, 0)
		b.SpO2 += 1 * lattice(cfg.Seed, streamBase, 1)
		b.TemperatureC += 0.3 * lattice(cfg.Seed, streamBase, 2)
	}
	hz := cfg.ECGHz
	if hz <= 0 {
		hz = 250
	}
	return &Patient{seed: cfg.Seed, base: b, episodes: append([]Episode(nil), cfg.Episodes...), ecgHz: hz}
}

// Vitals returns the slow vital signs at t, a pure function of the seed,
// the episodes and t.
func (p *Patient) Vitals(t time.Duration) Vitals {
	s := t.Seconds()
	hr := p.base.HeartRate +
		5*valueNoise(p.seed, streamHRSlow, s, 600) +
		2*valueNoise(p.seed, streamHRFast, s, 20)
	// respiratory sinus arrhythmia at 12-18 breaths/min
	resp := 0.25 + 0.05*valueNoise(p.seed, streamRespRate, s, 300)
	hr += 1.5 * math.Sin(2*math.Pi*resp*s)
	spo2 := p.base.SpO2 + 0.8*valueNoise(p.seed, streamSpO2, s, 45)
	temp := p.base.TemperatureC + 0.15*valueNoise(p.seed, streamTemp, s, 1800)
	for _, e := range p.episodes {
		w := e.weight(t)
		if w == 0 {
			continue
		}
		switch e.Kind {
		case Tachycardia, Bradycardia:
			hr += w * (e.Level - p.base.HeartRate)
		case Desaturation:
			spo2 += w * (e.Level - p.base.SpO2)
		case Fever:
			temp += w * (e.Level - p.base.TemperatureC)
			hr += w * 10 * (e.Level - p.base.TemperatureC) // ≈10 bpm per °C
		}
	}
	return Vitals{
		At:           t,
		HeartRate:    clamp(hr, 20, 250),
		SpO2:         clamp(spo2, 50, 100),
		TemperatureC: clamp(temp, 30, 43),
	}
}

func clamp(v, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, v)) }
