package sensors

import (
	"bytes"
	"errors"
	"math"
	"slices"
	"testing"
	"time"
)

func TestVitalsDeterministicUnderSeed(t *testing.T) {
	eps, _ := Scenario("deteriorating", 7)
	a := New(Config{Seed: 7, Episodes: eps})
	b := New(Config{Seed: 7, Episodes: eps})
	// b is sampled more often and in another order; they agree at common times.
	for s := 0; s < 6*3600; s += 7 {
		_ = b.Vitals(time.Duration(s+3) * time.Second)
	}
	for s := 6 * 3600; s >= 0; s -= 61 {
		at := time.Duration(s) * time.Second
		if va, vb := a.Vitals(at), b.Vitals(at); va != vb {
			t.Fatalf("same seed differs at %v: %+v vs %+v", at, va, vb)
		}
	}
	c := New(Config{Seed: 8, Episodes: eps})
	same := 0
	for s := 0; s < 3600; s += 60 {
		at := time.Duration(s) * time.Second
		if a.Vitals(at).HeartRate == c.Vitals(at).HeartRate {
			same++
		}
	}
	if same > 2 {
		t.Fatalf("seeds 7 and 8 agree at %d of 60 instants", same)
	}
}

func TestStablePatientsStayInRangeWithoutAlarms(t *testing.T) {
	for seed := range uint64(20) {
		p := New(Config{Seed: seed})
		m := NewMonitor(DefaultThresholds)
		var alarms []Alarm
		for s := 0; s < 24*3600; s += 30 {
			v := p.Vitals(time.Duration(s) * time.Second)
			if v.HeartRate < 50 || v.HeartRate > 100 || v.SpO2 < 94 || v.SpO2 > 100 || v.TemperatureC < 36 || v.TemperatureC > 37.6 {
				t.Fatalf("seed %d at %ds: implausible resting vitals %+v", seed, s, v)
			}
			alarms = m.Check(alarms, v)
		}
		if len(alarms) != 0 {
			t.Fatalf("seed %d: stable patient raised %v", seed, alarms)
		}
	}
}

// Each scripted episode raises its alarm once and clears it once it is over.
func TestEpisodesRaiseAndClearAlarms(t *testing.T) {
	for _, c := range []struct {
		scenario string
		kind     AlarmKind
		horizon  time.Duration
	}{
		{"tachycardia", HeartRateHigh, 2 * time.Hour},
		{"bradycardia", HeartRateLow, 2 * time.Hour},
		{"desaturation", SpO2Low, time.Hour},
		{"fever", TemperatureHigh, 8 * time.Hour},
	} {
		for seed := range uint64(5) {
			eps, err := Scenario(c.scenario, seed)
			if err != nil {
				t.Fatal(err)
			}
			p := New(Config{Seed: seed, Episodes: eps})
			m := NewMonitor(DefaultThresholds)
			var got []Alarm
			for at := time.Duration(0); at < c.horizon; at += 10 * time.Second {
				got = m.Check(got, p.Vitals(at))
			}
			var raised, cleared int
			for _, a := range got {
				if a.Kind != c.kind {
					continue
				}
				if a.Raised {
					raised++
					if a.At < eps[0].Start || a.At > eps[0].Start+eps[0].Duration {
						t.Errorf("%s seed %d: raised at %v outside the episode", c.scenario, seed, a.At)
					}
				} else {
					cleared++
				}
			}
			if raised != 1 || cleared != 1 || m.Active(c.kind) {
				t.Errorf("%s seed %d: raised %d, cleared %d, active %v; alarms %v", c.scenario, seed, raised, cleared, m.Active(c.kind), got)
			}
		}
	}
	if _, err := Scenario("zombie", 1); err == nil {
		t.Error("unknown scenario accepted")
	}
}

func TestMonitorHysteresis(t *testing.T) {
	m := NewMonitor(DefaultThresholds)
	var got []Alarm
	seq := []float64{129, 131, 128, 126, 124, 131}
	for i, hr := range seq {
		got = m.Check(got, Vitals{At: time.Duration(i), HeartRate: hr, SpO2: 97, TemperatureC: 37})
	}
	want := []Alarm{
		{Kind: HeartRateHigh, Raised: true, At: 1, Value: 131, Threshold: 130},
		{Kind: HeartRateHigh, Raised: false, At: 4, Value: 124, Threshold: 130},
		{Kind: HeartRateHigh, Raised: true, At: 5, Value: 131, Threshold: 130},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("alarms %v, want %v", got, want)
	}
	if m.Flags() != 1<<HeartRateHigh {
		t.Fatalf("flags %b", m.Flags())
	}
	got = m.Check(got[:0], Vitals{HeartRate: 35, SpO2: 80, TemperatureC: 34})
	if len(got) != 4 || m.Flags() != 1<<HeartRateLow|1<<SpO2Low|1<<TemperatureLow {
		t.Fatalf("low alarms %v flags %b", got, m.Flags())
	}
}

func TestECG(t *testing.T) {
	p := New(Config{Seed: 3})
	e1, e2 := p.ECG(), New(Config{Seed: 3}).ECG()
	if e1.Rate() != 250 {
		t.Fatal("default rate")
	}
	var a, b []int16
	for range 60 {
		a = e1.Read(a, 250)
	}
	b = e2.Read(b, 15000)
	if !slices.Equal(a, b) {
		t.Fatal("same seed, same samples read differently: streams differ")
	}
	if e1.Now() != time.Minute {
		t.Fatalf("after 15000 samples at 250 Hz, now = %v", e1.Now())
	}
	// Beats over the minute track the mean heart rate.
	var mean float64
	for s := 0; s < 60; s++ {
		mean += p.Vitals(time.Duration(s)*time.Second).HeartRate / 60
	}
	if got := float64(e1.Beats()); math.Abs(got-mean) > 0.1*mean+1 {
		t.Fatalf("%v beats in a minute at %.1f bpm", got, mean)
	}
	// R peaks near 1.2 mV, troughs (S) well below zero.
	hi, lo := slices.Max(a), slices.Min(a)
	if hi < 1000 || hi > 1500 || lo > -100 {
		t.Fatalf("ECG range [%d, %d] µV", lo, hi)
	}
	c := New(Config{Seed: 4}).ECG().Read(nil, 15000)
	if slices.Equal(a, c) {
		t.Fatal("different seeds give the same ECG")
	}
}

func TestRecordRoundTrip(t *testing.T) {
	v := Vitals{At: 3723 * time.Second, HeartRate: 71.6, SpO2: 96.4, TemperatureC: 36.87}
	b := v.AppendBinary(nil, 1<<SpO2Low)
	want := []byte{1, 0x04, 72, 96, 0x0e, 0x67, 0, 0, 0x0e, 0x8b} // 3687 centi-°C, 3723 s
	if !bytes.Equal(b, want) || len(b) != RecordLen {
		t.Fatalf("record % x, want % x", b, want)
	}
	got, flags, n, err := ParseRecord(append(b, 0xff))
	if err != nil || n != RecordLen || flags != 1<<SpO2Low {
		t.Fatal(err, n, flags)
	}
	if got.HeartRate != 72 || got.SpO2 != 96 || got.TemperatureC != 36.87 || got.At != 3723*time.Second {
		t.Fatalf("parsed %+v", got)
	}
	for i := range b {
		if _, _, _, err := ParseRecord(b[:i]); !errors.Is(err, ErrRecord) {
			t.Fatalf("prefix of %d bytes accepted", i)
		}
	}
	bad := slices.Clone(b)
	bad[0] = 2
	if _, _, _, err := ParseRecord(bad); err == nil {
		t.Fatal("version 2 accepted")
	}
}

func FuzzParseRecord(f *testing.F) {
	f.Add(Vitals{At: time.Hour, HeartRate: 80, SpO2: 97, TemperatureC: 36.9}.AppendBinary(nil, 0))
	f.Add(Vitals{HeartRate: 300, SpO2: 101, TemperatureC: -400}.AppendBinary(nil, 0x1f))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, flags, n, err := ParseRecord(b)
		if err != nil {
			return
		}
		again := v.AppendBinary(nil, flags)
		if !bytes.Equal(again, b[:n]) {
			t.Fatalf("round trip % x -> % x", b[:n], again)
		}
	})
}

func BenchmarkVitals(b *testing.B) {
	eps, _ := Scenario("deteriorating", 1)
	p := New(Config{Seed: 1, Episodes: eps})
	b.ReportAllocs()
	var at time.Duration
	for b.Loop() {
		_ = p.Vitals(at)
		at += time.Second
	}
}
