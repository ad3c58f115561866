package main

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/lsmqtt/lsmqtt/node/eval"
)

// TestEnergyMeasured runs `lsmqtt energy --measured`: the emulated model must
// come from running the emulator (paper-xor measured), while cb-dtls, which
// cannot run here, stays modelled.
func TestEnergyMeasured(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"lsmqtt", "--log-level", "warn", "energy", "--measured", "--json",
		"--suite", "paper-xor", "--suite", "cb-dtls"}); err != nil {
		t.Fatal(err)
	}
	var r eval.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(r.Emulated.Figures) != 2 {
		t.Fatalf("want figures for 2 schemes, got %+v", r.Emulated.Figures)
	}
	for _, f := range r.Emulated.Figures {
		want := eval.Measured
		if f.Scheme == eval.CBDTLS {
			want = eval.Modelled
		}
		if f.Origin != want {
			t.Errorf("%s figures are %s, want %s", f.Scheme, f.Origin, want)
		}
		if f.Scheme == eval.PaperXOR && (f.Transmit.EnergyMJ <= 0 || f.Transmit.FramesTX == 0) {
			t.Errorf("paper-xor measured transmit %+v, want energy and frames", f.Transmit)
		}
	}
	if r.Emulated.Origin != "mixed" {
		t.Fatalf("emulated origin %q, want mixed (measured + modelled cb-dtls)", r.Emulated.Origin)
	}
}
