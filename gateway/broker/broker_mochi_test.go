package broker

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/prometheus/client_golang/prometheus"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

func newTestEmbedded(t *testing.T, cfg EmbeddedConfig) (*Embedded, recorder) {
	t.Helper()
	rec := newRecorder()
	if cfg.TCPAddr == "" {
		cfg.TCPAddr = "127.0.0.1:0"
	}
	cfg.Deliver = rec.deliver
	e, err := NewEmbedded(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, rec
}

func TestEmbeddedConformance(t *testing.T) {
	runConformance(t, func(t *testing.T) harness {
		e, rec := newTestEmbedded(t, EmbeddedConfig{})
		return harness{b: e, rec: rec, addr: e.TCPAddr()}
	})
}

// originHook records the client id mochi attributes each publish to.
type originHook struct {
	mqtt.HookBase
	mu      sync.Mutex
	origins []string
}

func (h *originHook) ID() string { return "origin" }
func (h *originHook) Provides(b byte) bool {
	return b == mqtt.OnPublished
}
func (h *originHook) OnPublished(cl *mqtt.Client, pk packets.Packet) {
	h.mu.Lock()
	h.origins = append(h.origins, cl.ID+" "+pk.Origin+" "+pk.TopicName)
	h.mu.Unlock()
}

func TestEmbeddedClientAppearsWithItsOwnID(t *testing.T) {
	e, _ := newTestEmbedded(t, EmbeddedConfig{})
	ctx := testCtx(t)
	h := new(originHook)
	if err := e.Server().AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.Attach(ctx, "sensor-17", true); err != nil {
		t.Fatal(err)
	}
	if cl, ok := e.Server().Clients.Get("sensor-17"); !ok || cl.ID != "sensor-17" {
		t.Fatalf("broker does not list the MQTT-SN client: %v %v", cl, ok)
	}
	if n := e.Server().Info.ClientsConnected; n != 1 {
		t.Fatalf("$SYS clients connected = %d, want 1", n)
	}
	if err := e.Publish(ctx, "sensor-17", Message{Topic: "w/hr", Payload: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	h.mu.Lock()
	got := append([]string(nil), h.origins...)
	h.mu.Unlock()
	if len(got) != 1 || got[0] != "sensor-17 sensor-17 w/hr" {
		t.Fatalf("publishes seen by broker hooks: %q", got)
	}
	if err := e.Detach(ctx, "sensor-17"); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.Server().Clients.Get("sensor-17"); ok {
		t.Fatal("clean client still listed after Detach")
	}
	if n := e.Server().Info.ClientsConnected; n != 0 {
		t.Fatalf("$SYS clients connected = %d after detach", n)
	}
}

func TestEmbeddedPersistentSession(t *testing.T) {
	e, rec := newTestEmbedded(t, EmbeddedConfig{MaxQueued: 2})
	ctx := testCtx(t)
	if err := e.Attach(ctx, "sleepy", false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Subscribe(ctx, "sleepy", "cmd/#", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Detach(ctx, "sleepy"); err != nil {
		t.Fatal(err)
	}
	if err := e.Attach(ctx, "pub", true); err != nil {
		t.Fatal(err)
	}
	for _, m := range []Message{
		{Topic: "cmd/a", Payload: []byte("q0"), QoS: 0},
		{Topic: "cmd/a", Payload: []byte("q1-1"), QoS: 1},
		{Topic: "cmd/a", Payload: []byte("q1-2"), QoS: 1},
		{Topic: "cmd/a", Payload: []byte("q1-3"), QoS: 1},
	} {
		if err := e.Publish(ctx, "pub", m); err != nil {
			t.Fatal(err)
		}
	}
	rec.none(t) // Publish routes synchronously: nothing reaches a detached client
	st := e.Stats()
	if st.Queued != 2 || st.DroppedByReason["detached_qos0"] != 1 || st.DroppedByReason["detached_full"] != 1 {
		t.Fatalf("stats %+v", st)
	}
	if err := e.Attach(ctx, "sleepy", false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"q1-1", "q1-2"} {
		if d := rec.next(t); d.client != "sleepy" || string(d.msg.Payload) != want {
			t.Fatalf("got %+v, want %s", d, want)
		}
	}
	// The subscription survived: a live message arrives.
	if err := e.Publish(ctx, "pub", Message{Topic: "cmd/b", Payload: []byte("live"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if d := rec.next(t); string(d.msg.Payload) != "live" {
		t.Fatalf("got %+v", d)
	}
	// A clean attach discards the session.
	if err := e.Attach(ctx, "sleepy", true); err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(ctx, "pub", Message{Topic: "cmd/c", Payload: []byte("gone"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	rec.none(t)
}

func TestEmbeddedSessionExpiry(t *testing.T) {
	vc := clock.NewVirtual(time.Unix(0, 0))
	e, rec := newTestEmbedded(t, EmbeddedConfig{SessionExpiry: time.Hour, Clock: vc})
	ctx := testCtx(t)
	for _, id := range []string{"a", "b"} {
		if err := e.Attach(ctx, id, false); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Subscribe(ctx, id, "x", 1); err != nil {
			t.Fatal(err)
		}
		if err := e.Detach(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	vc.Advance(30 * time.Minute)
	if err := e.Attach(ctx, "b", false); err != nil { // b comes back in time
		t.Fatal(err)
	}
	vc.Advance(time.Hour)
	if st := e.Stats(); st.Subscriptions != 1 {
		t.Fatalf("subscriptions after expiry = %d, want 1 (b's)", st.Subscriptions)
	}
	if err := e.Attach(ctx, "pub", true); err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(ctx, "pub", Message{Topic: "x", Payload: []byte("p"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if d := rec.next(t); d.client != "b" {
		t.Fatalf("delivered to %q", d.client)
	}
	rec.none(t) // a's session expired
}

func TestEmbeddedPayloadOwnership(t *testing.T) {
	e, rec := newTestEmbedded(t, EmbeddedConfig{})
	ctx := testCtx(t)
	for _, id := range []string{"p", "s1", "s2"} {
		if err := e.Attach(ctx, id, true); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range []string{"s1", "s2"} {
		if _, err := e.Subscribe(ctx, id, "t", 0); err != nil {
			t.Fatal(err)
		}
	}
	buf := []byte("original")
	if err := e.Publish(ctx, "p", Message{Topic: "t", Payload: buf}); err != nil {
		t.Fatal(err)
	}
	copy(buf, "XXXXXXXX") // the caller reuses its buffer
	d1, d2 := rec.next(t), rec.next(t)
	d1.msg.Payload[0] = 'Y' // one callee scribbles on its copy
	if string(d2.msg.Payload) != "original" {
		t.Fatalf("payloads alias: %q", d2.msg.Payload)
	}
}

func TestEmbeddedRefusals(t *testing.T) {
	e, _ := newTestEmbedded(t, EmbeddedConfig{})
	ctx := testCtx(t)
	if err := e.Attach(ctx, "", true); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("empty client id: %v", err)
	}
	if err := e.Attach(ctx, "c", true); err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(ctx, "c", Message{Topic: "$SYS/broker/x", Payload: []byte("spoof")}); !errors.Is(err, ErrInvalidTopic) {
		t.Fatalf("publish to $SYS: %v", err)
	}
	if _, err := e.Subscribe(ctx, "c", "$share/g", 1); !errors.Is(err, ErrInvalidTopic) {
		t.Fatalf("subscribe to bare $share: %v", err)
	}
	if g, err := e.Subscribe(ctx, "c", "q", 3); err != nil || g != 2 {
		t.Fatalf("Subscribe QoS 3 granted %d, %v", g, err)
	}
	if err := e.Detach(ctx, "nobody"); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("detach unknown: %v", err)
	}
}

func TestEmbeddedNoDeliverCounted(t *testing.T) {
	e, err := NewEmbedded(EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.TCPAddr() != "" {
		t.Fatalf("TCP listener without TCPAddr: %s", e.TCPAddr())
	}
	ctx := testCtx(t)
	if err := e.Attach(ctx, "c", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Subscribe(ctx, "c", "t", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(ctx, "c", Message{Topic: "t"}); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.DroppedByReason["no_deliver"] != 1 || st.Published != 1 {
		t.Fatalf("stats %+v", st)
	}
	var got bytes.Buffer
	e.SetDeliver(func(id string, m Message) { got.WriteString(id + ":" + m.Topic) })
	if err := e.Publish(ctx, "c", Message{Topic: "t"}); err != nil {
		t.Fatal(err)
	}
	if got.String() != "c:t" {
		t.Fatalf("SetDeliver: got %q", got.String())
	}
}

func BenchmarkEmbeddedPublishQoS0(b *testing.B) {
	var n int
	e, err := NewEmbedded(EmbeddedConfig{Deliver: func(string, Message) { n++ }})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := b.Context()
	_ = e.Attach(ctx, "p", true)
	_ = e.Attach(ctx, "s", true)
	_, _ = e.Subscribe(ctx, "s", "ward/+/hr", 0)
	m := Message{Topic: "ward/1/hr", Payload: []byte("72")}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Publish(ctx, "p", m); err != nil {
			b.Fatal(err)
		}
	}
	if n != b.N {
		b.Fatalf("delivered %d of %d", n, b.N)
	}
}

func TestCollector(t *testing.T) {
	e, _ := newTestEmbedded(t, EmbeddedConfig{})
	ctx := testCtx(t)
	if err := e.Attach(ctx, "c", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Subscribe(ctx, "c", "t", 0); err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(ctx, "c", Message{Topic: "t"}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(e, "embedded"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "," + l.GetName() + "=" + l.GetValue()
			}
			got[name] = v
		}
	}
	for name, want := range map[string]float64{
		"lsmqtt_broker_info,kind=embedded": 1,
		"lsmqtt_broker_clients":            1,
		"lsmqtt_broker_connected":          1,
		"lsmqtt_broker_subscriptions":      1,
		"lsmqtt_broker_published_total":    1,
		"lsmqtt_broker_delivered_total":    1,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", name, v, ok, want)
		}
	}
	if !strings.HasPrefix(mfs[0].GetName(), "lsmqtt_broker_") {
		t.Errorf("metric %s", mfs[0].GetName())
	}
}

// TestEmbeddedInflightBound: a QoS 1 subscriber on the TCP listener that
// has not acknowledged yet (a busy dashboard, the soak's measuring
// subscriber on a loaded host) is owed every message up to MaxInflight;
// beyond it mochi drops the message for that subscriber, counted only in
// Info.InflightDropped. The default must hold more than mochi's own 8192.
func TestEmbeddedInflightBound(t *testing.T) {
	for _, tc := range []struct {
		name      string
		max, n    int
		delivered int
	}{
		{"default", 0, 10000, 10000},
		{"bound 100", 100, 150, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, _ := newTestEmbedded(t, EmbeddedConfig{MaxInflight: tc.max})
			ctx := testCtx(t)
			conn, err := net.DialTimeout("tcp", e.TCPAddr(), waitFor)
			if err != nil {
				t.Fatal(err)
			}
			recv := make(chan *paho.Publish, tc.n)
			// Manual acknowledgement, never given: every delivery stays in flight.
			cl := paho.NewClient(paho.ClientConfig{
				Conn:                       conn,
				EnableManualAcknowledgment: true,
				OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
					recv <- pr.Packet
					return true, nil
				}},
			})
			if _, err := cl.Connect(ctx, &paho.Connect{ClientID: "dash", CleanStart: true, KeepAlive: 60}); err != nil {
				t.Fatal(err)
			}
			defer func() {
				_ = cl.Disconnect(&paho.Disconnect{})
				<-cl.Done()
			}()
			if _, err := cl.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "w/#", QoS: 1}}}); err != nil {
				t.Fatal(err)
			}
			if err := e.Attach(ctx, "sensor", true); err != nil {
				t.Fatal(err)
			}
			for i := range tc.n {
				if err := e.Publish(ctx, "sensor", Message{Topic: "w/hr", Payload: []byte(strconv.Itoa(i)), QoS: 1}); err != nil {
					t.Fatal(err)
				}
			}
			// Publish routes synchronously: the drops, if any, are counted.
			if got, want := atomic.LoadInt64(&e.Server().Info.InflightDropped), int64(tc.n-tc.delivered); got != want {
				t.Errorf("InflightDropped = %d, want %d", got, want)
			}
			for i := range tc.delivered {
				select {
				case p := <-recv:
					if string(p.Payload) != strconv.Itoa(i) {
						t.Fatalf("delivery %d: payload %q", i, p.Payload)
					}
				case <-time.After(waitFor):
					t.Fatalf("subscriber received %d of %d", i, tc.delivered)
				}
			}
		})
	}
}
