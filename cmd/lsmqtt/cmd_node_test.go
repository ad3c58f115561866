package main

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/node/fleet"
)

func TestNodeDemoJSON(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, io.Discard
	args := []string{"lsmqtt", "--log-level", "error", "node", "--demo", "--count", "3", "--duration", "10m",
		"--stats-interval", "5m", "--json", "--suite", "aes128-ccm8", "--registry", t.TempDir() + "/ts.db"}
	if err := app.Run(args); err != nil {
		t.Fatal(err)
	}
	var r fleet.Report
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(r.Nodes) != 3 || r.Clock != "virtual" || r.Transport != "mesh" || r.Suite != "aes128-ccm8" {
		t.Fatalf("report %+v", r)
	}
	for _, n := range r.Nodes {
		if n.Stats.PublishedVitals < 8 || n.TotalMJ <= 0 || n.Lifetime <= 0 || n.ElapsedS != 600 {
			t.Errorf("%s: %+v", n.ID, n)
		}
	}
}

func TestNodeMeasureText(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	if err := app.Run([]string{"lsmqtt", "--log-level", "error", "node", "measure", "--suite", "ascon128",
		"--transactions", "4", "--udp"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"measured by the emulator", "emulated model (measured)", "17.84 %", "ascon128"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestNodeBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--count", "2"}, // no --udp, --medium or --demo
		{"--demo", "--udp", "127.0.0.1:1"},
		{"--demo", "--suite", "rot13"},
		{"--demo", "--scenario", "hiccups"},
	} {
		app := newApp()
		app.Writer, app.ErrWriter = io.Discard, io.Discard
		if err := app.Run(append([]string{"lsmqtt", "--log-level", "error", "node"}, args...)); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
