package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

func TestBoltStoreRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.db")
	st, err := gateway.OpenBoltStore(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []gateway.SessionRecord{{
		ClientID: "a", State: "asleep", Addr: "127.0.0.1:5000", KeepAlive: 60, SleepDur: 600,
		Will:          &gateway.WillRecord{Topic: "w", Msg: []byte("gone"), QoS: 1},
		Topics:        []gateway.TopicRecord{{Name: "t/1", ID: 1, Known: true}},
		Subscriptions: []gateway.SubscriptionRecord{{Filter: "t/#", QoS: 1}},
		Queue:         []broker.Message{{Topic: "t/1", Payload: []byte("x"), QoS: 1}},
		Inflight:      []gateway.InflightRecord{{Msg: broker.Message{Topic: "t/1", Payload: []byte("y"), QoS: 2}, MsgID: 7, TopicID: 1, Phase: 1}},
		InQoS2:        []uint16{3},
	}, {ClientID: "b", State: "lost"}}
	if err := st.Write(want, nil); err != nil {
		t.Fatal(err)
	}
	if err := st.Write(nil, []string{"b"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store file mode: %v %v", fi.Mode(), err)
	}
	st, err = gateway.OpenBoltStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(want[:1], got) {
		t.Fatalf("loaded records:\n got %+v\nwant %+v", got, want[:1])
	}
}

// crashImage copies the store file as it is on disk now, as a kill -9
// would leave it (the gateway keeps running and holding the original).
func crashImage(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img := path + ".crash"
	if err := os.WriteFile(img, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return img
}

// TestStoreSleepingAndInflightSurvive: the parts of a session the process
// test (TestReliabilityGatewayKill9) does not exercise. A sleeping client
// with a will and a subscription has messages buffered; another client has
// a QoS 1 message in flight it never acknowledged. The store file is
// copied as it is on disk (a crash image) and a new gateway started on it:
// the sleeper wakes and gets every buffered message, the other client gets
// its in-flight message again with DUP set, and the will is there.
func TestStoreSleepingAndInflightSurvive(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), relWait)
	defer cancel()
	b, err := broker.NewEmbedded(broker.EmbeddedConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	path := filepath.Join(t.TempDir(), "gw.db")
	st1, err := gateway.OpenBoltStore(path)
	if err != nil {
		t.Fatal(err)
	}
	g1, err := gateway.New(gateway.Config{Store: st1}, b)
	if err != nil {
		t.Fatal(err)
	}
	b.SetDeliver(g1.Deliver)
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { pc.Close() }()
	serve := func(g *gateway.Gateway) chan error {
		done := make(chan error, 1)
		go func() { done <- g.Serve(ctx, pc) }()
		return done
	}
	done1 := serve(g1)
	gw := pc.LocalAddr()

	got := newPayloadSet()
	sleeper := snClient(t, gw, client.Config{ClientID: "sleeper", RetryInterval: 200 * time.Millisecond, MaxRetries: 20,
		Will:      &client.Will{Topic: "ward/will/sleeper", Message: []byte("sleeper lost"), QoS: 1},
		OnPublish: func(m client.Message) { got.add(string(m.Data)) }})
	if _, err := sleeper.Subscribe(ctx, client.Named("alerts/#"), mqttsn.QoS1); err != nil {
		t.Fatal(err)
	}
	if err := sleeper.Sleep(ctx, 10*time.Minute); err != nil {
		t.Fatal(err)
	}

	// A raw client that subscribes and never acknowledges.
	raw, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rawSend := func(m mqttsn.Message) {
		bs, err := m.AppendBinary(nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.WriteTo(bs, gw); err != nil {
			t.Fatal(err)
		}
	}
	rawRecv := func(want mqttsn.MsgType) mqttsn.Message {
		buf := make([]byte, 2048)
		raw.SetReadDeadline(time.Now().Add(relWait))
		for {
			n, _, err := raw.ReadFrom(buf)
			if err != nil {
				t.Fatalf("waiting for %v: %v", want, err)
			}
			m, err := mqttsn.DecodeDatagram(slices.Clone(buf[:n]))
			if err == nil && m.Type() == want {
				return m
			}
		}
	}
	rawSend(&mqttsn.Connect{CleanSession: true, Duration: 600, ClientID: []byte("mute")})
	rawRecv(mqttsn.TypeConnack)
	rawSend(&mqttsn.Subscribe{QoS: mqttsn.QoS1, MsgID: 1, TopicIDType: mqttsn.TopicIDNormal, TopicName: []byte("alerts/mute")})
	rawRecv(mqttsn.TypeSuback)

	// Messages from the broker: buffered for the sleeper, in flight to mute.
	if err := b.Attach(ctx, "feeder", true); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 5 {
		p := fmt.Sprintf("alarm-%d", i)
		want = append(want, p)
		if err := b.Publish(ctx, "feeder", broker.Message{Topic: "alerts/ward3", Payload: []byte(p), QoS: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(ctx, "feeder", broker.Message{Topic: "alerts/mute", Payload: []byte("for-mute"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	first := rawRecv(mqttsn.TypePublish).(*mqttsn.Publish)
	if string(first.Data) != "for-mute" || first.DUP {
		t.Fatalf("mute got %+v", first)
	}

	img := crashImage(t, path)
	recs := loadRecords(t, img)
	sl := recs["sleeper"]
	if sl.State != "asleep" || len(sl.Queue) < len(want) && len(sl.Queue)+len(sl.Inflight) < len(want) ||
		sl.Will == nil || sl.Will.Topic != "ward/will/sleeper" || len(sl.Subscriptions) != 1 {
		t.Fatalf("sleeper's record in the crash image: %+v", sl)
	}
	if mu := recs["mute"]; len(mu.Inflight) != 1 || mu.State != "active" {
		t.Fatalf("mute's record in the crash image: %+v", mu)
	}

	// The first gateway goes away; a new one starts on the crash image and
	// the same socket.
	g1.Close()
	<-done1
	st1.Close()
	// A new socket on the same address, as a restarted process would bind.
	pc.Close()
	if pc, err = net.ListenPacket("udp", gw.String()); err != nil {
		t.Fatal(err)
	}
	st2, err := gateway.OpenBoltStore(img)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	var logBuf syncBuffer
	g2, err := gateway.New(gateway.Config{Store: st2, RetryInterval: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))}, b)
	if err != nil {
		t.Fatal(err)
	}
	b.SetDeliver(g2.Deliver)
	done2 := serve(g2)
	defer func() { g2.Close(); <-done2 }()

	again := rawRecv(mqttsn.TypePublish).(*mqttsn.Publish)
	if string(again.Data) != "for-mute" || !again.DUP || again.MsgID != first.MsgID {
		t.Fatalf("in-flight message after restart: %+v (first %+v)", again, first)
	}
	if err := sleeper.Wake(ctx); err != nil {
		t.Fatalf("wake after restart: %v (gateway %+v, sleeper %+v)\nrestored gateway log:\n%s", err, g2.Stats(), sleeper.Stats(), logBuf.String())
	}
	if missing := got.waitAll(want, relWait); len(missing) > 0 {
		t.Fatalf("sleeper lost buffered messages across the restart: %v", missing)
	}
}

func loadRecords(t *testing.T, path string) map[string]gateway.SessionRecord {
	t.Helper()
	st, err := gateway.OpenBoltStore(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]gateway.SessionRecord{}
	for _, r := range recs {
		m[r.ClientID] = r
	}
	return m
}

// syncBuffer is a log sink safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
