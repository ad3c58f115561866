package broker

import (
	"context"
	"errors"
	"testing"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
)

// The options a gateway with a durable session store (lsmqtt gateway
// --state) runs the External adapter with: SyncPublish and ResumeSession.

// TestExternalSyncPublishNotInMemory: with SyncPublish a QoS 1/2 publish
// during an outage is not accepted into the in-memory queue (a kill -9
// would lose it): it waits for the broker, and returns nil only once the
// broker has it.
func TestExternalSyncPublishNotInMemory(t *testing.T) {
	back := &restartableBackend{t: t, got: make(chan packets.Packet, 100)}
	back.start("up/#")
	t.Cleanup(back.stop)
	e, rec, states := newTestExternal(t, back.addr, Aggregating, func(c *ExternalConfig) { c.SyncPublish = true })
	ctx := testCtx(t)
	if err := e.Attach(ctx, "sn", true); err != nil {
		t.Fatal(err)
	}
	if err := e.Publish(ctx, "sn", Message{Topic: "up/live", Payload: []byte("live"), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	if pk := <-back.got; string(pk.Payload) != "live" {
		t.Fatalf("got %q", pk.Payload)
	}

	back.stop()
	states.until(t, StateConnecting)
	// A caller that gives up is told so: the message was not accepted.
	gone, cancel := context.WithCancel(ctx)
	cancel()
	for _, qos := range []byte{1, 2} {
		err := e.Publish(gone, "sn", Message{Topic: "up/gone", Payload: []byte("gone"), QoS: qos})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("QoS %d publish during the outage, caller gone: %v, want context.Canceled", qos, err)
		}
	}
	// QoS 0 still goes to the outage queue.
	if err := e.Publish(ctx, "sn", Message{Topic: "up/q0", Payload: []byte("q0"), QoS: 0}); err != nil {
		t.Fatal(err)
	}
	if st := e.Stats(); st.Queued != 1 {
		t.Fatalf("queued %d during the outage, want only the QoS 0 message", st.Queued)
	}

	// A subscription made during the outage is made at the broker before
	// a waiting publish goes out: the broker routes that publish back.
	if _, err := e.Subscribe(ctx, "sn", "up/wait", 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.Publish(ctx, "sn", Message{Topic: "up/wait", Payload: []byte("wait"), QoS: 1}) }()
	back.start("up/#")
	if err := <-done; err != nil {
		t.Fatalf("publish waiting for the broker: %v", err)
	}
	if d := rec.next(t); d.client != "sn" || string(d.msg.Payload) != "wait" {
		t.Fatalf("delivered %+v, want the waiting publish back to sn", d)
	}
	got := map[string]bool{}
	for !got["wait"] || !got["q0"] {
		select {
		case pk := <-back.got:
			got[string(pk.Payload)] = true
		case <-ctx.Done():
			t.Fatalf("after the restart the broker got %v", got)
		}
	}
	if got["gone"] {
		t.Fatal("a publish the caller gave up on was sent later")
	}
}

// TestExternalResumeSession: a gateway that stopped without its broker
// session ending (kill -9) starts again with ResumeSession: what the
// broker kept for the session meanwhile is routed to the clients once their
// subscriptions are restored (Release), not dropped as matching nobody.
// The control run without ResumeSession starts a new broker session and
// gets nothing: the test can tell the difference.
func TestExternalResumeSession(t *testing.T) {
	for _, resume := range []bool{true, false} {
		name := map[bool]string{true: "resume", false: "control-clean-start"}[resume]
		t.Run(name, func(t *testing.T) {
			// mosquitto: mochi answers the resumed session's first
			// SUBSCRIBE with 0x91 (packet id in use) when the id equals
			// that of a message it holds in flight for the session.
			testutil.NeedTool(t, "mosquitto")
			addr := startMosquitto(t, false).Addr()
			cfg := func(c *ExternalConfig) {
				c.ClientID = "gw-durable"
				c.ResumeSession = resume
			}
			ctx := testCtx(t)
			first, _, _ := newTestExternal(t, addr, Aggregating, cfg)
			if err := first.Attach(ctx, "nurse", false); err != nil {
				t.Fatal(err)
			}
			first.Release()
			if _, err := first.Subscribe(ctx, "nurse", "vitals/#", 1); err != nil {
				t.Fatal(err)
			}
			// DISCONNECT with a session expiry: the broker keeps the
			// session, as it does for a gateway killed with -9.
			first.Close()

			pub := dialMQTT(t, addr, "z1", true)
			pub.publish(t, "vitals/z1/spo2", "kept", 1, false)

			second, rec, _ := newTestExternal(t, addr, Aggregating, cfg)
			if err := second.Attach(ctx, "nurse", false); err != nil {
				t.Fatal(err)
			}
			if _, err := second.Subscribe(ctx, "nurse", "vitals/#", 1); err != nil {
				t.Fatal(err)
			}
			second.Release()
			// A sentinel after the kept message: whatever arrives first
			// tells.
			pub.publish(t, "vitals/z1/spo2", "after", 1, false)
			d := rec.next(t)
			if resume && (d.client != "nurse" || string(d.msg.Payload) != "kept") {
				t.Fatalf("resumed session delivered %q to %s first, want \"kept\" to nurse", d.msg.Payload, d.client)
			}
			if !resume && string(d.msg.Payload) != "after" {
				t.Fatalf("a clean start delivered %q: the control cannot tell", d.msg.Payload)
			}
		})
	}
}
