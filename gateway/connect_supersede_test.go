package gateway

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// stallBroker is a fakeBroker whose first Attach stalls until released,
// whatever its context says (a broker that completes an attach it started).
type stallBroker struct {
	*fakeBroker
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (b *stallBroker) Attach(ctx context.Context, id string, clean bool) error {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.entered)
		<-b.release
	}
	return b.fakeBroker.Attach(ctx, id, clean)
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
	h := &harness{t: t, b: newFakeBroker(), clk: clock.NewVirtual(epoch0), reg: prometheus.NewRegistry()}
	sb := &stallBroker{fakeBroker: h.b, entered: make(chan struct{}), release: make(chan struct{})}
	g, err := New(Config{Clock: h.clk, Registerer: h.reg}, sb)
	if err != nil {
		t.Fatal(err)
	}
	h.g = g
	h.b.mu.Lock()
	h.b.deliver = g.Deliver
	h.b.mu.Unlock()
	t.Cleanup(func() { g.Close() })
	h.addr = h.serve("udp4", "127.0.0.1:0")
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(sb.release) }) }
	t.Cleanup(release) // runs before Close: a stalled attach would hold it up

	const id = "x"
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: true, Duration: 60})
	select {
	case <-sb.entered:
	case <-time.After(waitFor):
		t.Fatal("the first CONNECT's attach did not start")
	}
	first := g.lifecyclePending(id)
	if first == nil {
		t.Fatal("no lifecycle step for the attach in progress")
	}
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: true, Duration: 60})
	// The second CONNECT's attach is queued behind the first's.
	spinUntil(t, "the second CONNECT's lifecycle step", func() bool { return g.lifecyclePending(id) != first })
	release()

	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	spinUntil(t, "the broker calls for "+id+" to end", func() bool { return g.lifecyclePending(id) == nil })
	if !h.b.isAttached(id) {
		h.b.mu.Lock()
		calls := append([]string(nil), h.b.calls...)
		h.b.mu.Unlock()
		t.Fatalf("the connected client is not attached at the broker; broker calls %q", calls)
	}
	// The session works: a SUBSCRIBE is answered.
	c.send(&mqttsn.Subscribe{MsgID: 1, TopicName: []byte("ward/x/cmd"), QoS: 1})
	if ack := expect[*mqttsn.Suback](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("SUBACK %v", ack.ReturnCode)
	}
}
