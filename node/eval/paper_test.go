package eval

import (
	"math"
	"testing"
)

// The paper model must reproduce the published lifetimes and ratio from the
// energies it derives (computed here by hand: 30,240,000 mJ / 536,640 and
// / 95,750).
func TestPaperReproduction(t *testing.T) {
	m := NewPaperModel(PaperBattery)
	if math.Abs(m.ProposedMJ-30240000.0/536640) > 1e-9 || math.Abs(m.ProposedMJ-56.35) > 0.005 {
		t.Errorf("proposed = %v mJ, want 56.35", m.ProposedMJ)
	}
	if math.Abs(m.CBDTLSMJ-30240000.0/95750) > 1e-9 || math.Abs(m.CBDTLSMJ-315.8) > 0.05 {
		t.Errorf("CB-DTLS = %v mJ, want 315.8", m.CBDTLSMJ)
	}
	if h := m.Lifetime(m.ProposedMJ, 10); math.Round(h) != 53664 {
		t.Errorf("proposed lifetime at 10 tx/h = %v h, want 53,664", h)
	}
	if h := m.Lifetime(m.CBDTLSMJ, 10); math.Round(h) != 9575 {
		t.Errorf("CB-DTLS lifetime at 10 tx/h = %v h, want 9,575", h)
	}
	if r := m.RatioPercent(); math.Round(r*100)/100 != PaperRatioPercent {
		t.Errorf("ratio = %v %%, want 17.84", r)
	}
	if x := PaperProposedHours / PaperCBDTLSHours; math.Round(x*10)/10 != 5.6 {
		t.Errorf("lifetime ratio %v, the paper says 5.6", x)
	}
}

// With the idle floors of shared/reference/z1-energy.md: 23 µA LPM gives
// ≈37,250 h vs ≈8,880 h; with 0.4 % listening at 18.8 mA ≈18,600 vs ≈7,170 h.
func TestPaperWithFloors(t *testing.T) {
	m := NewPaperModel(PaperBattery)
	lpm := 0.023 * 3.0
	listen := 0.004 * 18.8 * 3
	for _, c := range []struct {
		floor, e, want, tol float64
	}{
		{lpm, m.ProposedMJ, 37250, 50}, {lpm, m.CBDTLSMJ, 8880, 10},
		{lpm + listen, m.ProposedMJ, 18600, 50}, {lpm + listen, m.CBDTLSMJ, 7170, 10},
	} {
		if h := m.LifetimeWithFloor(c.e, 10, c.floor); math.Abs(h-c.want) > c.tol {
			t.Errorf("floor %v mW, %v mJ: %v h, want ≈%v", c.floor, c.e, h, c.want)
		}
	}
}

func TestPaperLifetimeMonotone(t *testing.T) {
	m := NewPaperModel(PaperBattery)
	prev := math.Inf(1)
	for r := 1.0; r <= 1000; r *= 1.5 {
		h := m.Lifetime(m.ProposedMJ, r)
		if !(h < prev) {
			t.Fatalf("lifetime not decreasing at %v tx/h: %v >= %v", r, h, prev)
		}
		prev = h
	}
	if !math.IsInf(m.Lifetime(m.ProposedMJ, 0), 1) {
		t.Error("no traffic, no idle current: infinite in the paper's model")
	}
}

// Formula (1) gives power: 32768 ticks (1 s) of CPU at 10 mA and 3 V over a
// 10 s interval is 3 mW, which × 10 s is the 30 mJ the second cost.
func TestFormula1IsPower(t *testing.T) {
	p := Formula1(32768, 10, 3, 10)
	if math.Abs(p-3) > 1e-12 || math.Abs(p*10-30) > 1e-12 {
		t.Fatalf("formula (1) = %v", p)
	}
}
