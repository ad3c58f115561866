package gateway

import (
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// A push (PushSession at a peer) racing the node's own CONNECT here; the
// harness is peeredStallHarness (handover_home_race_test.go).

// pushTransfer is a push of a clean session for id holding one
// subscription, filter, with a token valid for an hour.
func pushTransfer(t *testing.T, fp *fakePeer, xid uint32, id, filter string) *mqttsn.HOTransfer {
	t.Helper()
	rec := mqttsn.HOSession{Clean: true, KeepAlive: 60, NextMsgID: 1, NextTopicID: 1,
		Subs: []mqttsn.HOSub{{QoS: 1, Filter: []byte(filter)}}}
	sess, err := rec.AppendBinary(nil)
	if err != nil {
		t.Fatal(err)
	}
	tok := make([]byte, tokenLen)
	_, _ = rand.Read(tok)
	return &mqttsn.HOTransfer{XID: xid, Push: true, Expiry: uint32(fp.clk.Now().Add(time.Hour).Unix()),
		ClientID: []byte(id), Token: tok, Session: sess}
}

// A session pushed here while the node's own CONNECT here is attaching: the
// push's broker step (a clean attach, then the pushed subscriptions) is
// queued behind the CONNECT's. When its turn comes the node is connected:
// the push is refused (busy) without touching the broker, so the live
// session is neither reset nor given the stale push's subscriptions.
// Before the fix the push attached (clean) and subscribed first, then
// noticed the live session and refused: the node's broker session was
// reset under it and carried a subscription it never made here.
func TestPushQueuedBehindConnect(t *testing.T) {
	h, sb, release, fp := peeredStallHarness(t, 1) // the first Attach: the node's CONNECT
	const id, filter = "node-p", "ward/p/cmd"
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: true, Duration: 60})
	attaching := waitStalled(t, h, sb, id)
	fp.sendSigned(pushTransfer(t, fp, 11, id, filter))
	spinUntil(t, "the push's broker step", func() bool { return h.g.lifecyclePending(id) != attaching })
	release()

	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	expect[*mqttsn.HOToken](c)
	if m, ok := fp.recv().(*mqttsn.HORefuse); !ok || m.XID != 11 || m.Reason != mqttsn.HOBusy {
		t.Fatalf("want HO-REFUSE busy for the push, got %#v", m)
	}
	expectAttachedAtEnd(t, h, id)
	if want, calls := []string{"attach " + id}, brokerCalls(h, id); !slices.Equal(calls, want) {
		t.Fatalf("broker calls %q, want %q (the refused push must not touch the broker)", calls, want)
	}
	// The connected session is the node's: it subscribes and is served.
	if ack := c.subscribe("ward/p/own", mqttsn.QoS1, 1); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("SUBACK %v", ack.ReturnCode)
	}
	h.b.route(broker.Message{Topic: "ward/p/own", Payload: []byte("mine"), QoS: 1})
	if p := expect[*mqttsn.Publish](c); string(p.Data) != "mine" {
		t.Fatalf("PUBLISH %q", p.Data)
	}
	if st := h.g.HandoverStats(); st.SessionsPushedIn != 0 {
		t.Fatalf("the refused push counted as installed: %+v", st)
	}
}

// A CONNECT whose broker step is queued behind a push being installed
// finds the pushed session installed and takes it over; a clean CONNECT's
// attach comes after the push's, so the pushed subscription is dropped and
// the node ends attached.
func TestConnectQueuedBehindPush(t *testing.T) {
	h, sb, release, fp := peeredStallHarness(t, 1) // the first Attach: the push's
	const id, filter = "node-q", "ward/q/cmd"
	fp.sendSigned(pushTransfer(t, fp, 12, id, filter))
	pushing := waitStalled(t, h, sb, id)
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: true, Duration: 60})
	spinUntil(t, "the CONNECT's broker step", func() bool { return h.g.lifecyclePending(id) != pushing })
	release()

	if m, ok := fp.recv().(*mqttsn.HOConfirm); !ok || m.XID != 12 {
		t.Fatalf("want HO-CONFIRM for the push, got %#v", m)
	}
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
	expectAttachedAtEnd(t, h, id)
	want := []string{"attach " + id, "subscribe " + id + " " + filter, "attach " + id}
	if calls := brokerCalls(h, id); !slices.Equal(calls, want) {
		t.Fatalf("broker calls %q, want %q", calls, want)
	}
	if h.b.hasSub(id, filter) {
		t.Fatal("a clean CONNECT kept the pushed subscription at the broker")
	}
}
