package mote_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/sensors"
)

// FuzzPayloads feeds arbitrary bytes to the payload parsers a caregiver
// runs on what it receives: they must refuse or decode, never panic, and
// what they decode must re-encode to the same bytes.
func FuzzPayloads(f *testing.F) {
	v := sensors.Vitals{At: 90 * time.Second, HeartRate: 131, SpO2: 96, TemperatureC: 37.25}
	f.Add(mote.AppendAlarm(nil, sensors.Alarm{Kind: sensors.HeartRateHigh, Raised: true}, v, 1))
	f.Add(mote.AppendECG(nil, 250, 1500*time.Millisecond, []int16{0, 120, -40, 900, -32768, 32767}))
	f.Add(v.AppendBinary(nil, 0))
	f.Add([]byte("ward/1/patient/17/vitals"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if kind, raised, v, flags, err := mote.ParseAlarm(b); err == nil {
			a := sensors.Alarm{Kind: kind, Raised: raised}
			if got := mote.AppendAlarm(nil, a, v, flags); !bytes.Equal(got, b) {
				t.Fatalf("alarm % x re-encodes as % x", b, got)
			}
		}
		if hz, start, samples, err := mote.ParseECG(nil, b); err == nil {
			got := mote.AppendECG(nil, hz, start, samples)
			if !bytes.Equal(got, b) {
				t.Fatalf("ecg % x re-encodes as % x", b, got)
			}
		}
		if area, patient, kind, ok := mote.ParseTopic(string(b)); ok {
			if mote.Topic(area, patient, kind) != string(b) {
				t.Fatalf("topic %q", b)
			}
		}
	})
}

func TestPayloadRoundTrip(t *testing.T) {
	samples := []int16{1, -2, 300, -32768}
	hz, start, got, err := mote.ParseECG(nil, mote.AppendECG(nil, 125, 2*time.Second, samples))
	if err != nil || hz != 125 || start != 2*time.Second || !slices.Equal(got, samples) {
		t.Fatalf("ecg: %d %v %v %v", hz, start, got, err)
	}
	for _, bad := range [][]byte{nil, {2, 0, 250, 0, 0, 0, 0}, {1, 0, 250, 0, 0, 0, 0, 9}} {
		if _, _, _, err := mote.ParseECG(nil, bad); err == nil {
			t.Errorf("ecg % x accepted", bad)
		}
	}
	if _, _, _, _, err := mote.ParseAlarm([]byte{0, 2, 1, 0, 72, 97, 0, 0, 0, 0, 0, 0}); err == nil {
		t.Error("alarm with raised=2 accepted")
	}
	if _, _, _, ok := mote.ParseTopic("ward/1/bed/17/vitals"); ok {
		t.Error("non-patient topic parsed")
	}
}
