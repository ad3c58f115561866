package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// newTestMosquitto starts a real mosquitto on a free loopback port
// (persistence on), which the test can stop and start again on the same port.
func newTestMosquitto(t *testing.T) *testutil.MosquittoBroker {
	t.Helper()
	return testutil.Mosquitto(t, testutil.MosquittoOptions{Persistence: true, Wait: gwWait})
}

// TestGatewayCommandMosquittoRestart: an MQTT-SN sensor publishes QoS 1
// through `lsmqtt gateway --broker mqtt://…` while mosquitto is stopped and
// started again; every message the gateway acknowledged reaches an MQTT
// subscriber.
func TestGatewayCommandMosquittoRestart(t *testing.T) {
	m := newTestMosquitto(t)
	// The subscriber keeps a persistent session so mosquitto stores what
	// arrives while it reconnects.
	watchConn := func() chan string {
		got := make(chan string, 100)
		_, ch := mqttWatchSession(t, m.Addr(), "e2e/#")
		go func() {
			for p := range ch {
				got <- string(p.Payload)
			}
		}()
		return got
	}
	got := watchConn()
	info := startGatewayCmd(t, "--listen", "127.0.0.1:0", "--broker", "mqtt://"+m.Addr(), "--metrics", "127.0.0.1:0")
	sn := snClient(t, info.UDP[0], "sensor-7", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 4*gwWait)
	defer cancel()
	publish := func(i int) {
		t.Helper()
		if err := sn.Publish(ctx, client.Named("e2e/hr"), mqttsn.QoS1, false, []byte(fmt.Sprint(i))); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	seen := map[string]bool{}
	for i := range 10 {
		publish(i)
	}
	for len(seen) < 10 {
		select {
		case p := <-got:
			seen[p] = true
		case <-time.After(gwWait):
			t.Fatalf("before the restart the subscriber got %d of 10", len(seen))
		}
	}
	m.Stop()
	for i := 10; i < 30; i++ { // acknowledged by the gateway while mosquitto is down
		publish(i)
	}
	m.Start()
	got2 := watchConn()
	for len(seen) < 30 {
		select {
		case p := <-got2:
			seen[p] = true
		case <-time.After(gwWait):
			t.Fatalf("after the restart the subscriber has %d of 30 acknowledged messages: %v", len(seen), seen)
		}
	}
}
