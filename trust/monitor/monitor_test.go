package monitor

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/sensors"
	"github.com/lsmqtt/lsmqtt/trust/aead"
	"github.com/lsmqtt/lsmqtt/trust/envelope"
)

// receiverOpener opens with an envelope.Receiver (the group is checked by
// the key's binding).
type receiverOpener struct{ r *envelope.Receiver }

func (o receiverOpener) Open(_ context.Context, _ string, topic string, dst, env []byte) ([]byte, envelope.Header, error) {
	return o.r.Open(dst, topic, env)
}

type fixture struct {
	clk    *clock.Virtual
	sealer *envelope.Sealer
	mon    *Monitor
	events []Event
}

func newFixture(t *testing.T, keyID uint32) *fixture {
	t.Helper()
	clk := clock.NewVirtual(time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC))
	suite, err := aead.Lookup("ascon128", aead.Options{})
	if err != nil {
		t.Fatal(err)
	}
	material := bytes.Repeat([]byte{0x42}, suite.KeySize())
	k, err := envelope.NewKey(keyID, suite, material, 7, "p1", clk.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ring := envelope.NewMemKeyring()
	ring.Add(k)
	f := &fixture{clk: clk, sealer: envelope.NewSealer(k, clk)}
	f.mon = New(Config{Opener: receiverOpener{envelope.NewReceiver(envelope.ReceiverConfig{Keys: ring, Clock: clk})},
		Clock: clk, OnEvent: func(e Event) { f.events = append(f.events, e) }})
	return f
}

// seal returns the next envelope of a vitals record for patient p1.
func (f *fixture) seal(t *testing.T, topic string, hr float64, flags uint8) []byte {
	t.Helper()
	rec := sensors.Vitals{HeartRate: hr, SpO2: 97, TemperatureC: 36.6, At: 5 * time.Second}.AppendBinary(nil, flags)
	env, err := f.sealer.Seal(nil, topic, rec)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestGapFlaggedAndFilledLate(t *testing.T) {
	f := newFixture(t, 11)
	ctx := context.Background()
	topic := mote.Topic("A", "p1", mote.KindVitals)
	var envs [][]byte
	for i := range 5 {
		envs = append(envs, f.seal(t, topic, 70+float64(i), 0))
	}
	// 1, 2, 3, 5 arrive; 4 is missing.
	for _, i := range []int{0, 1, 2, 4} {
		if err := f.mon.Handle(ctx, "ward-A", topic, envs[i]); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	p, ok := f.mon.Patient("p1")
	if !ok {
		t.Fatal("patient p1 not seen")
	}
	if p.Missing != 1 || p.Messages != 4 || p.HeartRate != 74 || p.Area != "ward-A" || p.Ward != "A" {
		t.Fatalf("after 1,2,3,5: %+v", p)
	}
	if last := f.events[len(f.events)-1]; last.Gap != 1 || last.Seq != 5 {
		t.Fatalf("event for seq 5: %+v", last)
	}
	if st := f.mon.Stats(); st.Missing != 1 || st.Opened != 4 {
		t.Fatalf("stats %+v", st)
	}
	// 4 arrives late through another area: the gap closes, the latest
	// vitals stay those of 5.
	if err := f.mon.Handle(ctx, "ward-B", topic, envs[3]); err != nil {
		t.Fatal(err)
	}
	p, _ = f.mon.Patient("p1")
	if p.Missing != 0 || p.Late != 1 || p.HeartRate != 74 || p.AreaChanges != 1 || p.Area != "ward-B" {
		t.Fatalf("after late 4: %+v", p)
	}
	// A replay is refused and counted.
	if err := f.mon.Handle(ctx, "ward-B", topic, envs[3]); err == nil {
		t.Fatal("replayed envelope accepted")
	}
	if p, _ = f.mon.Patient("p1"); p.Rejected != 1 {
		t.Fatalf("rejected %d, want 1", p.Rejected)
	}
}

func TestFirstMessageAfterStartIsNoGap(t *testing.T) {
	f := newFixture(t, 12)
	topic := mote.Topic("A", "p1", mote.KindVitals)
	for range 9 {
		f.seal(t, topic, 70, 0) // sent before the monitor listened
	}
	if err := f.mon.Handle(context.Background(), "A", topic, f.seal(t, topic, 71, 0)); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.mon.Patient("p1"); p.Missing != 0 {
		t.Fatalf("monitor started at seq 10 and counted %d missing", p.Missing)
	}
}

func TestAlarmsShownAndCleared(t *testing.T) {
	f := newFixture(t, 13)
	ctx := context.Background()
	at := mote.Topic("A", "p1", mote.KindAlarm)
	v := sensors.Vitals{HeartRate: 150, SpO2: 97, TemperatureC: 36.6}
	raise := mote.AppendAlarm(nil, sensors.Alarm{Kind: sensors.HeartRateHigh, Raised: true}, v, 1<<sensors.HeartRateHigh)
	env, err := f.sealer.Seal(nil, at, raise)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.mon.Handle(ctx, "A", at, env); err != nil {
		t.Fatal(err)
	}
	p, _ := f.mon.Patient("p1")
	if len(p.Alarms) != 1 || p.Alarms[0] != sensors.HeartRateHigh.String() || p.HeartRate != 150 {
		t.Fatalf("alarm not shown: %+v", p)
	}
	var b strings.Builder
	if err := Render(&b, f.mon.Patients(), f.mon.Stats(), RenderOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), sensors.HeartRateHigh.String()) || !strings.Contains(b.String(), "p1") {
		t.Fatalf("table does not show the alarm:\n%s", b.String())
	}
	if err := f.mon.Handle(ctx, "A", mote.Topic("A", "p1", mote.KindVitals), f.seal(t, mote.Topic("A", "p1", mote.KindVitals), 80, 0)); err != nil {
		t.Fatal(err)
	}
	if p, _ := f.mon.Patient("p1"); len(p.Alarms) != 0 {
		t.Fatalf("alarm still shown after a record without flags: %+v", p)
	}
}

func TestBadTopicAndTamperedEnvelope(t *testing.T) {
	f := newFixture(t, 14)
	ctx := context.Background()
	if err := f.mon.Handle(ctx, "A", "hospital/other", []byte{1, 2, 3}); !errors.Is(err, ErrTopic) {
		t.Fatalf("bad topic: %v", err)
	}
	topic := mote.Topic("A", "p1", mote.KindVitals)
	env := f.seal(t, topic, 70, 0)
	env[len(env)-1] ^= 1
	if err := f.mon.Handle(ctx, "A", topic, env); err == nil {
		t.Fatal("tampered envelope accepted")
	}
	if st := f.mon.Stats(); st.BadTopic != 1 || st.Rejected != 1 || st.Opened != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSeqTracker(t *testing.T) {
	var s seqTracker
	for _, c := range []struct {
		seq        uint32
		newMissing uint32
		late, dup  bool
		open       uint64
	}{
		{1, 0, false, false, 0}, {4, 2, false, false, 2}, {3, 0, true, false, 1}, {3, 0, false, true, 1},
		{2, 0, true, false, 0}, {5, 0, false, false, 0},
	} {
		n, late, dup := s.see(c.seq)
		if n != c.newMissing || late != c.late || dup != c.dup || s.open() != c.open {
			t.Fatalf("seq %d: got (%d, %v, %v, open %d), want %+v", c.seq, n, late, dup, s.open(), c)
		}
	}
}
