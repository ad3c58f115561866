package handoverclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// kill stops area a as a crashed gateway host would: its peer and node
// sockets go first (nothing it would still send leaves), then the gateway
// and its embedded broker. A datagram held at its peer door is released
// into the dead gateway.
func (a *area) kill(t *testing.T) {
	t.Helper()
	a.peer.PacketConn.Close()
	a.sn.Close()
	a.peer.Release()
	done := make(chan struct{})
	go func() {
		a.g.Close()
		a.e.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatalf("%s did not stop", a.name)
	}
}

// TestReliabilityHandoverHomeDies: the home gateway dies in the middle of
// a handover. The node (QoS 1, admitted by the Trusted System) publishes
// seq 1..10 at home, then walks to the visited gateway in the middle of
// publish 11 (lost in the air at home); the home gateway is killed at a
// precise moment of the handover; the node then publishes 12..20 where it
// is. The caregiver, subscribed at both brokers, must count every sequence
// number, each through the area the node was in, with no more duplicates
// than publishes the node sent again (QoS 1: at least once).
//
//   - "before the transfer": HO-RESUME reached the visited gateway, whose
//     HO-FETCH is at the home's door when the home dies. The visited
//     gateway's fetch goes unanswered; it answers the node "home
//     unreachable"; the node connects afresh there (admission, REGISTER,
//     SUBSCRIBE) and sends publish 11 again.
//   - "after the transfer": the home sent the session (HO-TRANSFER) and
//     dies before the visited gateway's HO-CONFIRM reaches it. The node
//     resumes; its subscription came with the session.
func TestReliabilityHandoverHomeDies(t *testing.T) {
	for _, tc := range []struct {
		name    string
		holdAt  mqttsn.MsgType // the peer message the home dies in front of
		resumed bool
	}{
		{"before the transfer", mqttsn.TypeHOFetch, false},
		{"after the transfer", mqttsn.TypeHOConfirm, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewVirtual(epoch0)
			w := newWorld(t, worldOpts{clk: clk, withTS: true}, "gw-a", "gw-b")
			A, B := w.areas["gw-a"], w.areas["gw-b"]
			cg := newCaregiver(t, w, "ward/+/hr")
			// The node's Tretry (5 s) outlasts the visited gateway's
			// fetch retries (4 × 500 ms): the clock advance below runs out
			// the gateway's retries, never the node's.
			n, r, cmds := startNode(t, w, A, nodeOpts{id: "p1", creds: register(t, w, "p1"),
				mod: func(c *handoverclient.Config) { c.Client.RetryInterval = 5 * time.Second }})
			ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
			defer cancel()
			const topic, total, atHome, inFlight = "ward/p1/hr", 20, 10, 11
			where := map[int]string{}
			for i := 1; i <= atHome; i++ {
				if err := n.Publish(ctx, topic, mqttsn.QoS1, false, seqPayload(i)); err != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
				where[i] = A.name
			}
			// Delivered before the move: what follows is the handover's
			// doing, not the home broker's (which dies with the gateway).
			cg.waitCount(t, atHome)

			A.peer.HoldType(tc.holdAt)
			r.enter(B)
			pub := async(func() error { return n.Publish(ctx, topic, mqttsn.QoS1, false, seqPayload(inFlight)) })
			select {
			case <-r.dropped: // publish 11 went out towards home, out of range
			case <-time.After(waitFor):
				t.Fatal("publish 11 did not go out")
			}
			where[inFlight] = B.name
			moved := make(chan handoverclient.Result, 1)
			go func() { moved <- n.Move(ctx, B.addr()) }()
			select {
			case <-A.peer.onHeld:
			case <-time.After(waitFor):
				t.Fatalf("no %v at the home gateway", tc.holdAt)
			}
			A.kill(t)
			if !tc.resumed {
				// The visited gateway's fetch retries run out (virtual
				// time; each retry is armed before its HO-FETCH leaves).
				clk.Advance(3 * time.Second)
			}
			var res handoverclient.Result
			select {
			case res = <-moved:
			case <-time.After(waitFor):
				t.Fatal("the move did not end")
			}
			if res.Err != nil || res.Resumed != tc.resumed || (!tc.resumed && res.Reason != mqttsn.HOUnreachable) {
				t.Fatalf("move: %+v", res)
			}
			if err := wait(t, pub); err != nil {
				t.Fatalf("publish %d across the move: %v", inFlight, err)
			}
			for i := inFlight + 1; i <= total; i++ {
				if err := n.Publish(ctx, topic, mqttsn.QoS1, false, seqPayload(i)); err != nil {
					t.Fatalf("publish %d after the move: %v", i, err)
				}
				where[i] = B.name
			}
			st := n.Stats()
			got := cg.waitCount(t, total)
			checkDelivery(t, got, total, where, st.Republished)
			if st.Republished < 1 {
				t.Errorf("node stats %+v: publish %d was interrupted by the move but not sent again", st, inFlight)
			}
			// A fallback is one full connect, or two when a publish the node
			// sent behind HO-RESUME reached the visited gateway after it gave
			// up on the resume: that gateway answers it with DISCONNECT (no
			// session yet), which may land in the middle of the connect.
			if tc.resumed && (st.FullConnects != 1 || st.Fallbacks != 0) {
				t.Errorf("node stats %+v: want the first connect only, no fallback", st)
			}
			if !tc.resumed && (st.FullConnects < 2 || st.FullConnects > 3 || st.Fallbacks != 1) {
				t.Errorf("node stats %+v: want one fallback (one or two full connects after the first)", st)
			}
			hs := B.g.HandoverStats()
			if !tc.resumed && hs.Failed["in/home_unreachable"] != 1 {
				t.Errorf("visited gateway stats %+v: want one handover failed as home_unreachable", hs)
			}
			if tc.resumed && hs.In != 1 {
				t.Errorf("visited gateway stats %+v: want one handover in", hs)
			}
			// The node is subscribed where it is: a command published at
			// the visited gateway's broker reaches it (resume: the
			// subscription came with the session; fallback: SUBSCRIBE).
			publishMQTT(t, B, "ward/p1/cmd", "calibrate")
			expectMsg(t, cmds, "ward/p1/cmd", "calibrate")
			t.Logf("caregiver: %d messages for %d sequence numbers; node %+v; visited gateway %+v", len(got), total, st, hs)
		})
	}
}
