package mote_test

import (
	"bytes"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/sensors"
)

// near reports whether a decoded record field could come from a reading
// of x (rounded as the record rounds).
func near(got, lo, hi float64, scale float64) bool {
	a, b := math.Round(lo*scale)/scale, math.Round(hi*scale)/scale
	return got >= math.Min(a, b)-1e-9 && got <= math.Max(a, b)+1e-9
}

// Sensors → envelope → gateway → broker → a caregiver opening the envelope
// gives back the reading; alarms travel at QoS 1, routine vitals at QoS 0.
func TestCaregiverReadsVitalsAndAlarm(t *testing.T) {
	e := newEnv(t, area.Config{UDP: true, TS: true})
	creds := e.register("z1-0042", "42")
	cg, err := e.a.NewCaregiver("nurse", mote.PatientFilter("42"), "42")
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	tr, err := mote.DialUDP(e.a.UDPAddr(), mote.DefaultLinkModel())
	if err != nil {
		t.Fatal(err)
	}
	th := sensors.DefaultThresholds
	th.HeartRateHigh = 30 // any heart rate raises the alarm
	m, err := mote.New(mote.Config{Creds: creds, Transport: tr, Clock: e.clk, Manual: true, Seed: 99,
		Thresholds: &th, Area: "3"})
	if err != nil {
		t.Fatal(err)
	}
	e.add(m)
	e.do("connect", time.Minute, m.Connect)
	if err := e.drv.RunFor(e.ctx, 10*time.Second-e.clk.Since(epoch)); err != nil {
		t.Fatal(err)
	}
	at := e.clk.Since(epoch)
	e.do("sample", time.Minute, m.SampleAll)
	after := e.clk.Since(epoch)
	e.do("publish", time.Minute, m.PublishVitals)

	got := map[string]area.Message{}
	ok, _ := e.drv.Await(e.ctx, func() bool {
		for {
			select {
			case msg := <-cg.Messages():
				got[msg.Topic] = msg
			default:
				return len(got) == 2
			}
		}
	}, 10*time.Second)
	if !ok {
		t.Fatalf("caregiver got %d messages: %v; gateway %+v; mote %+v", len(got), got, e.a.Gateway.Stats(), m.Stats())
	}
	vt, at2 := mote.Topic("3", "42", mote.KindVitals), mote.Topic("3", "42", mote.KindAlarm)
	if m.Topic(mote.KindVitals) != vt || !strings.HasPrefix(vt, "ward/3/patient/42/") {
		t.Fatalf("topic %q", m.Topic(mote.KindVitals))
	}
	vm, am := got[vt], got[at2]
	if vm.QoS != 0 || am.QoS != 1 {
		t.Fatalf("vitals at QoS %d, alarm at QoS %d; want 0 and 1", vm.QoS, am.QoS)
	}
	pt, h, err := cg.Open(e.ctx, vm)
	if err != nil {
		t.Fatal(err)
	}
	if h.Sender != creds.Sender {
		t.Fatalf("envelope sender %d, want %d", h.Sender, creds.Sender)
	}
	if bytes.Contains(vm.Envelope, pt) {
		t.Fatal("the broker carried the plaintext record")
	}
	v, flags, _, err := sensors.ParseRecord(pt)
	if err != nil {
		t.Fatal(err)
	}
	p := sensors.New(sensors.Config{Seed: 99})
	lo, hi := p.Vitals(at), p.Vitals(after)
	if !near(v.HeartRate, lo.HeartRate, hi.HeartRate, 1) || !near(v.SpO2, lo.SpO2, hi.SpO2, 1) ||
		!near(v.TemperatureC, lo.TemperatureC, hi.TemperatureC, 100) {
		t.Fatalf("caregiver read %+v, the patient had %+v .. %+v", v, lo, hi)
	}
	if flags != 1<<sensors.HeartRateHigh {
		t.Fatalf("alarm flags %08b", flags)
	}
	apt, _, err := cg.Open(e.ctx, am)
	if err != nil {
		t.Fatal(err)
	}
	kind, raised, av, _, err := mote.ParseAlarm(apt)
	if err != nil || kind != sensors.HeartRateHigh || !raised || av.HeartRate != v.HeartRate {
		t.Fatalf("alarm %v raised=%v %+v %v", kind, raised, av, err)
	}
	// A replayed envelope is refused.
	if _, _, err := cg.Open(e.ctx, vm); err == nil {
		t.Fatal("replay accepted")
	}
	st := m.Stats()
	if st.Challenges != 1 || st.KeyRequests != 1 || st.PublishedAlarms != 1 || st.AlarmsRaised != 1 {
		t.Fatalf("stats %+v", st)
	}
	_ = net.ErrClosed
}
