package gateway

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// inject publishes m into the fake broker as an outside MQTT client would.
func (h *harness) inject(topic, payload string, qos byte) {
	h.b.route(broker.Message{Topic: topic, Payload: []byte(payload), QoS: qos})
}

func TestSubscribeExactTopic(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("s", true, 60)
	ack := c.subscribe("ward/2/spo2", mqttsn.QoS1, 1)
	if ack.TopicID == 0 || ack.QoS != mqttsn.QoS1 {
		t.Fatalf("SUBACK %+v: an exact topic name gets a topic id (§6.9)", ack)
	}
	h.inject("ward/2/spo2", "97", 1)
	p := expect[*mqttsn.Publish](c)
	if p.TopicIDType != mqttsn.TopicIDNormal || p.TopicID != ack.TopicID || string(p.Data) != "97" || p.QoS != mqttsn.QoS1 || p.MsgID == 0 {
		t.Fatalf("PUBLISH %+v", p)
	}
	c.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID})
	c.sync()
	h.inject("ward/2/spo2", "96", 0)
	if p := expect[*mqttsn.Publish](c); p.QoS != mqttsn.QoS0 || p.MsgID != 0 {
		t.Fatalf("%+v", p)
	}
}

func TestSubscribeWildcardRegistersFirst(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("w", true, 60)
	if ack := c.subscribe("ward/+/hr", mqttsn.QoS0, 1); ack.TopicID != 0 {
		t.Fatalf("wildcard SUBACK topic id %d, want 0x0000 (§6.9)", ack.TopicID)
	}
	h.inject("ward/4/hr", "80", 0)
	h.inject("ward/4/hr", "81", 0)
	reg := expect[*mqttsn.Register](c)
	if string(reg.TopicName) != "ward/4/hr" || reg.TopicID == 0 {
		t.Fatalf("REGISTER %+v", reg)
	}
	// §6.10: the PUBLISH waits for the REGACK.
	c.sync()
	c.send(&mqttsn.Regack{TopicID: reg.TopicID, MsgID: reg.MsgID})
	for _, want := range []string{"80", "81"} {
		p := expect[*mqttsn.Publish](c)
		if p.TopicID != reg.TopicID || string(p.Data) != want {
			t.Fatalf("PUBLISH %+v, want topic %d data %s", p, reg.TopicID, want)
		}
	}
	h.inject("ward/4/hr", "82", 0) // registered now: no REGISTER
	if p := expect[*mqttsn.Publish](c); string(p.Data) != "82" {
		t.Fatal(p)
	}
}

func TestRegackRejectedDropsTopic(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("w", true, 60)
	c.subscribe("a/#", mqttsn.QoS0, 1)
	h.inject("a/x", "1", 0)
	reg := expect[*mqttsn.Register](c)
	c.send(&mqttsn.Regack{TopicID: reg.TopicID, MsgID: reg.MsgID, ReturnCode: mqttsn.RejectedNotSupported})
	c.sync()
	h.inject("a/x", "2", 0)
	h.inject("a/y", "3", 0) // another topic is still delivered
	reg2 := expect[*mqttsn.Register](c)
	if string(reg2.TopicName) != "a/y" {
		t.Fatalf("%+v", reg2)
	}
	if d := h.g.Stats().Drops["register_rejected"]; d != 3 {
		t.Fatalf("register_rejected = %d", d) // the refusal and both messages on a/x
	}
}

func TestSubscribePredefinedAndShort(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("ps", true, 60)
	c.send(&mqttsn.Subscribe{QoS: mqttsn.QoS0, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 1, MsgID: 1})
	if a := expect[*mqttsn.Suback](c); a.ReturnCode != mqttsn.Accepted || a.TopicID != 1 {
		t.Fatalf("%+v", a)
	}
	if !h.b.hasSub("ps", "ward/1/alarm") {
		t.Fatal("predefined subscription not made at the broker")
	}
	sid, _ := mqttsn.ShortTopicID("bp")
	c.send(&mqttsn.Subscribe{QoS: mqttsn.QoS0, TopicIDType: mqttsn.TopicIDShort, TopicID: sid, MsgID: 2})
	if a := expect[*mqttsn.Suback](c); a.ReturnCode != mqttsn.Accepted {
		t.Fatalf("%+v", a)
	}
	c.send(&mqttsn.Subscribe{QoS: mqttsn.QoS0, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 55, MsgID: 3})
	if a := expect[*mqttsn.Suback](c); a.ReturnCode != mqttsn.RejectedInvalidTopicID {
		t.Fatalf("%+v", a)
	}
	h.inject("ward/1/alarm", "A", 0)
	if p := expect[*mqttsn.Publish](c); p.TopicIDType != mqttsn.TopicIDPredefined || p.TopicID != 1 {
		t.Fatalf("%+v", p)
	}
	h.inject("bp", "120/80", 0)
	if p := expect[*mqttsn.Publish](c); p.TopicIDType != mqttsn.TopicIDShort || p.TopicID != sid {
		t.Fatalf("%+v", p)
	}
}

func TestSubscribeInvalidFilter(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("f", true, 60)
	for i, f := range []string{"a/#/b", "a+", "#x"} {
		c.send(&mqttsn.Subscribe{MsgID: uint16(i + 1), TopicName: []byte(f)})
		if a := expect[*mqttsn.Suback](c); a.ReturnCode != mqttsn.RejectedNotSupported {
			t.Fatalf("%q: %+v", f, a)
		}
	}
}

func TestSubscribeBrokerFailure(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("f", true, 60)
	h.b.fail.Store(true)
	c.send(&mqttsn.Subscribe{MsgID: 1, TopicName: []byte("a")})
	if a := expect[*mqttsn.Suback](c); a.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatalf("%+v", a)
	}
}

func TestUnsubscribe(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("u", true, 60)
	c.subscribe("x/#", mqttsn.QoS0, 1)
	c.send(&mqttsn.Unsubscribe{MsgID: 2, TopicName: []byte("x/#")})
	if a := expect[*mqttsn.Unsuback](c); a.MsgID != 2 {
		t.Fatal(a)
	}
	if h.b.hasSub("u", "x/#") {
		t.Fatal("still subscribed at the broker")
	}
	h.inject("x/1", "no", 0)
	c.sync()
}

func TestDeliverQoS2ToClient(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("d2", true, 60)
	ack := c.subscribe("t/2", mqttsn.QoS2, 1)
	h.inject("t/2", "x", 2)
	p := expect[*mqttsn.Publish](c)
	if p.QoS != mqttsn.QoS2 || p.TopicID != ack.TopicID {
		t.Fatalf("%+v", p)
	}
	c.send(&mqttsn.Pubrec{MsgID: p.MsgID})
	if r := expect[*mqttsn.Pubrel](c); r.MsgID != p.MsgID {
		t.Fatal(r)
	}
	c.send(&mqttsn.Pubcomp{MsgID: p.MsgID})
	c.sync()
	// Completed: nothing is retransmitted.
	h.clk.Advance(time.Minute)
	c.sync()
	if n := h.g.Stats().Retransmissions; n != 0 {
		t.Fatalf("retransmissions = %d", n)
	}
}

func TestDeliverInflightWindow(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxInflight = 2 })
	c := h.client()
	c.connect("win", true, 60)
	c.subscribe("t", mqttsn.QoS1, 1)
	for _, s := range []string{"1", "2", "3"} {
		h.inject("t", s, 1)
	}
	p1, p2 := expect[*mqttsn.Publish](c), expect[*mqttsn.Publish](c)
	c.sync() // the third waits for room in the window
	c.send(&mqttsn.Puback{TopicID: p1.TopicID, MsgID: p1.MsgID})
	p3 := expect[*mqttsn.Publish](c)
	if string(p1.Data)+string(p2.Data)+string(p3.Data) != "123" || p3.MsgID == p2.MsgID {
		t.Fatalf("%+v %+v %+v", p1, p2, p3)
	}
}

func TestDeliverQueueBound(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxInflight = 1; c.MaxBuffered = 2 })
	c := h.client()
	c.connect("qb", true, 60)
	c.subscribe("t", mqttsn.QoS1, 1)
	for _, s := range []string{"1", "2", "3", "4"} {
		h.inject("t", s, 1) // 1 in flight, 2 queued, 1 dropped
	}
	if d := h.drops("queue_full"); d != 1 {
		t.Fatalf("queue_full = %d", d)
	}
	for _, want := range []string{"1", "2", "3"} {
		p := expect[*mqttsn.Publish](c)
		if string(p.Data) != want {
			t.Fatalf("got %s want %s", p.Data, want)
		}
		c.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID})
	}
	c.sync()
}

func TestClientPubackInvalidTopicReRegisters(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("re", true, 60)
	c.subscribe("z/+", mqttsn.QoS1, 1)
	h.inject("z/1", "a", 1)
	reg := expect[*mqttsn.Register](c)
	c.send(&mqttsn.Regack{TopicID: reg.TopicID, MsgID: reg.MsgID})
	p := expect[*mqttsn.Publish](c)
	// The client lost its table: it refuses the id (§6.10).
	c.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID, ReturnCode: mqttsn.RejectedInvalidTopicID})
	reg2 := expect[*mqttsn.Register](c)
	if string(reg2.TopicName) != "z/1" {
		t.Fatal(reg2)
	}
	c.send(&mqttsn.Regack{TopicID: reg2.TopicID, MsgID: reg2.MsgID})
	p2 := expect[*mqttsn.Publish](c)
	if string(p2.Data) != "a" {
		t.Fatal(p2)
	}
	c.send(&mqttsn.Puback{TopicID: p2.TopicID, MsgID: p2.MsgID})
	c.sync()
}

func TestDeliverTooLargeIsDropped(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxDatagram = 64 })
	c := h.client()
	c.connect("big", true, 60)
	c.subscribe("b", mqttsn.QoS0, 1)
	h.inject("b", string(make([]byte, 100)), 0)
	h.inject("b", "small", 0)
	if p := expect[*mqttsn.Publish](c); string(p.Data) != "small" {
		t.Fatal(p)
	}
	if h.drops("too_large") != 1 {
		t.Fatal(h.g.Stats().Drops)
	}
}
