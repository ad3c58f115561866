package profile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuiltinProfilesLoadAndValidate(t *testing.T) {
	names := Names()
	for _, want := range []string{"z1", "cc2538", "nrf52840"} {
		if !contains(names, want) {
			t.Fatalf("Names() = %v, missing %q", names, want)
		}
	}
	for _, n := range names {
		p, err := Load(n)
		if err != nil {
			t.Fatalf("Load(%q): %v", n, err)
		}
		if p.Name != n {
			t.Errorf("profile file %s.json names itself %q", n, p.Name)
		}
		for _, a := range p.Approximate {
			if a == "" {
				t.Errorf("%s: empty approximate entry", n)
			}
		}
	}
}

// The z1 profile must carry the figures of shared/reference/z1-energy.md.
func TestZ1Figures(t *testing.T) {
	p, err := Load(Default)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want float64
	}{
		{"clock Hz", float64(p.MCU.ClockHz), 8e6},
		{"voltage", p.VoltageV, 3},
		{"CPU mA", p.Currents.CPU, 10},
		{"LPM mA", p.Currents.LPM, 0.023},
		{"RX mA", p.Currents.RX, 18.8},
		{"bit rate", float64(p.Radio.BitRate), 250000},
		{"PHY overhead", float64(p.Radio.PHYOverheadBytes), 6},
		{"FCS", float64(p.Radio.FCSBytes), 2},
		{"max PSDU", float64(p.Radio.MaxPSDUBytes), 127},
		{"battery mAh", p.Battery.CapacityMAh, 2800},
		{"battery J", p.Battery.EnergyJ(), 30240},
		{"AES block", float64(p.Crypto.AESBlock), 4061},
		{"AES key schedule", float64(p.Crypto.AESKeySchedule), 1182},
		{"Ascon p6", float64(p.Crypto.AsconP6), 3520},
		{"X25519", float64(p.Crypto.ECDH), 7933296},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
	for dbm, want := range map[int]float64{0: 17.4, -25: 8.5} {
		if got, ok := p.TXCurrent(dbm); !ok || got != want {
			t.Errorf("TX at %d dBm = %v, %v; want %v", dbm, got, ok, want)
		}
	}
	if ppm := p.MAC.IdleListenPPM; ppm < 4000 || ppm > 8000 {
		t.Errorf("ContikiMAC idle listen = %d ppm, want within 0.4-0.8 %%", ppm)
	}
	if !p.IsApproximate("crypto_cycles.xor_per_byte") || p.IsApproximate("currents_ma.cpu") {
		t.Error("approximate markings wrong")
	}
	if p.SensorIndex("ecg") < 0 || p.SensorIndex("nope") != -1 {
		t.Error("SensorIndex")
	}
}

func TestParseRejects(t *testing.T) {
	good, err := builtin.ReadFile("profiles/z1.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(string) string{
		"unknown field": func(s string) string {
			return strings.Replace(s, `"voltage_v": 3,`, `"voltage_v": 3, "voltage": 3,`, 1)
		},
		"zero clock":       func(s string) string { return strings.Replace(s, `"clock_hz": 8000000`, `"clock_hz": 0`, 1) },
		"negative current": func(s string) string { return strings.Replace(s, `"cpu": 10`, `"cpu": -10`, 1) },
		"derating > 1":     func(s string) string { return strings.Replace(s, `"derating": 1`, `"derating": 1.5`, 1) },
		"bad default dBm":  func(s string) string { return strings.Replace(s, `"default_tx_dbm": 0`, `"default_tx_dbm": 3`, 1) },
		"listen > 100 %": func(s string) string {
			return strings.Replace(s, `"idle_listen_ppm": 4000`, `"idle_listen_ppm": 2000000`, 1)
		},
		"not json": func(string) string { return "{" },
	}
	for name, mutate := range cases {
		in := mutate(string(good))
		if in == string(good) {
			t.Fatalf("%s: mutation did not apply", name)
		}
		if _, err := Parse([]byte(in)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestLoadFileAndUnknown(t *testing.T) {
	good, _ := builtin.ReadFile("profiles/z1.json")
	f := filepath.Join(t.TempDir(), "mine.json")
	if err := os.WriteFile(f, []byte(strings.Replace(string(good), `"name": "z1"`, `"name": "mine"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := Load(f)
	if err != nil || p.Name != "mine" {
		t.Fatalf("Load(file) = %v, %v", p, err)
	}
	if _, err := Load("no-such-mote"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown profile: %v", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	p, _ := Load("z1")
	q := p.Clone()
	q.Radio.TXLevels[0].MA = 99
	q.Sources["x"] = "y"
	q.Battery.Derating = 0.5
	if p.Radio.TXLevels[0].MA == 99 || p.Sources["x"] == "y" || p.Battery.Derating != 1 {
		t.Fatal("Clone shares state with the original")
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
