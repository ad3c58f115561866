package objective

import (
	"errors"
	"testing"
)

var contiki = Params{MinHopRankIncrease: ContikiMinHopRankIncrease, MaxRankIncrease: 1024}

func TestDAGRank(t *testing.T) {
	p := Params{MinHopRankIncrease: 256}
	if p.DAGRank(511) != 1 || p.DAGRank(512) != 2 {
		t.Fatal("DAGRank is not floor(rank/MinHopRankIncrease)")
	}
	if p.Lesser(300, 400) {
		t.Fatal("300 and 400 share DAGRank 1; neither is lesser (RFC 6550 §3.5.1)")
	}
	if !p.Lesser(255, 256) {
		t.Fatal("255 should be lesser than 256")
	}
	if (Params{}).RootRank() != DefaultMinHopRankIncrease {
		t.Fatal("zero Params should use the RFC 6550 default MinHopRankIncrease")
	}
}

func TestOF0RankIncrease(t *testing.T) {
	// RFC 6552 §4.1: rank_increase = (Rf*Sp + Sr) * MinHopRankIncrease.
	hop := NewOF0(Params{MinHopRankIncrease: 256}, OF0Options{})
	if got := hop.RankVia(Candidate{Rank: 256}); got != 256+3*256 {
		t.Fatalf("default OF0 rank via root = %d, want %d", got, 256+3*256)
	}
	o := NewOF0(Params{MinHopRankIncrease: 256}, OF0Options{RankFactor: 2, RankStretch: 1})
	if got := o.RankIncrease(Candidate{}); got != (2*3+1)*256 {
		t.Fatalf("rank increase = %d, want %d", got, (2*3+1)*256)
	}
	e := NewOF0(contiki, OF0Options{StepFromETX: true})
	for _, tc := range []struct {
		etx  ETX
		step int
	}{{128, 1}, {256, 4}, {384, 7}, {1024, 9}} {
		if s := e.Step(Candidate{ETX: tc.etx}); s != tc.step {
			t.Errorf("step for ETX %d = %d, want %d", tc.etx, s, tc.step)
		}
	}
	if got := hop.RankVia(Candidate{Rank: 0xFF00}); got != InfiniteRank {
		t.Fatalf("overflowing rank = %d, want saturation at infinite", got)
	}
	if hop.Acceptable(Candidate{Rank: InfiniteRank}) {
		t.Fatal("a poisoned neighbour (infinite rank) is acceptable")
	}
}

func TestOF0PreferKeepsIncumbentOnTie(t *testing.T) {
	o := NewOF0(Params{MinHopRankIncrease: 256}, OF0Options{})
	inc := Candidate{Rank: 512}
	if o.Prefer(inc, Candidate{Rank: 600}) {
		t.Fatal("same DAGRank should keep the incumbent")
	}
	if !o.Prefer(inc, Candidate{Rank: 256}) {
		t.Fatal("lower DAGRank should win")
	}
	if !o.Prefer(Candidate{Rank: InfiniteRank}, inc) {
		t.Fatal("an unusable incumbent should be replaced")
	}
}

func TestMRHOF(t *testing.T) {
	m := NewMRHOF(contiki)
	root := Candidate{Rank: 128, ETX: 128}
	// Path cost 128+128 = 256; next DAGRank above 128 is 256.
	if got := m.RankVia(root); got != 256 {
		t.Fatalf("rank via root over perfect link = %d, want 256", got)
	}
	lossy := Candidate{Rank: 128, ETX: 3 * 128}
	if got := m.RankVia(lossy); got != 128+384 {
		t.Fatalf("rank via lossy link = %d, want %d", got, 128+384)
	}
	if m.Acceptable(Candidate{Rank: 128, ETX: MaxLinkMetric + 1}) {
		t.Fatal("link above MAX_LINK_METRIC accepted (RFC 6719 §3.2.2)")
	}
	if m.Acceptable(Candidate{Rank: MaxPathCost, ETX: 128}) {
		t.Fatal("path above MAX_PATH_COST accepted")
	}
	// Hysteresis: 191 cheaper is not enough, 193 is.
	inc := Candidate{Rank: 1000, ETX: 128}
	if m.Prefer(inc, Candidate{Rank: 1000 - 191, ETX: 128}) {
		t.Fatal("switched parent inside PARENT_SWITCH_THRESHOLD")
	}
	if !m.Prefer(inc, Candidate{Rank: 1000 - 193, ETX: 128}) {
		t.Fatal("did not switch for a path cheaper by more than the threshold")
	}
}

func TestBest(t *testing.T) {
	m := NewMRHOF(contiki)
	cands := []Candidate{
		{Rank: 512, ETX: 128},
		{Rank: 400, ETX: 128},                 // cheaper by 112: below threshold
		{Rank: 128, ETX: MaxLinkMetric + 128}, // unacceptable link
		{Rank: InfiniteRank, ETX: 128},        // poisoned
	}
	if got := Best(m, cands, 0); got != 0 {
		t.Fatalf("Best with incumbent 0 = %d, want 0 (hysteresis)", got)
	}
	if got := Best(m, cands, -1); got != 1 {
		t.Fatalf("Best without incumbent = %d, want 1 (cheapest)", got)
	}
	if got := Best(m, cands[2:], -1); got != -1 {
		t.Fatalf("Best of unacceptable candidates = %d, want -1", got)
	}
	if got := Best(m, cands, 3); got != 1 {
		t.Fatalf("Best with poisoned incumbent = %d, want 1", got)
	}
}

func TestNew(t *testing.T) {
	for _, ocp := range []uint16{OCP0, OCPMRHOF} {
		f, err := New(ocp, contiki)
		if err != nil || f.OCP() != ocp || f.Params() != contiki {
			t.Fatalf("New(%d) = %v, %v", ocp, f, err)
		}
	}
	_, err := New(7, contiki)
	var u UnknownOCPError
	if !errors.As(err, &u) || u != 7 {
		t.Fatalf("New(7) error = %v", err)
	}
}

func TestLinkETX(t *testing.T) {
	var l LinkETX
	if l.Value() != InitialETX || l.Fresh() {
		t.Fatal("zero LinkETX should read InitialETX and not be fresh")
	}
	for i := 0; i < 50; i++ {
		l.Update(1, true)
	}
	if v := l.Value(); v < ETXDivisor || v > ETXDivisor+8 {
		t.Fatalf("after 50 first-try successes ETX = %d, want close to %d", v, ETXDivisor)
	}
	good := l.Value()
	l.Update(4, false)
	if l.Value() <= good {
		t.Fatal("a lost frame did not raise ETX")
	}
	// A dead link crosses MRHOF's MAX_LINK_METRIC after a handful of losses.
	var dead LinkETX
	n := 0
	for dead.Value() <= MaxLinkMetric {
		dead.Update(4, false)
		n++
		if n > 20 {
			t.Fatal("dead link never exceeded MAX_LINK_METRIC")
		}
	}
	if dead.Samples() != n {
		t.Fatalf("samples = %d, want %d", dead.Samples(), n)
	}
}
