package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// TestReliabilityBrokerOutage is docs/reliability.md's "broker outage"
// promise, end to end: an MQTT-SN publisher and an MQTT-SN subscriber on a
// real gateway in front of a real mosquitto (external adapter, aggregating).
// mosquitto is killed with SIGKILL mid-stream and restarted on the same port.
// While it is down the gateway keeps accepting QoS 1 publishes into the
// adapter's bounded outage queue; at the bound it answers "rejected:
// congestion" and counts it in lsmqtt_broker_busy_total, and the publisher
// tries again later (MQTT-SN v1.2 §6.6, TWAIT). Every publish the gateway
// acknowledged reaches the subscriber after the restart.
//
// Limit: a message mosquitto acknowledged but had not yet routed when it was
// SIGKILLed is mosquitto's to lose (persistence off); this test counts it as
// lost all the same, and it has not happened in the runs recorded.
func TestReliabilityBrokerOutage(t *testing.T) {
	for _, qos := range []mqttsn.QoS{mqttsn.QoS1, mqttsn.QoS2} {
		t.Run(fmt.Sprintf("QoS%d", qos), func(t *testing.T) { testBrokerOutage(t, qos) })
	}
}

func testBrokerOutage(t *testing.T, qos mqttsn.QoS) {
	const (
		n         = 200
		killAt    = 40
		queueSize = 25
	)
	m := startRelMosquitto(t)
	ext, err := broker.NewExternal(broker.ExternalConfig{URL: "mqtt://" + m.Addr(), MaxQueued: queueSize,
		MinBackoff: 5 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, ConnectTimeout: time.Second, AckTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ext.Close()
	reg := prometheus.NewRegistry()
	if err := reg.Register(broker.NewCollector(ext, "aggregating")); err != nil {
		t.Fatal(err)
	}
	g, err := gateway.New(gateway.Config{Registerer: reg, RetryInterval: 2 * time.Second, MaxRetries: 5,
		BrokerTimeout: 20 * time.Second}, ext)
	if err != nil {
		t.Fatal(err)
	}
	ext.SetDeliver(g.Deliver)
	gw := serveGateway(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 3*relWait)
	defer cancel()
	if err := ext.AwaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	got := newPayloadSet()
	sub := snClient(t, gw, client.Config{ClientID: "nurse-station", RetryInterval: 2 * time.Second, MaxRetries: 5,
		OnPublish: func(m client.Message) { got.add(string(m.Data)) }})
	if _, err := sub.Subscribe(ctx, client.Named("vitals/#"), qos); err != nil {
		t.Fatal(err)
	}
	pub := snClient(t, gw, client.Config{ClientID: "z1-outage", RetryInterval: 2 * time.Second, MaxRetries: 5})

	var accepted []string
	refused, killed, restarted := 0, false, false
	for i := 0; i < n; {
		payload := fmt.Sprintf("hr-%03d", i)
		err := pub.Publish(ctx, client.Named("vitals/z1-outage/hr"), qos, false, []byte(payload))
		switch {
		case err == nil:
			accepted = append(accepted, payload)
			i++
		case errors.Is(err, mqttsn.RejectedCongestion):
			// The outage queue is full: wait TWAIT (short here) and retry.
			refused++
			if killed && !restarted {
				m.Start()
				restarted = true
			}
			select {
			case <-time.After(20 * time.Millisecond):
			case <-ctx.Done():
				t.Fatalf("publishing: %v", ctx.Err())
			}
		default:
			t.Fatalf("publish %d: %v", i, err)
		}
		if i == killAt && !killed {
			m.Kill()
			killed = true
		}
	}
	if !killed || !restarted {
		t.Fatalf("the outage never filled the queue (killed %v restarted %v)", killed, restarted)
	}
	if missing := got.waitAll(accepted, relWait); len(missing) > 0 {
		t.Fatalf("%d of %d acknowledged messages never reached the subscriber: %v (adapter %+v)",
			len(missing), len(accepted), missing, ext.Stats())
	}
	st := ext.Stats()
	busy := gatherValue(t, reg, "lsmqtt_broker_busy_total")
	if st.Busy == 0 || busy == 0 || st.Reconnects == 0 {
		t.Fatalf("bound hit not reported: stats %+v, lsmqtt_broker_busy_total %v", st, busy)
	}
	distinct, dups := got.counts()
	t.Logf("QoS %d: %d acknowledged, %d refused with congestion while the %d-message queue was full, %d distinct at the subscriber "+
		"(%d duplicates); mosquitto SIGKILLed after %d and restarted; adapter reconnects %d, busy %d, dropped %d",
		qos, len(accepted), refused, queueSize, distinct, dups, killAt, st.Reconnects, st.Busy, st.Dropped)
}
