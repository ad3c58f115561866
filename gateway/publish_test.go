package gateway

import (
	"testing"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestPublishQoS0And1(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("p", true, 60)
	id := c.register("ward/3/hr", 1)
	if again := c.register("ward/3/hr", 2); again != id {
		t.Fatalf("same name registered twice got ids %d and %d", id, again)
	}
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS0, TopicID: id, Data: []byte("72")})
	if p := h.b.nextPub(t); p.client != "p" || p.m.Topic != "ward/3/hr" || string(p.m.Payload) != "72" || p.m.QoS != 0 {
		t.Fatalf("%+v", p)
	}
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, Retain: true, TopicID: id, MsgID: 7, Data: []byte("73")})
	a := expect[*mqttsn.Puback](c)
	if a.ReturnCode != mqttsn.Accepted || a.MsgID != 7 || a.TopicID != id {
		t.Fatalf("PUBACK %+v", a)
	}
	if p := h.b.nextPub(t); p.m.QoS != 1 || !p.m.Retain || string(p.m.Payload) != "73" {
		t.Fatalf("%+v", p)
	}
}

func TestRegisterRejectsWildcards(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("r", true, 60)
	c.send(&mqttsn.Register{MsgID: 1, TopicName: []byte("a/+")})
	if a := expect[*mqttsn.Regack](c); a.ReturnCode != mqttsn.RejectedNotSupported {
		t.Fatal(a.ReturnCode)
	}
}

func TestRegistryLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxTopicsPerClient = 1 })
	c := h.client()
	c.connect("r", true, 60)
	c.register("a", 1)
	c.send(&mqttsn.Register{MsgID: 2, TopicName: []byte("b")})
	if a := expect[*mqttsn.Regack](c); a.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatal(a.ReturnCode)
	}
}

func TestPublishQoS2ExactlyOnce(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("q2", true, 60)
	id := c.register("t/q2", 1)
	pub := &mqttsn.Publish{QoS: mqttsn.QoS2, TopicID: id, MsgID: 9, Data: []byte("once")}
	c.send(pub)
	if r := expect[*mqttsn.Pubrec](c); r.MsgID != 9 {
		t.Fatal(r.MsgID)
	}
	h.b.nextPub(t)
	// PUBREC lost: the client retransmits with DUP. Acknowledged, not published.
	pub.DUP = true
	c.send(pub)
	expect[*mqttsn.Pubrec](c)
	c.send(&mqttsn.Pubrel{MsgID: 9})
	if r := expect[*mqttsn.Pubcomp](c); r.MsgID != 9 {
		t.Fatal(r.MsgID)
	}
	c.sync()
	h.b.noPubs(t)
	// A retransmitted PUBREL still completes.
	c.send(&mqttsn.Pubrel{MsgID: 9})
	expect[*mqttsn.Pubcomp](c)
	// After PUBREL the id is free: a new message with it is published.
	pub.DUP = false
	pub.Data = []byte("next")
	c.send(pub)
	expect[*mqttsn.Pubrec](c)
	if p := h.b.nextPub(t); string(p.m.Payload) != "next" || p.m.QoS != 2 {
		t.Fatalf("%+v", p)
	}
}

func TestPublishInvalidTopicIDs(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("i", true, 60)
	for _, p := range []*mqttsn.Publish{
		{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDNormal, TopicID: 42, MsgID: 1},
		{QoS: mqttsn.QoS0, TopicIDType: mqttsn.TopicIDNormal, TopicID: 43},
		{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 999, MsgID: 2},
	} {
		c.send(p)
		a := expect[*mqttsn.Puback](c)
		if a.ReturnCode != mqttsn.RejectedInvalidTopicID || a.TopicID != p.TopicID || a.MsgID != p.MsgID {
			t.Fatalf("PUBLISH %+v got PUBACK %+v", p, a)
		}
	}
	// A short topic name cannot carry a wildcard.
	sid, _ := mqttsn.ShortTopicID("a#")
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDShort, TopicID: sid, MsgID: 3})
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.RejectedNotSupported {
		t.Fatal(a.ReturnCode)
	}
	c.sync()
	h.b.noPubs(t)
	if n := h.drops("invalid_topic"); n != 4 {
		t.Fatalf("invalid_topic drops = %d", n)
	}
}

func TestPublishPredefinedAndShort(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("ps", true, 60)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 1, MsgID: 1, Data: []byte("A")})
	expect[*mqttsn.Puback](c)
	if p := h.b.nextPub(t); p.m.Topic != "ward/1/alarm" {
		t.Fatal(p.m.Topic)
	}
	sid, _ := mqttsn.ShortTopicID("hr")
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS0, TopicIDType: mqttsn.TopicIDShort, TopicID: sid, Data: []byte("B")})
	if p := h.b.nextPub(t); p.m.Topic != "hr" {
		t.Fatal(p.m.Topic)
	}
}

func TestPublishQoSMinus1(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client() // never connects (§6.8)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoSMinus1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 2, Data: []byte("ok")})
	p := h.b.nextPub(t)
	if p.m.Topic != "ward/1/status" || p.m.QoS != 0 || p.client != h.g.cfg.AnonymousClientID {
		t.Fatalf("%+v", p)
	}
	if !h.b.isAttached(h.g.cfg.AnonymousClientID) {
		t.Fatal("anonymous publisher not attached")
	}
	sid, _ := mqttsn.ShortTopicID("ab")
	c.send(&mqttsn.Publish{QoS: mqttsn.QoSMinus1, TopicIDType: mqttsn.TopicIDShort, TopicID: sid, Data: []byte("s")})
	if p := h.b.nextPub(t); p.m.Topic != "ab" {
		t.Fatal(p.m.Topic)
	}
	// Unknown pre-defined id: dropped silently (QoS -1 has no answers).
	c.send(&mqttsn.Publish{QoS: mqttsn.QoSMinus1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 77})
	c.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](c) // unconnected: the PINGREQ is the only thing answered
	if h.drops("invalid_topic") != 1 {
		t.Fatal(h.g.Stats().Drops)
	}
}

func TestPublishQoSMinus1Denied(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.DenyQoSMinus1 = true })
	c := h.client()
	c.send(&mqttsn.Publish{QoS: mqttsn.QoSMinus1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 2})
	c.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](c)
	h.b.noPubs(t)
	if h.drops("qos_minus1_denied") != 1 {
		t.Fatal(h.g.Stats().Drops)
	}
}

func TestPublishBrokerBusyIsCongestion(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("b", true, 60)
	id := c.register("t", 1)
	h.b.busy.Store(true)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 5})
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.RejectedCongestion || a.MsgID != 5 {
		t.Fatalf("%+v", a)
	}
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS2, TopicID: id, MsgID: 6})
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.RejectedCongestion || a.MsgID != 6 {
		t.Fatalf("%+v", a)
	}
	// The QoS 2 id was not remembered: once the broker takes it, it is published.
	h.b.busy.Store(false)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS2, TopicID: id, MsgID: 6, DUP: true})
	expect[*mqttsn.Pubrec](c)
	h.b.nextPub(t)
	h.b.fail.Store(true)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 7})
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatalf("%+v", a)
	}
	if d := h.g.Stats().Drops; d["congestion"] != 2 || d["broker_error"] != 1 {
		t.Fatalf("drops %v", d)
	}
}

// TestPubackOnlyAfterBrokerAccepted: a QoS 1 PUBLISH is acknowledged only
// once the broker has accepted it, and the in-flight window is enforced.
func TestPubackOnlyAfterBrokerAccepted(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxInflight = 1 })
	c := h.client()
	c.connect("slow", true, 60)
	id := c.register("t", 1)
	gate := make(chan struct{})
	h.b.mu.Lock()
	h.b.gate = gate
	h.b.mu.Unlock()
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 1, Data: []byte("held")})
	c.sync() // no PUBACK yet: the broker has not accepted
	// Retransmission while the broker still has it: no second publish.
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 1, DUP: true, Data: []byte("held")})
	c.sync()
	// A second message beyond MaxInflight: congestion.
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 2})
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.RejectedCongestion || a.MsgID != 2 {
		t.Fatalf("%+v", a)
	}
	close(gate)
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.Accepted || a.MsgID != 1 {
		t.Fatalf("%+v", a)
	}
	if p := h.b.nextPub(t); string(p.m.Payload) != "held" {
		t.Fatal(p)
	}
	c.sync()
	h.b.noPubs(t)
}

func TestPublishBeforeConnect(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 1, MsgID: 1})
	expect[*mqttsn.Disconnect](c) // §6.12: the gateway cannot identify the client
	h.b.noPubs(t)
}

// Beyond MaxBrokerOps every path answers "rejected: congestion" (or skips a
// detach) instead of blocking; nothing deadlocks.
// TestBrokerOpsFreedOnAnswer: with MaxBrokerOps = 1, the message a client
// sends on CONNACK, PUBACK or SUBACK finds the slot free, even while the
// worker that answered has not returned yet (held here in afterCall): a
// call gives its slot back once its broker calls are over, before it
// answers. Held until the worker returned, the slot refused that next
// message "rejected: congestion" now and then (TestBrokerOpsLimit failed 2
// in 80 runs) with no broker call in progress.
func TestBrokerOpsFreedOnAnswer(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxBrokerOps = 1 })
	release := make(chan struct{})
	h.g.mu.Lock()
	h.g.pool.afterCall = func() { <-release }
	h.g.mu.Unlock()
	t.Cleanup(func() { close(release) }) // before the harness's Close, which waits for the workers
	a := h.client()
	a.connect("a", true, 60)
	id := a.register("t", 1)
	for msgID := uint16(2); msgID < 4; msgID++ {
		a.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: msgID, Data: []byte("next")})
		if ack := expect[*mqttsn.Puback](a); ack.ReturnCode != mqttsn.Accepted || ack.MsgID != msgID {
			t.Fatalf("%+v", ack)
		}
	}
	a.send(&mqttsn.Subscribe{MsgID: 4, TopicName: []byte("s")})
	if ack := expect[*mqttsn.Suback](a); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("%+v", ack)
	}
	a.send(&mqttsn.Unsubscribe{MsgID: 5, TopicName: []byte("s")})
	expect[*mqttsn.Unsuback](a)
	a.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 6, Data: []byte("after UNSUBACK")})
	if ack := expect[*mqttsn.Puback](a); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("%+v", ack)
	}
	if n := h.g.ops.Load(); n != 0 {
		t.Errorf("%d slots held with every call answered", n)
	}
}

func TestBrokerOpsLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxBrokerOps = 1 })
	a, b := h.client(), h.client()
	a.connect("a", true, 60)
	id := a.register("t", 1)
	gate := make(chan struct{})
	h.b.mu.Lock()
	h.b.gate = gate
	h.b.mu.Unlock()
	a.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 2, Data: []byte("held")}) // takes the one slot
	a.sync()
	a.send(&mqttsn.Subscribe{MsgID: 3, TopicName: []byte("s")})
	if ack := expect[*mqttsn.Suback](a); ack.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatalf("%+v", ack)
	}
	b.send(&mqttsn.Connect{ClientID: []byte("b"), CleanSession: true, Duration: 60})
	if ack := expect[*mqttsn.Connack](b); ack.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatalf("%+v", ack)
	}
	a.send(&mqttsn.Disconnect{}) // the broker detach cannot start; the DISCONNECT is still answered
	expect[*mqttsn.Disconnect](a)
	close(gate)
	if ack := expect[*mqttsn.Puback](a); ack.ReturnCode != mqttsn.Accepted || ack.MsgID != 2 {
		t.Fatalf("%+v", ack)
	}
}
