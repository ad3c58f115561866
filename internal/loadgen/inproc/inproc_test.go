package inproc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/loadgen"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestMain(m *testing.M) {
	if os.Getenv("LSMQTT_INPROC_CHILD") == "1" {
		serveChild()
		return
	}
	goleak.VerifyTestMain(m)
}

// serveChild is the child process of TestSpawn: what `lsmqtt bench
// --serve-embedded` does.
func serveChild() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	in, err := Start(ctx, Config{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_ = in.Announce(os.Stdout)
	<-ctx.Done()
	in.Close()
}

func TestSpawn(t *testing.T) {
	t.Setenv("LSMQTT_INPROC_CHILD", "1")
	tg, err := Spawn(context.Background(), os.Args[0], "-test.run=^$")
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Stop()
	if !strings.HasPrefix(tg.Broker, "mqtt://127.0.0.1:") {
		t.Fatalf("broker URL %q", tg.Broker)
	}
	res := runBench(t, loadgen.Config{Gateway: tg.Gateway, Clients: 2, QoS: 1, Count: 50, SubMQTT: tg.Broker, SubQoS: -1})
	if p := res.Publish; p.Acked != 50 || p.Delivered != 50 {
		t.Fatalf("acked %d delivered %d, want 50 50 from the child gateway", p.Acked, p.Delivered)
	}
}

func start(t *testing.T) *Instance {
	t.Helper()
	in, err := Start(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

func runBench(t *testing.T, cfg loadgen.Config) *loadgen.Result {
	t.Helper()
	res, err := loadgen.Run(context.Background(), cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	_ = res.WriteText(&buf)
	t.Log("\n" + buf.String())
	return res
}

// QoS 1 through the real gateway and embedded broker: every message is
// acknowledged and delivered to an MQTT subscriber at the broker.
func TestQoS1EndToEndViaBroker(t *testing.T) {
	in := start(t)
	res := runBench(t, loadgen.Config{Gateway: in.Addr(), Clients: 4, QoS: 1, Count: 400, Window: 2,
		SubMQTT: in.BrokerURL(), SubQoS: -1, Drain: 5 * time.Second, GatewayStats: in.Stats})
	p := res.Publish
	if p.GatewayIngested != p.Sent+p.Retransmissions {
		t.Fatalf("gateway counted %d PUBLISHes, generator sent %d + %d retransmissions", p.GatewayIngested, p.Sent, p.Retransmissions)
	}
	if res.Connect.Accepted != 4 || res.Connect.Registered != 4 {
		t.Fatalf("connect %+v", res.Connect)
	}
	if p.Sent != 400 || p.Acked != 400 || p.Lost != 0 || p.Rejected != 0 || p.AckLossPct != 0 {
		t.Fatalf("sent/acked/lost/rejected = %d/%d/%d/%d, want 400/400/0/0", p.Sent, p.Acked, p.Lost, p.Rejected)
	}
	if p.Delivered != 400 || p.DeliveryLossPct != 0 || p.Foreign != 0 {
		t.Fatalf("delivered %d (loss %v %%, foreign %d), want all 400 via the broker", p.Delivered, p.DeliveryLossPct, p.Foreign)
	}
	if p.E2ELatency.N != 400 || p.AckLatency.N != 400 {
		t.Fatalf("latency samples ack %d e2e %d", p.AckLatency.N, p.E2ELatency.N)
	}
}

// QoS 2 and an MQTT-SN subscriber through the same gateway.
func TestQoS2EndToEndViaMQTTSN(t *testing.T) {
	in := start(t)
	res := runBench(t, loadgen.Config{Gateway: in.Addr(), Clients: 2, QoS: 2, Count: 100,
		TopicType: mqttsn.TopicIDNormal, Topic: "bench/%d", SubMQTTSN: true, SubQoS: -1, Drain: 5 * time.Second})
	p := res.Publish
	if p.Sent != 100 || p.Acked != 100 || p.Lost != 0 {
		t.Fatalf("sent/acked/lost = %d/%d/%d", p.Sent, p.Acked, p.Lost)
	}
	if p.Delivered != 100 {
		t.Fatalf("delivered %d of 100 through the gateway's MQTT-SN side", p.Delivered)
	}
}

// A CONNECT burst of 300 clients is answered in full.
func TestConnectBurst(t *testing.T) {
	in := start(t)
	res := runBench(t, loadgen.Config{Gateway: in.Addr(), Clients: 300, QoS: 0, Count: 300,
		TopicType: mqttsn.TopicIDShort, Topic: "lb", ConnectRetries: -1})
	if c := res.Connect; c.Accepted != 300 || c.Retries != 0 {
		t.Fatalf("connect %+v", c)
	}
}
