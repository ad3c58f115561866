package gateway

import (
	"context"
	"crypto/rand"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Races between a handover's broker steps and a CONNECT of the same client
// id: each test stalls one broker Attach (stallBroker) so that the other
// side's lifecycle step is queued behind it, then releases it. No sleeps:
// the tests wait for the stalled call and for the queued step.

// peeredStallHarness is newStallHarness (the stallAt-th Attach stalls) for
// a gateway named gw-a with one peer, gw-x, a fakePeer.
func peeredStallHarness(t *testing.T, stallAt int) (*harness, *stallBroker, func(), *fakePeer) {
	t.Helper()
	fp := &fakePeer{t: t, name: "gw-x", key: make([]byte, 32)}
	_, _ = rand.Read(fp.key)
	var err error
	if fp.pc, err = net.ListenPacket("udp4", "127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fp.pc.Close() })
	h, sb, release := newStallHarness(t, stallAt, func(c *Config) {
		c.Peering = &PeeringConfig{Name: "gw-a",
			Peers: []Peer{{Name: fp.name, Addr: fp.pc.LocalAddr().String(), Key: fp.key}}}
	})
	fp.clk = h.clk
	ppc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = h.g.ServePeers(ctx, ppc) }()
	// release first: a stalled attach would hold Close up.
	t.Cleanup(func() { release(); cancel(); h.g.Close(); wg.Wait(); ppc.Close() })
	fp.to = ppc.LocalAddr()
	return h, sb, release, fp
}

// handOver connects node id at the home gateway, subscribes it to filter,
// and has the fake visited peer fetch its session (HO-FETCH xid, answered
// HO-TRANSFER): the session is handed over, not yet confirmed.
func handOver(t *testing.T, h *harness, fp *fakePeer, id, filter string, xid uint32) *client {
	t.Helper()
	c := h.client()
	c.connect(id, false, 60)
	tok := expect[*mqttsn.HOToken](c)
	if ack := c.subscribe(filter, mqttsn.QoS1, 1); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("SUBACK %v", ack.ReturnCode)
	}
	fp.sendSigned(&mqttsn.HOFetch{XID: xid, ClientID: []byte(id), Token: tok.Token})
	if tr, ok := fp.recv().(*mqttsn.HOTransfer); !ok || tr.XID != xid {
		t.Fatalf("want HO-TRANSFER XID %d, got %#v", xid, tr)
	}
	return c
}

func (fp *fakePeer) sendSigned(m mqttsn.Message) {
	fp.t.Helper()
	fp.send(fp.sign(m, fp.name, fp.key, fp.clk.Now()))
}

// brokerCalls returns the fake broker's calls for id, in order.
func brokerCalls(h *harness, id string) []string {
	h.b.mu.Lock()
	defer h.b.mu.Unlock()
	var out []string
	for _, c := range h.b.calls {
		if strings.HasSuffix(c, " "+id) || strings.Contains(c, " "+id+" ") {
			out = append(out, c)
		}
	}
	return out
}

// The home gateway handed a session over; before the visited gateway's
// HO-CONFIRM came, the node was back and sent CONNECT here (it moved back
// at once). The CONNECT's attach was under way when the confirm arrived, so
// the confirm's broker step — drop the broker session: a clean attach, then
// detach — was queued behind it. Once its turn comes the session is live
// here again and not the one handed over: the step must leave it alone.
// Before the fix it dropped it unconditionally: the reconnected node ended
// detached at the broker, its subscription gone.
func TestConfirmAfterNodeCameBackHome(t *testing.T) {
	h, sb, release, fp := peeredStallHarness(t, 2) // the second Attach: the node's CONNECT back home
	const id, filter = "node-b", "ward/b/cmd"
	// The node connects and subscribes; the visited gateway fetches the session.
	c := handOver(t, h, fp, id, filter, 7)
	// The node is back and connects; its attach stalls.
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: false, Duration: 60})
	attaching := waitStalled(t, h, sb, id)
	// The confirm arrives meanwhile: its broker step is queued behind.
	fp.sendSigned(&mqttsn.HOConfirm{XID: 7, ClientID: []byte(id)})
	spinUntil(t, "the confirm's broker step", func() bool { return h.g.lifecyclePending(id) != attaching })
	release()

	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	expect[*mqttsn.HOToken](c)
	expectAttachedAtEnd(t, h, id)
	if !h.b.hasSub(id, filter) {
		t.Fatalf("the reconnected node's subscription was dropped at the broker; calls %q", brokerCalls(h, id))
	}
	if calls := brokerCalls(h, id); calls[len(calls)-1] != "attach "+id {
		t.Fatalf("broker calls after the reconnect's attach: %q", calls)
	}
}

// The confirm whose step comes before the node's CONNECT back home still
// drops the broker session it handed over (the documented behaviour): the
// CONNECT's attach follows, and the node starts without the moved
// subscription at the broker.
func TestConfirmBeforeNodeCameBackHome(t *testing.T) {
	h, sb, release, fp := peeredStallHarness(t, 2) // the second Attach: the confirm's clean attach
	const id, filter = "node-c", "ward/c/cmd"
	c := handOver(t, h, fp, id, filter, 8)
	fp.sendSigned(&mqttsn.HOConfirm{XID: 8, ClientID: []byte(id)})
	dropping := waitStalled(t, h, sb, id)
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: false, Duration: 60})
	spinUntil(t, "the CONNECT's broker step", func() bool { return h.g.lifecyclePending(id) != dropping })
	release()

	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	expectAttachedAtEnd(t, h, id)
	if h.b.hasSub(id, filter) {
		t.Fatalf("the handed-over broker session was not dropped; calls %q", brokerCalls(h, id))
	}
	want := []string{"attach " + id, "subscribe " + id + " " + filter, "attach " + id, "detach " + id, "attach " + id}
	if calls := brokerCalls(h, id); !slices.Equal(calls, want) {
		t.Fatalf("broker calls %q, want %q", calls, want)
	}
}
