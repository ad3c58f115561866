package handoverclient_test

import (
	"context"
	"crypto/rand"
	"net"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
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
//     SUBSCRIBE) and sends publish 11 again. Publish 11 went out right
//     behind HO-RESUME: held, or dropped if it arrives after the refusal,
//     never answered with DISCONNECT.
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
			trace := r.traceLen()
			defer func() {
				if t.Failed() {
					t.Logf("the radio since the move: %v", r.traceSince(trace))
				}
			}()
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
			// A fallback is one full connect: a publish the node sent behind
			// HO-RESUME that reaches the visited gateway after it gave up on
			// the resume is dropped there, not answered with a DISCONNECT
			// that could land in the middle of the connect
			// (TestResumeRefusedLeftovers).
			if tc.resumed && (st.FullConnects != 1 || st.Fallbacks != 0) {
				t.Errorf("node stats %+v: want the first connect only, no fallback", st)
			}
			if !tc.resumed && (st.FullConnects != 2 || st.Fallbacks != 1) {
				t.Errorf("node stats %+v: want one fallback, one full connect after the first", st)
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

// TestResumeRefusedLeftovers: what a node sent right behind an HO-RESUME
// that the visited gateway refused, and that reaches the gateway after the
// refusal, is dropped there, not answered with DISCONNECT: such a
// DISCONNECT reached the node in the middle of its fallback CONNECT (whose
// retry then met the first CONNECT's TS challenge: CONNACK "rejected: not
// supported") or failed the publish before the node knew the move had
// interrupted it ("disconnected by gateway"). Once the node connects afresh,
// or after one Tretry, the address is answered as usual again.
func TestResumeRefusedLeftovers(t *testing.T) {
	clk := clock.NewVirtual(epoch0)
	w := newWorld(t, worldOpts{clk: clk}, "gw-a", "gw-b")
	B := w.areas["gw-b"]
	node := dialUDP(t, B)
	// A token of this gateway for a client it does not know: refused
	// once the fetch has nothing to fetch (unknown client).
	refused := func(id string) {
		t.Helper()
		tok := make([]byte, 32)
		_, _ = rand.Read(tok)
		node.send(t, &mqttsn.HOResume{ClientID: []byte(id), Home: []byte("gw-b"), Token: tok})
		if m := node.recv(t); !isResumed(m, mqttsn.HOUnknownClient) {
			t.Fatalf("want HO-RESUMED unknown client, got %T %+v", m, m)
		}
	}
	refused("p7")
	node.send(t, &mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 1, MsgID: 1, Data: []byte("behind the resume")})
	node.send(t, &mqttsn.Pingreq{})
	node.send(t, &mqttsn.Connect{ClientID: []byte("p7"), CleanSession: true, Duration: 60})
	// One sender's datagrams are handled in order: a DISCONNECT for the
	// PUBLISH or the PINGREQ would come before the CONNACK.
	if m := node.recv(t); !isConnack(m, mqttsn.Accepted) {
		t.Fatalf("want CONNACK accepted first, got %T %+v", m, m)
	}
	if d := B.g.HandoverStats().PeerDrops["held_dropped"]; d != 2 {
		t.Errorf("%d datagrams dropped behind the refused resume, want 2", d)
	}
	// The hold ends with the CONNECT: the connected node is served.
	node.send(t, &mqttsn.Pingreq{})
	for {
		m := node.recv(t)
		if _, ok := m.(*mqttsn.Pingresp); ok {
			break
		}
		if _, ok := m.(*mqttsn.HOToken); !ok {
			t.Fatalf("want PINGRESP, got %T", m)
		}
	}

	// A node that never connects: after one Tretry (the gateway's default,
	// 10 s) its address is answered as an unknown client's again.
	other := dialUDP(t, B)
	tok := make([]byte, 32)
	_, _ = rand.Read(tok)
	other.send(t, &mqttsn.HOResume{ClientID: []byte("p8"), Home: []byte("gw-b"), Token: tok})
	if m := other.recv(t); !isResumed(m, mqttsn.HOUnknownClient) {
		t.Fatalf("want HO-RESUMED unknown client, got %T %+v", m, m)
	}
	clk.Advance(10 * time.Second)
	other.send(t, &mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 1, MsgID: 1, Data: []byte("much later")})
	if m, ok := other.recv(t).(*mqttsn.Disconnect); !ok {
		t.Fatalf("want DISCONNECT for a PUBLISH without a session, got %T", m)
	}
}

// TestPublishBehindRefusedResume: a publish the node sent right behind
// HO-RESUME that fails before the node has read the refusal (here a
// DISCONNECT the visited gateway sent for it, ahead of HO-RESUMED) is sent
// again after the fallback connect, not returned as an error. The gateways
// are scripted, so the DISCONNECT always comes first.
func TestPublishBehindRefusedResume(t *testing.T) {
	disconnected := make(chan struct{}, 1)
	n, _, B, ctx := connectedAtScripted(t, "p9", func(error) { disconnected <- struct{}{} })

	moved := make(chan handoverclient.Result, 1)
	go func() { moved <- n.Move(ctx, B.addr()) }()
	if _, ok := B.recv(t).(*mqttsn.HOResume); !ok {
		t.Fatal("want HO-RESUME first")
	}
	pub := async(func() error { return n.Publish(ctx, "ward/p9/hr", mqttsn.QoS1, false, []byte("behind HO-RESUME")) })
	if _, ok := B.recv(t).(*mqttsn.Publish); !ok {
		t.Fatal("want the PUBLISH behind HO-RESUME")
	}
	B.send(t, &mqttsn.Disconnect{})
	select {
	case <-disconnected: // the client failed the publish's wait
	case err := <-pub:
		t.Fatalf("publish ended before the move: %v", err)
	case <-time.After(waitFor):
		t.Fatal("the DISCONNECT was not seen")
	}
	B.send(t, &mqttsn.HOResumed{Status: mqttsn.HOUnreachable, Home: []byte("gw-b"), Token: []byte{}})
	B.connect(t, 1)
	var p *mqttsn.Publish
	for p == nil { // the publish may go out again before or after the move ended
		m := B.recv(t)
		if q, ok := m.(*mqttsn.Publish); ok {
			p = q
		} else if _, ok := m.(*mqttsn.Register); !ok {
			t.Fatalf("want the PUBLISH again, got %T", m)
		}
	}
	B.send(t, &mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID, ReturnCode: mqttsn.Accepted})
	if err := wait(t, pub); err != nil {
		t.Fatalf("publish behind the refused resume: %v", err)
	}
	var res handoverclient.Result
	select {
	case res = <-moved:
	case <-time.After(waitFor):
		t.Fatal("the move did not end")
	}
	if res.Err != nil || res.Resumed || res.Reason != mqttsn.HOUnreachable {
		t.Fatalf("move: %+v", res)
	}
	if st := n.Stats(); st.Republished != 1 || st.Fallbacks != 1 {
		t.Errorf("node stats %+v: want the publish sent again once, after one fallback", st)
	}
}

func isResumed(m mqttsn.Message, st mqttsn.HOStatus) bool {
	r, ok := m.(*mqttsn.HOResumed)
	return ok && r.Status == st
}

func isConnack(m mqttsn.Message, rc mqttsn.ReturnCode) bool {
	r, ok := m.(*mqttsn.Connack)
	return ok && r.ReturnCode == rc
}

// connectedAtScripted returns a node (client id id, topic ward/<id>/hr, on
// a virtual clock) connected at scripted gateway A and holding a token, the
// scripted gateway B it can move to, and a context bounding the test.
func connectedAtScripted(t *testing.T, id string, onDisconnect func(error)) (*handoverclient.Node, *udpEnd, *udpEnd, context.Context) {
	t.Helper()
	clk := clock.NewVirtual(epoch0)
	A, B := listenUDP(t), listenUDP(t)
	conn := listenUDP(t)
	n := handoverclient.New(conn.PacketConn, A.addr(), handoverclient.Config{
		Client: client.Config{ClientID: id, Clock: clk, KeepAlive: 10 * time.Minute, RetryInterval: 5 * time.Second,
			OnDisconnect: onDisconnect},
		Topics: []string{"ward/" + id + "/hr"},
	})
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	t.Cleanup(cancel)
	connected := async(func() error { return n.Connect(ctx) })
	A.connect(t, 1)
	if err := wait(t, connected); err != nil {
		t.Fatal(err)
	}
	A.send(t, &mqttsn.HOToken{Home: []byte("gw-a"), Token: make([]byte, 32)})
	if err := n.WaitToken(ctx); err != nil {
		t.Fatal(err)
	}
	return n, A, B, ctx
}

// udpEnd is a scripted end of a UDP exchange: a node, or a gateway that
// answers what the test tells it to.
type udpEnd struct {
	net.PacketConn
	peer net.Addr // where send goes: the gateway dialled, or the last sender
}

func listenUDP(t *testing.T) *udpEnd {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &udpEnd{PacketConn: pc}
}

func dialUDP(t *testing.T, a *area) *udpEnd {
	e := listenUDP(t)
	e.peer = a.addr()
	return e
}

func (e *udpEnd) addr() net.Addr { return e.LocalAddr() }

func (e *udpEnd) send(t *testing.T, m mqttsn.Message) {
	t.Helper()
	b, err := mqttsn.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.WriteTo(b, e.peer); err != nil {
		t.Fatal(err)
	}
}

// recv returns the next datagram; its sender is where send goes next.
func (e *udpEnd) recv(t *testing.T) mqttsn.Message {
	t.Helper()
	buf := make([]byte, mqttsn.MaxLen)
	_ = e.SetReadDeadline(time.Now().Add(waitFor))
	n, from, err := e.ReadFrom(buf)
	if err != nil {
		t.Fatalf("nothing received: %v", err)
	}
	m, err := mqttsn.DecodeDatagram(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	e.peer = from
	return m
}

// connect answers a node's full connect: CONNACK, then REGACK with topic
// id 1 for its one REGISTER.
func (e *udpEnd) connect(t *testing.T, topicID uint16) {
	t.Helper()
	for {
		switch m := e.recv(t).(type) {
		case *mqttsn.Connect:
			e.send(t, &mqttsn.Connack{ReturnCode: mqttsn.Accepted})
		case *mqttsn.Register:
			e.send(t, &mqttsn.Regack{TopicID: topicID, MsgID: m.MsgID, ReturnCode: mqttsn.Accepted})
			return
		default:
			t.Fatalf("want CONNECT or REGISTER, got %T", m)
		}
	}
}
