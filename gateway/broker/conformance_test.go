package broker

import (
	"errors"
	"fmt"
	"testing"
)

// harness is one Broker under test plus the TCP address of the MQTT broker
// behind it, where ordinary MQTT clients watch and publish.
type harness struct {
	b    Broker
	rec  recorder
	addr string
}

// runConformance checks the behaviour every adapter owes the gateway, against
// real MQTT clients on the broker's TCP port.
func runConformance(t *testing.T, mk func(t *testing.T) harness) {
	t.Run("SNToMQTT", func(t *testing.T) {
		h := mk(t)
		ctx := testCtx(t)
		watch := dialMQTT(t, h.addr, "watch", true)
		watch.subscribe(t, "area/+/hr", 2)
		if err := h.b.Attach(ctx, "sn-pub", true); err != nil {
			t.Fatal(err)
		}
		for qos := byte(0); qos <= 2; qos++ {
			want := fmt.Sprintf("beat-%d", qos)
			if err := h.b.Publish(ctx, "sn-pub", Message{Topic: "area/7/hr", Payload: []byte(want), QoS: qos}); err != nil {
				t.Fatalf("publish QoS %d: %v", qos, err)
			}
			p := watch.next(t)
			if p.Topic != "area/7/hr" || string(p.Payload) != want || p.QoS != qos || p.Retain {
				t.Fatalf("QoS %d: got topic %q payload %q QoS %d retain %v", qos, p.Topic, p.Payload, p.QoS, p.Retain)
			}
		}
	})

	t.Run("MQTTToSNWildcards", func(t *testing.T) {
		h := mk(t)
		ctx := testCtx(t)
		if err := h.b.Attach(ctx, "sn-sub", true); err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct {
			f string
			q byte
		}{{"area/+/spo2", 1}, {"area/3/#", 2}, {"low/#", 0}} {
			g, err := h.b.Subscribe(ctx, "sn-sub", s.f, s.q)
			if err != nil || g != s.q {
				t.Fatalf("Subscribe(%q, %d) = %d, %v", s.f, s.q, g, err)
			}
		}
		pub := dialMQTT(t, h.addr, "pub", true)
		pub.publish(t, "area/1/spo2", "97", 1, false)
		pub.publish(t, "area/2/temp", "no match", 1, false)
		pub.publish(t, "low/x", "downgraded", 2, false)
		pub.publish(t, "area/3/x/y", "deep", 2, false)
		want := []delivery{
			{"sn-sub", Message{Topic: "area/1/spo2", Payload: []byte("97"), QoS: 1}},
			{"sn-sub", Message{Topic: "low/x", Payload: []byte("downgraded"), QoS: 0}},
			{"sn-sub", Message{Topic: "area/3/x/y", Payload: []byte("deep"), QoS: 2}},
		}
		for _, w := range want {
			d := h.rec.next(t)
			if d.client != w.client || d.msg.Topic != w.msg.Topic || string(d.msg.Payload) != string(w.msg.Payload) ||
				d.msg.QoS != w.msg.QoS || d.msg.Retain {
				t.Fatalf("got %+v (payload %q), want %+v", d, d.msg.Payload, w)
			}
		}
		h.rec.none(t)

		if err := h.b.Unsubscribe(ctx, "sn-sub", "area/+/spo2"); err != nil {
			t.Fatal(err)
		}
		pub.publish(t, "area/1/spo2", "after unsubscribe", 1, false)
		pub.publish(t, "area/3/sentinel", "s", 1, false)
		if d := h.rec.next(t); d.msg.Topic != "area/3/sentinel" {
			t.Fatalf("after unsubscribe got %+v", d)
		}
	})

	t.Run("QoS2ExactlyOnce", func(t *testing.T) {
		h := mk(t)
		ctx := testCtx(t)
		watch := dialMQTT(t, h.addr, "watch2", true)
		watch.subscribe(t, "q2/out", 2)
		if err := h.b.Attach(ctx, "sn-q2", true); err != nil {
			t.Fatal(err)
		}
		if _, err := h.b.Subscribe(ctx, "sn-q2", "q2/in", 2); err != nil {
			t.Fatal(err)
		}
		const n = 50
		for i := range n + 1 {
			payload := fmt.Sprint(i)
			if i == n {
				payload = "end"
			}
			if err := h.b.Publish(ctx, "sn-q2", Message{Topic: "q2/out", Payload: []byte(payload), QoS: 2}); err != nil {
				t.Fatal(err)
			}
			watch.publish(t, "q2/in", payload, 2, false)
		}
		count := func(next func() (string, byte)) map[string]int {
			got := map[string]int{}
			for {
				p, q := next()
				if q != 2 {
					t.Fatalf("received with QoS %d", q)
				}
				got[p]++
				if p == "end" {
					return got
				}
			}
		}
		toMQTT := count(func() (string, byte) { p := watch.next(t); return string(p.Payload), p.QoS })
		toSN := count(func() (string, byte) { d := h.rec.next(t); return string(d.msg.Payload), d.msg.QoS })
		for i := range n {
			if toMQTT[fmt.Sprint(i)] != 1 || toSN[fmt.Sprint(i)] != 1 {
				t.Fatalf("message %d: %d times to MQTT, %d times to MQTT-SN", i, toMQTT[fmt.Sprint(i)], toSN[fmt.Sprint(i)])
			}
		}
		if len(toMQTT) != n+1 || len(toSN) != n+1 {
			t.Fatalf("distinct messages: %d to MQTT, %d to MQTT-SN, want %d", len(toMQTT), len(toSN), n+1)
		}
		h.rec.none(t)
	})

	t.Run("Retained", func(t *testing.T) {
		h := mk(t)
		ctx := testCtx(t)
		if err := h.b.Attach(ctx, "sn-r", true); err != nil {
			t.Fatal(err)
		}
		if err := h.b.Publish(ctx, "sn-r", Message{Topic: "ret/sn", Payload: []byte("from-sn"), QoS: 1, Retain: true}); err != nil {
			t.Fatal(err)
		}
		pub := dialMQTT(t, h.addr, "pub-r", true)
		pub.subscribe(t, "ret/#", 1)
		pub.publish(t, "ret/mqtt", "from-mqtt", 1, true)
		// Wait until the broker has routed both retained publishes (a PUBACK may
		// precede routing), so that subscribing later cannot race with them.
		for range 2 {
			pub.next(t)
		}

		late := dialMQTT(t, h.addr, "late", true)
		late.subscribe(t, "ret/sn", 1)
		if p := late.next(t); string(p.Payload) != "from-sn" || !p.Retain {
			t.Fatalf("late MQTT subscriber got %q retain %v", p.Payload, p.Retain)
		}

		if _, err := h.b.Subscribe(ctx, "sn-r", "ret/+", 1); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for range 2 {
			d := h.rec.next(t)
			if !d.msg.Retain || d.msg.QoS != 1 {
				t.Fatalf("retained delivery %+v", d)
			}
			got[string(d.msg.Payload)] = true
		}
		if !got["from-sn"] || !got["from-mqtt"] {
			t.Fatalf("retained messages delivered: %v", got)
		}
		// A live publish on a retained topic is delivered without Retain.
		pub.publish(t, "ret/mqtt", "live", 1, true)
		if d := h.rec.next(t); string(d.msg.Payload) != "live" || d.msg.Retain {
			t.Fatalf("live delivery %+v", d)
		}
		// Clear the retained messages (empty retained payload, MQTT v3.1.1 §3.3.1.3).
		pub.publish(t, "ret/mqtt", "", 1, true)
		pub.publish(t, "ret/sn", "", 1, true)
	})

	t.Run("SNToSN", func(t *testing.T) {
		h := mk(t)
		ctx := testCtx(t)
		for _, id := range []string{"sn-a", "sn-b"} {
			if err := h.b.Attach(ctx, id, true); err != nil {
				t.Fatal(err)
			}
			if _, err := h.b.Subscribe(ctx, id, "room/#", 1); err != nil {
				t.Fatal(err)
			}
		}
		if err := h.b.Publish(ctx, "sn-a", Message{Topic: "room/1", Payload: []byte("x"), QoS: 1}); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for range 2 {
			d := h.rec.next(t)
			if d.msg.Topic != "room/1" {
				t.Fatalf("got %+v", d)
			}
			got[d.client] = true
		}
		if !got["sn-a"] || !got["sn-b"] {
			t.Fatalf("delivered to %v, want both clients (no-local is off)", got)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		h := mk(t)
		ctx := testCtx(t)
		if err := h.b.Publish(ctx, "nobody", Message{Topic: "a", QoS: 1}); !errors.Is(err, ErrUnknownClient) {
			t.Fatalf("publish from unknown client: %v", err)
		}
		if err := h.b.Attach(ctx, "sn-e", true); err != nil {
			t.Fatal(err)
		}
		if err := h.b.Publish(ctx, "sn-e", Message{Topic: "a/+", QoS: 1}); !errors.Is(err, ErrInvalidTopic) {
			t.Fatalf("publish to wildcard: %v", err)
		}
		if _, err := h.b.Subscribe(ctx, "sn-e", "a/#/b", 1); !errors.Is(err, ErrInvalidTopic) {
			t.Fatalf("subscribe to bad filter: %v", err)
		}
		if err := h.b.Detach(ctx, "sn-e"); err != nil {
			t.Fatal(err)
		}
		if err := h.b.Publish(ctx, "sn-e", Message{Topic: "a", QoS: 1}); !errors.Is(err, ErrUnknownClient) {
			t.Fatalf("publish after detach: %v", err)
		}
		if s := h.b.State(); s != StateConnected {
			t.Fatalf("state %v", s)
		}
		if err := h.b.Close(); err != nil {
			t.Fatal(err)
		}
		if err := h.b.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := h.b.Attach(ctx, "late", true); !errors.Is(err, ErrClosed) {
			t.Fatalf("attach after close: %v", err)
		}
	})
}
