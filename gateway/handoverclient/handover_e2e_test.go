package handoverclient_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/handoverclient"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func async(f func() error) chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

func wait(t testing.TB, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(waitFor):
		t.Fatal("timed out")
		return nil
	}
}

func seqPayload(i int) []byte { return []byte(fmt.Sprintf("seq=%06d", i)) }

func seqOf(t testing.TB, p string) int {
	t.Helper()
	i, err := strconv.Atoi(strings.TrimPrefix(p, "seq="))
	if err != nil {
		t.Fatalf("payload %q", p)
	}
	return i
}

// checkDelivery checks what the caregiver received of seqs 1..total: every
// one at least once, through the area the node was in when it published it
// (where[i]), each area's stream in order, and no more duplicates than
// the node's re-sent publishes allow (QoS 1: at least once).
func checkDelivery(t *testing.T, got []received, total int, where map[int]string, republished uint64) {
	t.Helper()
	first := map[int]string{}
	last := map[string]int{}
	dups := 0
	for _, r := range got {
		i := seqOf(t, r.payload)
		if _, seen := first[i]; seen {
			dups++
			continue
		}
		first[i] = r.area
		if i < last[r.area] {
			t.Errorf("%s delivered seq %d after %d", r.area, i, last[r.area])
		}
		last[r.area] = i
	}
	for i := 1; i <= total; i++ {
		a, ok := first[i]
		if !ok {
			t.Errorf("seq %d never delivered", i)
			continue
		}
		if want := where[i]; want != "" && a != want {
			t.Errorf("seq %d delivered through %s, the node was in %s", i, a, want)
		}
	}
	if uint64(dups) > republished {
		t.Errorf("%d duplicates, but only %d publishes were sent again", dups, republished)
	}
}

// TestWalkingPatient: a node publishing QoS 1 every 100 ms (virtual clock),
// admitted by the Trusted System, walks A → B → A → ... eleven times; every
// other time it leaves in the middle of a publish (lost in the air at the
// old gateway). Every message reaches the caregiver, through the area the
// node was in, in order; the node connected (and proved its secret) once
// and resumed at every move; its subscription followed it.
func TestWalkingPatient(t *testing.T) {
	clk := clock.NewVirtual(epoch0)
	w := newWorld(t, worldOpts{clk: clk, withTS: true}, "gw-a", "gw-b")
	A, B := w.areas["gw-a"], w.areas["gw-b"]
	cg := newCaregiver(t, w, "ward/p1/hr")
	r := newRadio(t)
	r.enter(A)
	cmds := make(chan client.Message, 16)
	creds := register(t, w, "p1-hr")
	n := handoverclient.New(r, A.addr(), handoverclient.Config{
		Prove: func(ch *mqttsn.TSChallenge) (*mqttsn.TSProof, error) { return tsclient.Prove(creds, ch) },
		Client: client.Config{ClientID: "p1-hr", Clock: clk, KeepAlive: 10 * time.Minute,
			OnPublish: func(m client.Message) { cmds <- m }},
		Topics:        []string{"ward/p1/hr"},
		Subscriptions: []handoverclient.Subscription{{Topic: client.Named("ward/p1/cmd"), QoS: 1}},
	})
	defer n.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitFor)
	defer cancel()
	if err := n.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.WaitToken(ctx); err != nil {
		t.Fatal(err)
	}

	const total, every = 440, 40
	areas := []*area{A, B}
	cur := 0
	where := map[int]string{}
	for i := 1; i <= total; i++ {
		clk.Advance(100 * time.Millisecond)
		if i%every != 0 {
			if err := n.Publish(ctx, "ward/p1/hr", mqttsn.QoS1, false, seqPayload(i)); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
			where[i] = areas[cur].name
			continue
		}
		next := areas[1-cur]
		r.enter(next)
		var res handoverclient.Result
		if (i/every)%2 == 1 {
			// Out of the old area's range in the middle of a publish.
			done := async(func() error { return n.Publish(ctx, "ward/p1/hr", mqttsn.QoS1, false, seqPayload(i)) })
			select {
			case <-r.dropped:
			case <-time.After(waitFor):
				t.Fatal("the publish did not go out")
			}
			res = n.Move(ctx, next.addr())
			if err := wait(t, done); err != nil {
				t.Fatalf("publish %d across the move: %v", i, err)
			}
		} else {
			res = n.Move(ctx, next.addr())
			if err := n.Publish(ctx, "ward/p1/hr", mqttsn.QoS1, false, seqPayload(i)); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
		if !res.Resumed || res.Err != nil {
			t.Fatalf("move %d to %s: %+v", i/every, next.name, res)
		}
		where[i] = next.name
		next.expectEvent(t, gateway.EventResumed)
		areas[cur].expectEvent(t, gateway.EventConfirmed)
		cur = 1 - cur
	}
	checkDelivery(t, cg.waitCount(t, total), total, where, n.Stats().Republished)

	st := n.Stats()
	t.Logf("node %+v; A %+v; B %+v", st, A.g.HandoverStats(), B.g.HandoverStats())
	if st.Republished != (total/every+1)/2 {
		t.Errorf("%d publishes re-sent after a move, want %d (one per move in the middle of a publish)", st.Republished, (total/every+1)/2)
	}
	if st.FullConnects != 1 || st.Resumes != total/every || st.Fallbacks != 0 || st.Proofs != 0 {
		t.Errorf("node stats %+v: want 1 full connect and %d resumes", st, total/every)
	}
	if hs := A.g.HandoverStats(); hs.In+hs.Out != total/every {
		t.Errorf("A handover stats %+v", hs)
	}
	// The subscription moved with the session: a command published in the
	// area the node is in now reaches it.
	publishMQTT(t, areas[cur], "ward/p1/cmd", "calibrate")
	select {
	case m := <-cmds:
		if m.Topic != "ward/p1/cmd" || string(m.Data) != "calibrate" {
			t.Fatalf("node got %q on %q", m.Data, m.Topic)
		}
	case <-time.After(waitFor):
		t.Fatal("the command did not reach the node")
	}
}
