package loadgen

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// nearestRank is the reference percentile on exact samples.
func nearestRank(sorted []time.Duration, p float64) time.Duration {
	rank := int(float64(len(sorted))*p/100 + 0.999999999)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestHistogramExactSmallValues(t *testing.T) {
	h := new(Histogram)
	// 1..100 ns: every value below 512 ns has its own bucket, so percentiles are exact.
	for v := 100; v >= 1; v-- {
		h.Record(time.Duration(v))
	}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{1, 1}, {50, 50}, {90, 90}, {99, 99}, {99.5, 100}, {100, 100}} {
		if got := h.Percentile(tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p, got, tc.want)
		}
	}
	if h.Count() != 100 || h.Min() != 1 || h.Max() != 100 || h.Mean() != 50 {
		t.Errorf("count/min/max/mean = %d/%v/%v/%v, want 100/1ns/100ns/50ns", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

func TestHistogramKnownSamplesWithinPrecision(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var samples []time.Duration
	h := new(Histogram)
	for range 20000 {
		// latencies from 1 µs to ~50 ms, log-uniform-ish
		d := time.Duration(1000 + r.Int64N(1<<uint(r.IntN(16)+10)))
		samples = append(samples, d)
		h.Record(d)
	}
	slices.Sort(samples)
	for _, p := range []float64{50, 90, 99, 99.9, 100} {
		want := nearestRank(samples, p)
		got := h.Percentile(p)
		if got < want || float64(got-want) > float64(want)/256 {
			t.Errorf("p%v = %v, exact %v: outside [exact, exact*(1+1/256)]", p, got, want)
		}
	}
	if h.Max() != samples[len(samples)-1] || h.Min() != samples[0] {
		t.Errorf("min/max = %v/%v, want %v/%v", h.Min(), h.Max(), samples[0], samples[len(samples)-1])
	}
}

func TestHistogramBucketsCoverEveryValue(t *testing.T) {
	// Bucket upper bounds must be monotonic and every value must map to the
	// bucket whose range contains it.
	prev := uint64(0)
	for i := 1; i < histBuckets; i++ {
		u := histUpper(i)
		if u <= prev {
			t.Fatalf("upper(%d) = %d not above upper(%d) = %d", i, u, i-1, prev)
		}
		if histIndex(u) != i || histIndex(prev+1) != i {
			t.Fatalf("bucket %d = (%d, %d] maps back to %d/%d", i, prev, u, histIndex(prev+1), histIndex(u))
		}
		prev = u
	}
	if prev != ^uint64(0) {
		t.Fatalf("last bucket ends at %d, want max uint64", prev)
	}
}

func TestHistogramEmptyAndNegative(t *testing.T) {
	h := new(Histogram)
	if h.Percentile(50) != 0 || h.Max() != 0 || h.Min() != 0 || h.Mean() != 0 {
		t.Fatal("empty histogram reports non-zero figures")
	}
	h.Record(-5)
	if h.Count() != 1 || h.Max() != 0 || h.Percentile(99) != 0 {
		t.Fatalf("negative sample: count %d max %v p99 %v", h.Count(), h.Max(), h.Percentile(99))
	}
}

func TestHistogramConcurrent(t *testing.T) {
	h := new(Histogram)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				h.Record(time.Duration(g*1000 + i + 1))
			}
		})
	}
	wg.Wait()
	if h.Count() != 4000 || h.Max() != 4000 || h.Min() != 1 {
		t.Fatalf("count %d max %v min %v, want 4000 4µs 1ns", h.Count(), h.Max(), h.Min())
	}
}

func TestHistogramRecordAllocs(t *testing.T) {
	h := new(Histogram)
	testutil.AssertAllocs(t, 0, func() { h.Record(1234567) })
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := new(Histogram)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(i&0xfffff) * 100)
	}
}
