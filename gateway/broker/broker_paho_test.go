package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// mochiBackend is an embedded broker playing the external broker.
func mochiBackend(t *testing.T) string {
	t.Helper()
	e, err := NewEmbedded(EmbeddedConfig{TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e.TCPAddr()
}

// stateWatch turns OnStateChange into a channel.
type stateWatch chan State

func (w stateWatch) until(t *testing.T, want State) {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case s := <-w:
			if s == want {
				return
			}
		case <-timeout:
			t.Fatalf("broker state never became %v", want)
		}
	}
}

func newTestExternal(t *testing.T, addr string, mode Mode, tweak func(*ExternalConfig)) (*External, recorder, stateWatch) {
	t.Helper()
	rec := newRecorder()
	states := make(stateWatch, 100)
	cfg := ExternalConfig{
		URL:        "mqtt://" + addr,
		Mode:       mode,
		Deliver:    rec.deliver,
		MinBackoff: 5 * time.Millisecond,
		MaxBackoff: 100 * time.Millisecond,
		AckTimeout: waitFor,
		// A connection accepted by a broker that is shutting down may never see
		// a CONNACK (mochi leaks it): give up on it quickly and retry.
		ConnectTimeout: time.Second,
		OnStateChange: func(s State) {
			select {
			case states <- s:
			default:
			}
		},
	}
	if os.Getenv("LSMQTT_TEST_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if tweak != nil {
		tweak(&cfg)
	}
	e, err := NewExternal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := e.AwaitConnected(ctx); err != nil {
		t.Fatalf("no connection to %s: %v", addr, err)
	}
	return e, rec, states
}

func TestExternalConformanceMochi(t *testing.T) {
	for _, mode := range []Mode{Aggregating, Transparent} {
		t.Run(mode.String(), func(t *testing.T) {
			runConformance(t, func(t *testing.T) harness {
				addr := mochiBackend(t)
				e, rec, _ := newTestExternal(t, addr, mode, nil)
				return harness{b: e, rec: rec, addr: addr}
			})
		})
	}
}

func TestParseBrokerURL(t *testing.T) {
	for in, want := range map[string]string{
		"mqtt://broker":           "broker:1883",
		"mqtts://broker":          "broker:8883",
		"mqtt://10.0.0.1:1884":    "10.0.0.1:1884",
		"mqtt://[::1]":            "[::1]:1883",
		"mqtts://u:p@broker:8884": "broker:8884",
	} {
		u, err := ParseBrokerURL(in)
		if err != nil || u.Host != want {
			t.Errorf("ParseBrokerURL(%q) = %v, %v; want host %s", in, u, err, want)
		}
	}
	for _, bad := range []string{"http://broker", "broker:1883", "mqtt://", "mqtt://%zz"} {
		if _, err := ParseBrokerURL(bad); err == nil {
			t.Errorf("ParseBrokerURL(%q) accepted", bad)
		}
	}
	if _, err := ParseMode("sideways"); err == nil {
		t.Error("ParseMode accepted nonsense")
	}
}

// restartableBackend is a mochi broker on a fixed loopback address that can be
// stopped and started again; a test subscriber (inline, registered before the
// listener opens) sees every message from the first moment.
type restartableBackend struct {
	t    *testing.T
	addr string
	srv  *mqtt.Server
	got  chan packets.Packet
}

func (b *restartableBackend) start(filter string) {
	b.t.Helper()
	srv := mqtt.New(&mqtt.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		b.t.Fatal(err)
	}
	if err := srv.Subscribe(filter, 1, func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
		b.got <- pk
	}); err != nil {
		b.t.Fatal(err)
	}
	if b.addr == "" {
		b.addr = "127.0.0.1:0"
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: b.addr})
	if err := srv.AddListener(tcp); err != nil {
		b.t.Fatalf("restart on %s: %v", b.addr, err)
	}
	b.addr = tcp.Address()
	if err := srv.Serve(); err != nil {
		b.t.Fatal(err)
	}
	b.srv = srv
}

func (b *restartableBackend) stop() {
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

// TestExternalBrokerRestart: a broker without persistence goes away; messages
// accepted meanwhile are queued and delivered once it is back; subscriptions are
// restored.
func TestExternalBrokerRestart(t *testing.T) {
	for _, mode := range []Mode{Aggregating, Transparent} {
		t.Run(mode.String(), func(t *testing.T) {
			back := &restartableBackend{t: t, got: make(chan packets.Packet, 1000)}
			back.start("up/#")
			t.Cleanup(back.stop)
			e, rec, states := newTestExternal(t, back.addr, mode, nil)
			ctx := testCtx(t)
			if err := e.Attach(ctx, "sn", true); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Subscribe(ctx, "sn", "down/#", 1); err != nil {
				t.Fatal(err)
			}
			if err := e.Publish(ctx, "sn", Message{Topic: "up/0", Payload: []byte("before"), QoS: 1}); err != nil {
				t.Fatal(err)
			}
			if pk := <-back.got; string(pk.Payload) != "before" {
				t.Fatalf("got %q", pk.Payload)
			}

			back.stop()
			states.until(t, StateConnecting)
			const n = 20
			for i := range n {
				m := Message{Topic: fmt.Sprintf("up/%d", i), Payload: fmt.Appendf(nil, "%d", i), QoS: byte(1 + i%2)}
				if err := e.Publish(ctx, "sn", m); err != nil {
					t.Fatalf("publish during outage: %v", err)
				}
			}
			if st := e.Stats(); st.Queued != n || st.State != StateConnecting {
				t.Fatalf("during outage: %+v", st)
			}

			back.start("up/#")
			got := map[string]bool{}
			for len(got) < n {
				select {
				case pk := <-back.got:
					got[string(pk.Payload)] = true
				case <-time.After(waitFor):
					t.Fatalf("after restart received %d of %d queued messages", len(got), n)
				}
			}
			if err := e.AwaitDrained(ctx); err != nil {
				t.Fatal(err)
			}
			states.until(t, StateConnected)
			if st := e.Stats(); st.Queued != 0 || st.State != StateConnected || st.Reconnects == 0 {
				t.Fatalf("after restart: %+v", st)
			}
			// The subscription was restored: a message from the broker side arrives.
			if err := back.srv.Publish("down/x", []byte("restored"), false, 1); err != nil {
				t.Fatal(err)
			}
			if d := rec.next(t); d.client != "sn" || string(d.msg.Payload) != "restored" {
				t.Fatalf("after restart delivered %+v", d)
			}
		})
	}
}

func TestExternalQueueBound(t *testing.T) {
	back := &restartableBackend{t: t, got: make(chan packets.Packet, 100)}
	back.start("#")
	t.Cleanup(back.stop)
	e, _, states := newTestExternal(t, back.addr, Aggregating, func(c *ExternalConfig) { c.MaxQueued = 3 })
	ctx := testCtx(t)
	if err := e.Attach(ctx, "sn", true); err != nil {
		t.Fatal(err)
	}
	back.stop()
	states.until(t, StateConnecting)
	for i := range 3 {
		if err := e.Publish(ctx, "sn", Message{Topic: "q", Payload: []byte{byte(i)}, QoS: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Publish(ctx, "sn", Message{Topic: "q", QoS: 1}); !errors.Is(err, ErrBusy) {
		t.Fatalf("publish beyond the bound: %v, want ErrBusy", err)
	}
	if st := e.Stats(); st.Busy != 1 || st.Queued != 3 || st.QueueLimit != 3 {
		t.Fatalf("stats %+v", st)
	}
	e.Close()
	if st := e.Stats(); st.DroppedByReason["shutdown"] != 3 || st.State != StateDisconnected {
		t.Fatalf("after close: %+v", st)
	}
}

func TestExternalAggregatingFanOut(t *testing.T) {
	addr := mochiBackend(t)
	e, rec, _ := newTestExternal(t, addr, Aggregating, nil)
	ctx := testCtx(t)
	for _, id := range []string{"a", "b", "c"} {
		if err := e.Attach(ctx, id, true); err != nil {
			t.Fatal(err)
		}
	}
	// a: two overlapping filters; b: QoS 0; c: unrelated.
	for _, s := range []struct {
		id, f string
		q     byte
	}{{"a", "ward/+/hr", 1}, {"a", "ward/#", 2}, {"b", "ward/3/hr", 0}, {"c", "lab/#", 1}} {
		if _, err := e.Subscribe(ctx, s.id, s.f, s.q); err != nil {
			t.Fatal(err)
		}
	}
	pub := dialMQTT(t, addr, "pub", true)
	pub.publish(t, "ward/3/hr", "70", 2, false)
	got := map[string]byte{}
	for range 2 {
		d := rec.next(t)
		if _, dup := got[d.client]; dup {
			t.Fatalf("client %s got the message twice", d.client)
		}
		got[d.client] = d.msg.QoS
	}
	if got["a"] != 2 || got["b"] != 0 {
		t.Fatalf("QoS per client %v, want a:2 (highest matching) b:0", got)
	}
	pub.publish(t, "lab/sentinel", "s", 1, false)
	if d := rec.next(t); d.client != "c" {
		t.Fatalf("got %+v", d)
	}
	if st := e.Stats(); st.Clients != 3 || st.Subscriptions != 4 {
		t.Fatalf("stats %+v", st)
	}
	// b leaves: the shared filter ward/3/hr is unsubscribed at the broker, and
	// a still gets its messages.
	if err := e.Detach(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	pub.publish(t, "ward/3/hr", "71", 1, false)
	if d := rec.next(t); d.client != "a" || d.msg.QoS != 1 {
		t.Fatalf("got %+v", d)
	}
	pub.publish(t, "lab/sentinel", "s", 1, false)
	if d := rec.next(t); d.client != "c" {
		t.Fatalf("got %+v, b should be gone", d)
	}
}

func TestExternalAggregatingPersistentSession(t *testing.T) {
	vc := clock.NewVirtual(time.Unix(0, 0))
	addr := mochiBackend(t)
	e, rec, _ := newTestExternal(t, addr, Aggregating, func(c *ExternalConfig) {
		c.Clock = vc
		c.SessionExpiry = time.Minute
	})
	ctx := testCtx(t)
	if err := e.Attach(ctx, "sleepy", false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Subscribe(ctx, "sleepy", "cmd", 1); err != nil {
		t.Fatal(err)
	}
	if err := e.Detach(ctx, "sleepy"); err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(ctx, "sleepy", Message{Topic: "x"}); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("publish while detached: %v", err)
	}
	if err := e.Attach(ctx, "watch", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Subscribe(ctx, "watch", "cmd", 1); err != nil {
		t.Fatal(err)
	}
	pub := dialMQTT(t, addr, "pub", true)
	pub.publish(t, "cmd", "queued", 1, false)
	if d := rec.next(t); d.client != "watch" { // routed: sleepy's copy is queued by now
		t.Fatalf("got %+v", d)
	}
	if err := e.Attach(ctx, "sleepy", false); err != nil {
		t.Fatal(err)
	}
	if d := rec.next(t); d.client != "sleepy" || string(d.msg.Payload) != "queued" {
		t.Fatalf("got %+v", d)
	}
	// Expiry: detach again and let the session lapse.
	if err := e.Detach(ctx, "sleepy"); err != nil {
		t.Fatal(err)
	}
	vc.Advance(2 * time.Minute)
	if err := e.Attach(ctx, "sleepy", false); err != nil {
		t.Fatal(err)
	}
	pub.publish(t, "cmd", "after expiry", 1, false)
	if d := rec.next(t); d.client != "watch" {
		t.Fatalf("got %+v", d)
	}
	rec.none(t) // sleepy's subscription expired with its session
}

func TestExternalTransparentOwnClientIDs(t *testing.T) {
	back, err := NewEmbedded(EmbeddedConfig{TCPAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	e, _, _ := newTestExternal(t, back.TCPAddr(), Transparent, nil)
	ctx := testCtx(t)
	if err := e.Attach(ctx, "sensor-9", true); err != nil {
		t.Fatal(err)
	}
	// Attach waited for the connection: the broker lists the client id.
	if _, ok := back.Server().Clients.Get("sensor-9"); !ok {
		t.Fatal("the broker does not see sensor-9")
	}
	if _, ok := back.Server().Clients.Get(e.ClientID()); !ok {
		t.Fatalf("the broker does not see the control connection %s", e.ClientID())
	}
	if err := e.Detach(ctx, "sensor-9"); err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(ctx, "sensor-9", Message{Topic: "x"}); !errors.Is(err, ErrUnknownClient) {
		t.Fatalf("publish after detach: %v", err)
	}
}

func benchExternal(b *testing.B, mode Mode, qos byte) {
	back, err := NewEmbedded(EmbeddedConfig{TCPAddr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	defer back.Close()
	e, err := NewExternal(ExternalConfig{URL: "mqtt://" + back.TCPAddr(), Mode: mode, Deliver: func(string, Message) {}})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := b.Context()
	if err := e.AwaitConnected(ctx); err != nil {
		b.Fatal(err)
	}
	if err := e.Attach(ctx, "p", true); err != nil {
		b.Fatal(err)
	}
	m := Message{Topic: "ward/1/hr", Payload: []byte("72"), QoS: qos}
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Publish(ctx, "p", m); err != nil {
			b.Fatal(err)
		}
	}
}

// One publisher, each Publish waiting for the broker's PUBACK (QoS 1): the
// latency of a round trip through paho and a loopback broker.
func BenchmarkExternalAggregatingPublishQoS1(b *testing.B) { benchExternal(b, Aggregating, 1) }
func BenchmarkExternalAggregatingPublishQoS0(b *testing.B) { benchExternal(b, Aggregating, 0) }
