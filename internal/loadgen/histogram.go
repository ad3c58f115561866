package loadgen

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Histogram records durations in nanoseconds into log-linear buckets: values
// below 512 ns are exact, larger values fall into buckets no wider than 1/256
// of their lower bound, so a percentile is within 0.4 % of the true sample.
// Record is safe for concurrent use, never allocates and never locks.
type Histogram struct {
	counts [histBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Uint64
	min    atomic.Uint64 // stored as ^v so the zero value means "none yet"
	max    atomic.Uint64
}

const (
	histSubBits = 9
	histExact   = 1 << histSubBits       // values below this are their own bucket
	histHalf    = 1 << (histSubBits - 1) // buckets per power of two above histExact
	histBuckets = histExact + (64-histSubBits)*histHalf
)

// histIndex maps a value to its bucket.
func histIndex(v uint64) int {
	if v < histExact {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits // >= 1
	m := v >> uint(e)                // in [histHalf, histExact)
	return histExact + (e-1)*histHalf + int(m-histHalf)
}

// histUpper is the largest value that maps to bucket i.
func histUpper(i int) uint64 {
	if i < histExact {
		return uint64(i)
	}
	e := (i-histExact)/histHalf + 1
	m := uint64((i-histExact)%histHalf + histHalf)
	return (m+1)<<uint(e) - 1
}

// Record adds one sample. Negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[histIndex(v)].Add(1)
	h.n.Add(1)
	h.sum.Add(v)
	for {
		old := h.max.Load()
		if v <= old || h.max.CompareAndSwap(old, v) {
			break
		}
	}
	for {
		old := h.min.Load()
		if (old != 0 && v >= ^old) || h.min.CompareAndSwap(old, ^v) {
			break
		}
	}
}

// Count is the number of samples recorded.
func (h *Histogram) Count() uint64 { return h.n.Load() }

// Max is the largest sample (exact), 0 when empty.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max.Load()) }

// Min is the smallest sample (exact), 0 when empty.
func (h *Histogram) Min() time.Duration {
	v := h.min.Load()
	if v == 0 {
		return 0
	}
	return time.Duration(^v)
}

// Mean is the arithmetic mean of the samples, 0 when empty.
func (h *Histogram) Mean() time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	return time.Duration(h.sum.Load() / n)
}

// Percentile returns the nearest-rank p-th percentile (0 < p <= 100): the
// smallest recorded value v such that at least p % of the samples are <= v,
// rounded up to its bucket's upper bound and clamped to [Min, Max]. It is 0
// when the histogram is empty. Call it once recording has stopped.
func (h *Histogram) Percentile(p float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(p / 100 * float64(n)))
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		if cum >= rank {
			v := time.Duration(histUpper(i))
			return max(min(v, h.Max()), h.Min())
		}
	}
	return h.Max()
}

// Summary is a histogram's figures for a report, in microseconds.
func (h *Histogram) Summary() Latency {
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	return Latency{
		N:      h.Count(),
		MinUS:  us(h.Min()),
		MeanUS: us(h.Mean()),
		P50US:  us(h.Percentile(50)),
		P90US:  us(h.Percentile(90)),
		P99US:  us(h.Percentile(99)),
		MaxUS:  us(h.Max()),
	}
}

// Latency summarises a latency distribution (microseconds).
type Latency struct {
	N      uint64  `json:"n"`
	MinUS  float64 `json:"min_us"`
	MeanUS float64 `json:"mean_us"`
	P50US  float64 `json:"p50_us"`
	P90US  float64 `json:"p90_us"`
	P99US  float64 `json:"p99_us"`
	MaxUS  float64 `json:"max_us"`
}
