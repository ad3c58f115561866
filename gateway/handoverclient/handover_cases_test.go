package handoverclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

type nodeOpts struct {
	id    string
	creds *tsclient.Credentials
	mod   func(*handoverclient.Config)
}

// startNode connects a node in area a, waits for its token and returns it
// with its radio and a channel of what it receives.
func startNode(t *testing.T, w *world, a *area, o nodeOpts) (*handoverclient.Node, *radio, chan client.Message) {
	t.Helper()
	r := newRadio(t)
	r.enter(a)
	got := make(chan client.Message, 64)
	cfg := handoverclient.Config{
		Client: client.Config{ClientID: o.id, Clock: w.clk, KeepAlive: 10 * time.Minute,
			RetryInterval: time.Second, OnPublish: func(m client.Message) { got <- m }},
		Topics:        []string{"ward/" + o.id + "/hr"},
		Subscriptions: []handoverclient.Subscription{{Topic: client.Named("ward/" + o.id + "/cmd"), QoS: 1}},
	}
	if o.creds != nil {
		creds := o.creds
		cfg.Prove = func(ch *mqttsn.TSChallenge) (*mqttsn.TSProof, error) { return tsclient.Prove(creds, ch) }
	}
	if o.mod != nil {
		o.mod(&cfg)
	}
	n := handoverclient.New(r, a.addr(), cfg)
	t.Cleanup(func() { n.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := n.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitToken(ctx); err != nil {
		t.Fatal(err)
	}
	return n, r, got
}

func move(t *testing.T, n *handoverclient.Node, r *radio, to *area) handoverclient.Result {
	t.Helper()
	r.enter(to)
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	return n.Move(ctx, to.addr())
}

func expectMsg(t *testing.T, got chan client.Message, topic, data string) {
	t.Helper()
	select {
	case m := <-got:
		if m.Topic != topic || string(m.Data) != data {
			t.Fatalf("node got %q on %q, want %q on %q", m.Data, m.Topic, data, topic)
		}
	case <-time.After(waitFor):
		t.Fatalf("node did not get %q", data)
	}
}

// TestLateMessagesForwarded: what reaches the home broker for the node
// after its session left (before the home gateway dropped the broker
// session) is forwarded to the visited gateway and delivered.
func TestLateMessagesForwarded(t *testing.T) {
	w := newWorld(t, worldOpts{}, "gw-a", "gw-b")
	A, B := w.areas["gw-a"], w.areas["gw-b"]
	n, r, got := startNode(t, w, A, nodeOpts{id: "p2"})
	_ = n
	A.peer.HoldType(mqttsn.TypeHOConfirm) // B's HO-CONFIRM will wait at A's door
	res := move(t, n, r, B)
	if !res.Resumed {
		t.Fatalf("move: %+v", res)
	}
	select {
	case <-A.peer.onHeld:
	case <-time.After(waitFor):
		t.Fatal("no HO-CONFIRM")
	}
	publishMQTT(t, A, "ward/p2/cmd", "late")
	select {
	case <-A.delivered: // queued at A for the node that left
	case <-time.After(waitFor):
		t.Fatal("A's broker did not deliver")
	}
	A.peer.Release()
	A.expectEvent(t, gateway.EventForwarded)
	expectMsg(t, got, "ward/p2/cmd", "late")
	if hs := A.g.HandoverStats(); hs.ForwardedOut != 1 {
		t.Errorf("A forwarded %d", hs.ForwardedOut)
	}
	if hs := B.g.HandoverStats(); hs.ForwardedIn != 1 {
		t.Errorf("B received %d forwarded", hs.ForwardedIn)
	}
}

// TestSleepingNodeMoves: a sleeping node's buffered messages travel with
// its session; it wakes in the new area and gets them.
func TestSleepingNodeMoves(t *testing.T) {
	w := newWorld(t, worldOpts{}, "gw-a", "gw-b")
	A, B := w.areas["gw-a"], w.areas["gw-b"]
	n, r, got := startNode(t, w, A, nodeOpts{id: "p3"})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := n.Client().Sleep(ctx, 10*time.Minute); err != nil {
		t.Fatal(err)
	}
	publishMQTT(t, A, "ward/p3/cmd", "while-asleep")
	select {
	case <-A.delivered: // buffered at A for the sleeping node
	case <-time.After(waitFor):
		t.Fatal("A's broker did not deliver")
	}
	if res := move(t, n, r, B); !res.Resumed {
		t.Fatalf("move: %+v", res)
	}
	if st := n.Client().State(); st != client.StateAsleep {
		t.Fatalf("state after the move: %v", st)
	}
	if err := n.Client().Wake(ctx); err != nil {
		t.Fatal(err)
	}
	expectMsg(t, got, "ward/p3/cmd", "while-asleep")
}

// TestPushAhead: the home gateway pushes the session to B before the node
// gets there; the node's resume is answered without asking A.
func TestPushAhead(t *testing.T) {
	w := newWorld(t, worldOpts{}, "gw-a", "gw-b")
	A, B := w.areas["gw-a"], w.areas["gw-b"]
	cg := newCaregiver(t, w, "ward/p4/hr")
	n, r, got := startNode(t, w, A, nodeOpts{id: "p4"})
	if err := A.g.PushSession("p4", "gw-c"); err != gateway.ErrUnknownPeer {
		t.Fatalf("push to an unknown peer: %v", err)
	}
	if err := A.g.PushSession("p4", "gw-b"); err != nil {
		t.Fatal(err)
	}
	B.expectEvent(t, gateway.EventPushedIn)
	A.expectEvent(t, gateway.EventConfirmed)
	publishMQTT(t, B, "ward/p4/cmd", "waiting-at-b") // queued at B for the node
	A.peer.Hold()                                    // A must not be asked: the node is answered by B alone
	res := move(t, n, r, B)
	if !res.Resumed {
		t.Fatalf("move: %+v", res)
	}
	expectMsg(t, got, "ward/p4/cmd", "waiting-at-b")
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if err := n.Publish(ctx, "ward/p4/hr", mqttsn.QoS1, false, seqPayload(1)); err != nil {
		t.Fatal(err)
	}
	if g := cg.waitCount(t, 1); g[0].area != "gw-b" {
		t.Fatalf("delivered through %s", g[0].area)
	}
	select {
	case <-A.peer.onHeld:
		t.Fatal("A was asked")
	default:
	}
	A.peer.Release()
}

// TestFallbacks: unknown home, unreachable home, a stale token: the node is
// told, connects afresh, and carries on publishing.
func TestFallbacks(t *testing.T) {
	clk := clock.NewVirtual(epoch0)
	w := newWorld(t, worldOpts{clk: clk, peering: func(name string, c *gateway.PeeringConfig) {
		if name == "gw-c" {
			c.Peers = nil // C knows no one
		}
		c.TokenTTL = time.Hour
	}}, "gw-a", "gw-b", "gw-c")
	A, B, C := w.areas["gw-a"], w.areas["gw-b"], w.areas["gw-c"]
	cg := newCaregiver(t, w, "ward/+/hr")
	publishes := 0
	check := func(n *handoverclient.Node, id string, res handoverclient.Result, want mqttsn.HOStatus) {
		t.Helper()
		if res.Resumed || res.Err != nil || res.Reason != want {
			t.Fatalf("%s: %+v, want a full connect after %v", id, res, want)
		}
		publishes++
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		if err := n.Publish(ctx, "ward/"+id+"/hr", mqttsn.QoS1, false, seqPayload(publishes)); err != nil {
			t.Fatalf("%s: publish after the fallback: %v", id, err)
		}
		cg.waitCount(t, publishes)
	}

	// C does not know A.
	n1, r1, _ := startNode(t, w, A, nodeOpts{id: "f1"})
	check(n1, "f1", move(t, n1, r1, C), mqttsn.HOUnknownHome)

	// A's peer socket is deaf: B's fetch goes unanswered (the virtual
	// clock runs B's retries out).
	n2, r2, _ := startNode(t, w, A, nodeOpts{id: "f2"})
	A.peer.Hold()
	r2.enter(B)
	if n2.Token() == nil {
		t.Fatal("f2 holds no token")
	}
	done := make(chan handoverclient.Result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		defer cancel()
		done <- n2.Move(ctx, B.addr())
	}()
	select {
	case <-A.peer.onHeld: // B's HO-FETCH is at A's door
	case <-time.After(waitFor):
		t.Fatal("no HO-FETCH")
	}

	clk.Advance(10 * time.Second) // B retransmits it, then gives up
	var res handoverclient.Result
	select {
	case res = <-done:
	case <-time.After(waitFor):
		t.Fatal("move did not end")
	}
	A.peer.Release()
	check(n2, "f2", res, mqttsn.HOUnreachable)

	// A token past its expiry is refused at home.
	n3, r3, _ := startNode(t, w, A, nodeOpts{id: "f3"})
	clk.Advance(2 * time.Hour)
	check(n3, "f3", move(t, n3, r3, B), mqttsn.HOExpired)

	// A token the home gateway did not issue for this session.
	n4, r4, _ := startNode(t, w, A, nodeOpts{id: "f4", mod: func(c *handoverclient.Config) {}})
	tok := n4.Token()
	tok.Token[12] ^= 1
	check(n4, "f4", move(t, n4, r4, B), mqttsn.HOBadToken)
	if hs := B.g.HandoverStats(); hs.Failed["in/bad_token"] != 1 || hs.Failed["in/home_unreachable"] < 1 {
		t.Errorf("B stats %+v", hs)
	}
}

func register(t testing.TB, w *world, name string) *tsclient.Credentials {
	t.Helper()
	p, err := w.reg.RegisterNode(name, "grp-"+name)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Wipe()
	return &tsclient.Credentials{Name: p.Name, Kind: string(p.Kind), PSS: append([]byte(nil), p.PSS...),
		Sender: p.Sender, Group: p.Group}
}

// TestAdmissionOnResume: with the Trusted System, a resume rides on the
// home gateway's word and the node's proof of its secret: the home gateway
// has the TS re-check the node's admission proof (a revoked node is
// refused, and cannot connect afresh either); further along, a stale
// admission makes the visited gateway ask the node for a fresh proof; a
// node may prove on every resume; a token is no use to another node.
func TestAdmissionOnResume(t *testing.T) {
	clk := clock.NewVirtual(epoch0)
	w := newWorld(t, worldOpts{clk: clk, withTS: true, peering: func(_ string, c *gateway.PeeringConfig) {
		c.ProofMaxAge = time.Minute
	}}, "gw-a", "gw-b", "gw-c")
	A, B, C := w.areas["gw-a"], w.areas["gw-b"], w.areas["gw-c"]
	admits := func() uint64 { return w.ts.Stats()["admit_local:ok"] }

	// Home re-check: one TS verdict at connect, one at the move.
	n, r, _ := startNode(t, w, A, nodeOpts{id: "p5", creds: register(t, w, "p5")})
	if admits() != 1 {
		t.Fatalf("admissions after connect: %d", admits())
	}
	if res := move(t, n, r, B); !res.Resumed || res.Proved {
		t.Fatalf("A→B: %+v", res)
	}
	if admits() != 2 {
		t.Fatalf("admissions after the move: %d (the home gateway must ask the TS)", admits())
	}
	// B→C two minutes later: neither B nor C can have the TS re-check a
	// proof bound to A, and A's last word is too old: C asks for a proof.
	clk.Advance(2 * time.Minute)
	if res := move(t, n, r, C); !res.Resumed || !res.Proved {
		t.Fatalf("B→C: %+v", res)
	}
	if st := n.Stats(); st.Proofs != 1 || st.FullConnects != 1 {
		t.Fatalf("node stats %+v", st)
	}
	// C→A: the node's fresh proof was bound to C, so C (its home now)
	// re-checks it: no proof needed.
	if res := move(t, n, r, A); !res.Resumed || res.Proved {
		t.Fatalf("C→A: %+v", res)
	}

	// Revoked while in A: the move is refused, and so is the full connect.
	n6, r6, _ := startNode(t, w, A, nodeOpts{id: "p6", creds: register(t, w, "p6")})
	if err := w.reg.Revoke("p6"); err != nil {
		t.Fatal(err)
	}
	res := move(t, n6, r6, B)
	if res.Resumed || res.Reason != mqttsn.HONotAdmitted || res.Err == nil {
		t.Fatalf("revoked node: %+v", res)
	}
	if hs := A.g.HandoverStats(); hs.Failed["out/not_admitted"] != 1 {
		t.Errorf("A stats %+v", hs)
	}

	// A proof in every resume (the node knows B's name).
	n8, r8, _ := startNode(t, w, A, nodeOpts{id: "p8", creds: register(t, w, "p8"), mod: func(c *handoverclient.Config) {
		c.AlwaysProve = true
		c.KnownGateways = map[string]string{B.addr().String(): "gw-b"}
	}})
	if res := move(t, n8, r8, B); !res.Resumed || !res.Proved {
		t.Fatalf("always prove: %+v", res)
	}

	// Someone else's token: refused; the node connects as itself.
	n9, _, _ := startNode(t, w, A, nodeOpts{id: "p9", creds: register(t, w, "p9")})
	n10, r10, _ := startNode(t, w, A, nodeOpts{id: "p10", creds: register(t, w, "p10")})
	stolen, own := n9.Token(), n10.Token()
	*own = *stolen
	if res := move(t, n10, r10, B); res.Resumed || res.Reason != mqttsn.HOBadToken || res.Err != nil {
		t.Fatalf("someone else's token: %+v", res)
	}
}

// TestInflightToNodeMoves: a QoS 1 message the home gateway sent the node
// but the node never acknowledged (it was already out of range) moves with
// the session and is sent again, with its msg id, by the visited gateway.
func TestInflightToNodeMoves(t *testing.T) {
	w := newWorld(t, worldOpts{}, "gw-a", "gw-b")
	A, B := w.areas["gw-a"], w.areas["gw-b"]
	n, r, got := startNode(t, w, A, nodeOpts{id: "p11"})
	r.enter(B) // walking away: A's PUBLISH below is not heard
	publishMQTT(t, A, "ward/p11/cmd", "in-flight")
	select {
	case <-A.delivered:
	case <-time.After(waitFor):
		t.Fatal("A's broker did not deliver")
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if res := n.Move(ctx, B.addr()); !res.Resumed {
		t.Fatalf("move: %+v", res)
	}
	expectMsg(t, got, "ward/p11/cmd", "in-flight")
	if d := n.Client().Stats().Duplicates; d != 0 {
		t.Errorf("%d duplicates", d)
	}
}
