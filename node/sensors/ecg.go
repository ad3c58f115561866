package sensors

import (
	"math"
	"time"
)

// wave is one Gaussian of the beat: position and width in radians of beat
// phase (R at 0), amplitude in µV (after McSharry et al. 2003, Table 1
// positions: P −70°, Q −15°, R 0°, S 15°, T 100°).
type wave struct{ theta, width, amp float64 }

var beat = [...]wave{
	{-70 * math.Pi / 180, 0.25, 150},  // P
	{-15 * math.Pi / 180, 0.10, -120}, // Q
	{0, 0.10, 1200},                   // R
	{15 * math.Pi / 180, 0.10, -250},  // S
	{100 * math.Pi / 180, 0.40, 300},  // T
}

// ECG is a stream of ECG-like samples in µV at the patient's ECG rate.
// It is not safe for concurrent use.
type ECG struct {
	p     *Patient
	n     uint64  // samples produced
	phase float64 // beat phase in [-π, π)
	beats uint64
}

// ECG returns a new ECG stream starting at time zero.
func (p *Patient) ECG() *ECG { return &ECG{p: p, phase: -math.Pi} }

// Rate is the sample rate in Hz.
func (e *ECG) Rate() int { return e.p.ecgHz }

// Now is the time of the next sample.
func (e *ECG) Now() time.Duration {
	return time.Duration(e.n) * time.Second / time.Duration(e.p.ecgHz)
}

// Beats is the number of R peaks produced so far.
func (e *ECG) Beats() uint64 { return e.beats }

// Read appends n samples (µV) to dst and returns it. Beat timing follows the
// heart rate of Vitals, with beat-to-beat variability.
func (e *ECG) Read(dst []int16, n int) []int16 {
	dt := 1 / float64(e.p.ecgHz)
	for range n {
		t := e.Now()
		s := t.Seconds()
		hr := e.p.Vitals(t).HeartRate
		// beat-to-beat variability: ±3 % per beat
		hr *= 1 + 0.03*lattice(e.p.seed, streamECG, int64(e.beats))
		v := 0.0
		for _, w := range beat {
			d := e.phase - w.theta
			v += w.amp * math.Exp(-d*d/(2*w.width*w.width))
		}
		v += 60 * math.Sin(2*math.Pi*0.15*s)                 // baseline wander
		v += 15 * lattice(e.p.seed, streamECG+1, int64(e.n)) // measurement noise
		dst = append(dst, int16(clamp(math.Round(v), math.MinInt16, math.MaxInt16)))
		prev := e.phase
		e.phase += 2 * math.Pi * hr / 60 * dt
		if prev < 0 && e.phase >= 0 {
			e.beats++
		}
		if e.phase >= math.Pi {
			e.phase -= 2 * math.Pi
		}
		e.n++
	}
	return dst
}
