package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/node/eval"
)

func TestEnergyJSON(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"lsmqtt", "energy", "--json", "--rate", "1,100", "--suite", "ascon128", "--suite", "cb-dtls"}); err != nil {
		t.Fatal(err)
	}
	var r eval.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(r.Rates) != 3 || r.Rates[1] != 10 {
		t.Fatalf("rates %v", r.Rates)
	}
	if math.Round(r.Paper.Rows[1].ProposedH) != 53664 || math.Round(r.Paper.Rows[1].CBDTLSH) != 9575 {
		t.Fatalf("paper rows %+v", r.Paper.Rows)
	}
	if len(r.Emulated.Figures) != 2 || r.Emulated.Figures[1].Scheme != eval.CBDTLS || r.Emulated.Origin != eval.Modelled {
		t.Fatalf("emulated %+v", r.Emulated)
	}
}

func TestEnergyTextAndPlot(t *testing.T) {
	dir := t.TempDir()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"lsmqtt", "energy", "--plot", dir, "--derating", "0.8"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"paper model", "emulated model (modelled)", "17.84 %", "derating 0.80"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, f := range []string{"lifetime.png", "energy-per-transaction.png"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestEnergyBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--suite", "rot13"}, {"--derating", "1.5"}, {"--profile", "toaster"}, {"--session", "0"},
	} {
		app := newApp()
		app.Writer = new(bytes.Buffer)
		if err := app.Run(append([]string{"lsmqtt", "energy"}, args...)); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
