package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lsmqtt/lsmqtt/node/hospital"
)

func TestSimJSONAndPlot(t *testing.T) {
	dir := t.TempDir()
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err := app.Run([]string{"lsmqtt", "sim", "--scenario", "../../node/hospital/scenarios/two-wards.toml",
		"--duration", "2m", "--json", "--plot", dir, "--pcap", filepath.Join(dir, "sim.pcap")})
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	var s hospital.Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if s.Scenario != "two wards" || s.Patients != 4 || s.Areas != 2 || len(s.Nodes) != 4 || s.Delivery.Ratio != 1 ||
		s.Handovers.Completed == 0 {
		t.Fatalf("summary %+v", s)
	}
	if s.Overhead.Source != "frames" || s.Overhead.RPLOctets == 0 {
		t.Fatalf("overhead %+v: want RPL counted from the mesh's frames", s.Overhead)
	}
	// A pcap file (magic a1b23c4d: nanosecond timestamps) with frames.
	pc, err := os.ReadFile(filepath.Join(dir, "sim.pcap"))
	if err != nil || len(pc) < 24+16+5 || !bytes.Equal(pc[:4], []byte{0x4d, 0x3c, 0xb2, 0xa1}) {
		t.Fatalf("pcap file (%v): % x", err, pc[:min(len(pc), 24)])
	}
	for _, f := range hospital.PlotFiles {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Size() == 0 {
			t.Fatalf("chart %s: %v", f, err)
		}
	}
}

func TestSimCompareAndBadFlags(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &bytes.Buffer{}
	if err := app.Run([]string{"lsmqtt", "sim", "--patients", "2", "--areas", "1", "--duration", "1m",
		"--compare", "suites"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ascon128", "aes128-ccm8", "paper-xor", "delivery ratio", "100.00%"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("comparison lacks %q:\n%s", want, out.String())
		}
	}
	for _, args := range [][]string{
		{"--handover", "teleport"},
		{"--qos", "2"},
		{"--mobility", "teleport"},
		{"--pcap", "x.pcap", "--transport", "udp"},
		{"--transport", "carrier-pigeon"},
		{"--scenario", "no-such-file.toml"},
	} {
		app := newApp()
		app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
		if err := app.Run(append([]string{"lsmqtt", "sim", "--duration", "1s"}, args...)); err == nil {
			t.Errorf("sim %v: no error", args)
		}
	}
}

func TestDemoShortRun(t *testing.T) {
	app := newApp()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &bytes.Buffer{}
	if err := app.Run([]string{"lsmqtt", "demo", "--duration", "3s", "--patients", "3"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"caregivers' station", "patient", "delivery ratio", "projected lifetime"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("demo output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestMonitorBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--creds", "no-such.cred", "--broker", "mqtt://127.0.0.1:1"},
		{"--creds", "x", "--broker", "ws://127.0.0.1:1"},
	} {
		app := newApp()
		app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
		if err := app.Run(append([]string{"lsmqtt", "monitor"}, args...)); err == nil {
			t.Errorf("monitor %v: no error", args)
		}
	}
}
