package gateway

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// stallBroker is a fakeBroker whose Attach number stallAt (1: the first)
// stalls until released, whatever its context says (a broker that completes
// an attach it started).
type stallBroker struct {
	*fakeBroker
	stallAt int
	n       atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (b *stallBroker) Attach(ctx context.Context, id string, clean bool) error {
	if int(b.n.Add(1)) == b.stallAt {
		close(b.entered)
		<-b.release
	}
	return b.fakeBroker.Attach(ctx, id, clean)
}

// newStallHarness is a harness whose broker stalls its stallAt-th Attach;
// release lets it go (and is called at cleanup, before Close).
func newStallHarness(t *testing.T, stallAt int, mod func(*Config)) (h *harness, sb *stallBroker, release func()) {
	h = &harness{t: t, b: newFakeBroker(), clk: clock.NewVirtual(epoch0), reg: prometheus.NewRegistry()}
	sb = &stallBroker{fakeBroker: h.b, stallAt: stallAt, entered: make(chan struct{}), release: make(chan struct{})}
	cfg := Config{Clock: h.clk, Registerer: h.reg}
	if mod != nil {
		mod(&cfg)
	}
	g, err := New(cfg, sb)
	if err != nil {
		t.Fatal(err)
	}
	h.g = g
	h.b.mu.Lock()
	h.b.deliver = g.Deliver
	h.b.mu.Unlock()
	t.Cleanup(func() { g.Close() })
	h.addr = h.serve("udp4", "127.0.0.1:0")
	var once sync.Once
	release = func() { once.Do(func() { close(sb.release) }) }
	t.Cleanup(release) // runs before Close: a stalled attach would hold it up
	return h, sb, release
}

// waitStalled waits for the stalled Attach and returns the lifecycle step
// it runs in.
func waitStalled(t *testing.T, h *harness, sb *stallBroker, id string) <-chan struct{} {
	t.Helper()
	select {
	case <-sb.entered:
	case <-time.After(waitFor):
		t.Fatal("the attach did not start")
	}
	step := h.g.lifecyclePending(id)
	if step == nil {
		t.Fatal("no lifecycle step for the attach in progress")
	}
	return step
}

// expectAttachedAtEnd waits for id's broker calls to end and requires id
// attached.
func expectAttachedAtEnd(t *testing.T, h *harness, id string) {
	t.Helper()
	spinUntil(t, "the broker calls for "+id+" to end", func() bool { return h.g.lifecyclePending(id) == nil })
	if !h.b.isAttached(id) {
		h.b.mu.Lock()
		calls := append([]string(nil), h.b.calls...)
		h.b.mu.Unlock()
		t.Fatalf("the connected client is not attached at the broker; broker calls %q", calls)
	}
}

// spinUntil waits for cond, which turns true on another goroutine that
// signals nothing; waitFor bounds it (a failure timeout, not pacing).
func spinUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

// A CONNECT superseded while its broker attach is under way (the client sent
// CONNECT again: it retransmitted, or a DISCONNECT reached it mid-connect)
// undoes its attach before the newer CONNECT's attach, not after: the client
// ends attached. Before the fix the undo was queued as a lifecycle step of
// its own, behind the newer attach, and detached the new session
// (TestFallbacks in gateway/handoverclient: SUBACK congestion, "broker:
// client not attached").
func TestConnectSupersededDuringAttach(t *testing.T) {
	h, sb, release := newStallHarness(t, 1, nil)
	const id = "x"
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: true, Duration: 60})
	first := waitStalled(t, h, sb, id)
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: true, Duration: 60})
	// The second CONNECT's attach is queued behind the first's.
	spinUntil(t, "the second CONNECT's lifecycle step", func() bool { return h.g.lifecyclePending(id) != first })
	release()

	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	expectAttachedAtEnd(t, h, id)
	// The session works: a SUBSCRIBE is answered.
	c.send(&mqttsn.Subscribe{MsgID: 1, TopicName: []byte("ward/x/cmd"), QoS: 1})
	if ack := expect[*mqttsn.Suback](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("SUBACK %v", ack.ReturnCode)
	}
}

// A session lost (keep-alive) while a CONNECT of its client id from another
// address is attaching: the lost session's detach, queued behind that
// attach, must not detach the session the CONNECT makes.
func TestLoseDuringTakeOverAttach(t *testing.T) {
	h, sb, release := newStallHarness(t, 2, nil)
	const id = "y"
	old, c := h.client(), h.client()
	old.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: false, Duration: 10})
	if ack := expect[*mqttsn.Connack](old); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: false, Duration: 60})
	attaching := waitStalled(t, h, sb, id)
	// The old address falls silent: keep-alive runs out, the session is
	// lost and its detach queued behind the take-over's attach.
	h.clk.Advance(time.Hour)
	spinUntil(t, "the lost session's detach step", func() bool { return h.g.lifecyclePending(id) != attaching })
	release()

	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	expectAttachedAtEnd(t, h, id)
}
