package eval

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestEvaluate(t *testing.T) {
	p := z1(t)
	r, err := Evaluate(Config{Profile: p, Payload: 10, Rates: []float64{60, 1, 5}})
	if err != nil {
		t.Fatal(err)
	}
	// PaperRate is always present, rates sorted.
	if want := []float64{1, 5, 10, 60}; len(r.Rates) != 4 || r.Rates[2] != 10 || r.Rates[0] != 1 || r.Rates[3] != want[3] {
		t.Fatalf("rates %v", r.Rates)
	}
	row := r.Paper.Rows[2]
	if math.Round(row.ProposedH) != 53664 || math.Round(row.CBDTLSH) != 9575 {
		t.Fatalf("paper row at 10/h: %+v", row)
	}
	if math.Round(r.Paper.RatioPercent*100)/100 != 17.84 {
		t.Fatalf("ratio %v", r.Paper.RatioPercent)
	}
	if r.Emulated.Origin != Modelled || len(r.Emulated.Figures) != 4 {
		t.Fatalf("emulated: %s, %d schemes", r.Emulated.Origin, len(r.Emulated.Figures))
	}
	for s, hs := range r.Emulated.Lifetimes {
		for i := 1; i < len(hs); i++ {
			if !(hs[i] < hs[i-1]) {
				t.Fatalf("%s lifetimes not decreasing in rate: %v", s, hs)
			}
		}
		// Idle floor included: never beyond the idle-only lifetime.
		if hs[0] > p.Battery.EnergyJ()*1000/(0.069+0.2256)/3600 {
			t.Fatalf("%s: %v h exceeds the idle-floor bound", s, hs[0])
		}
	}
	// Formula (1) demo: power × interval = energy, and the energy of a 360 s
	// interval is at least its idle floor.
	fd := r.Paper.Formula1
	if fd.IntervalS != 360 || math.Abs(fd.ResultMW*360-fd.EnergyMJ) > 1e-9 || fd.EnergyMJ < 0.2946*360 {
		t.Fatalf("formula1 demo %+v", fd)
	}
	if r.Memory.PaperBytes != 5608 || len(r.Memory.Code) != 4 {
		t.Fatalf("memory %+v", r.Memory)
	}
	var asc CodeSize
	for _, c := range r.Memory.Code {
		if c.Scheme == Ascon128 {
			asc = c
		}
	}
	if asc.Bytes != 710+600 || !asc.Complete {
		t.Fatalf("ascon code %+v", asc)
	}

	var txt bytes.Buffer
	if err := r.WriteText(&txt); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"53664", "9575", "17.84 %", "56.35 mJ", "315.8 mJ", "modelled", "5608", "mW"} {
		if !strings.Contains(txt.String(), want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(js, &back); err != nil || back.Paper.Model.ProposedMJ != r.Paper.Model.ProposedMJ {
		t.Fatalf("json round trip: %v", err)
	}
}

func TestEvaluateMeasuredSource(t *testing.T) {
	p := z1(t)
	f := Figures{Scheme: Ascon128, Profile: p.Name, Origin: Measured, IdlePowerMW: 0.3,
		Transmit: Component{EnergyMJ: 1}}
	r, err := Evaluate(Config{Profile: p, Payload: 10, Source: MeasuredSource{Ascon128: f}, Schemes: []Scheme{Ascon128}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Emulated.Origin != Measured {
		t.Fatalf("origin %s", r.Emulated.Origin)
	}
	want := p.Battery.EnergyJ() * 1000 / (0.3*3600 + 10*1)
	i := 0
	for r.Rates[i] != 10 {
		i++
	}
	if h := r.Emulated.Lifetimes[Ascon128][i]; math.Abs(h-want) > 1e-6 {
		t.Fatalf("lifetime %v, want %v", h, want)
	}
	if _, err := Evaluate(Config{Profile: p, Source: MeasuredSource{}, Schemes: []Scheme{CBDTLS}}); err == nil {
		t.Fatal("missing measured scheme accepted")
	}
	if _, err := Evaluate(Config{}); err == nil {
		t.Fatal("no profile accepted")
	}
}

// The other profiles evaluate too (their figures are partly approximate).
func TestEvaluateAllProfiles(t *testing.T) {
	for _, name := range []string{"cc2538", "nrf52840"} {
		p := loadProfile(t, name)
		r, err := Evaluate(Config{Profile: p, Payload: 10})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range r.Emulated.Figures {
			if !(f.NodeMJ() > 0) || !(f.IdlePowerMW > 0) {
				t.Fatalf("%s %s: %+v", name, f.Scheme, f)
			}
		}
	}
}
