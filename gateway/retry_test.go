package gateway

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestRetransmissionThenLost(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RetryInterval = 10 * time.Second; c.MaxRetries = 2 })
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("deaf"), Will: true, Duration: 0}) // keep-alive off: only retries can tell
	expect[*mqttsn.WillTopicReq](c)
	c.send(&mqttsn.WillTopic{Topic: []byte("deaf/will")})
	expect[*mqttsn.WillMsgReq](c)
	c.send(&mqttsn.WillMsg{Msg: []byte("w")})
	expect[*mqttsn.Connack](c)
	ack := c.subscribe("t", mqttsn.QoS1, 1)
	h.inject("t", "v", 1)
	first := expect[*mqttsn.Publish](c)
	if first.DUP || first.TopicID != ack.TopicID {
		t.Fatalf("%+v", first)
	}
	h.clk.Advance(9 * time.Second)
	c.sync() // nothing before Tretry
	for i := 0; i < 2; i++ {
		h.clk.Advance(10 * time.Second)
		p := expect[*mqttsn.Publish](c)
		if !p.DUP || p.MsgID != first.MsgID || string(p.Data) != "v" {
			t.Fatalf("retransmission %d: %+v", i+1, p)
		}
	}
	if n := h.g.Stats().Retransmissions; n != 2 {
		t.Fatalf("retransmissions = %d", n)
	}
	h.clk.Advance(10 * time.Second) // Nretry exhausted: the client is lost
	if p := h.b.nextPub(t); p.m.Topic != "deaf/will" {
		t.Fatal(p)
	}
	if st := h.g.Stats(); st.Clients["lost"] != 1 || st.Drops["retry_exhausted"] != 1 {
		t.Fatalf("%+v", st)
	}

	// The session was persistent: reconnecting resends the message with DUP.
	c.connect("deaf", false, 0)
	p := expect[*mqttsn.Publish](c)
	if !p.DUP || string(p.Data) != "v" {
		t.Fatalf("%+v", p)
	}
}

func TestRegisterRetransmitted(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RetryInterval = 10 * time.Second })
	c := h.client()
	c.connect("r", true, 0)
	c.subscribe("a/+", mqttsn.QoS0, 1)
	h.inject("a/b", "x", 0)
	r1 := expect[*mqttsn.Register](c)
	h.clk.Advance(10 * time.Second)
	r2 := expect[*mqttsn.Register](c)
	if r1.MsgID != r2.MsgID || r1.TopicID != r2.TopicID {
		t.Fatalf("%+v %+v", r1, r2)
	}
	c.send(&mqttsn.Regack{TopicID: r2.TopicID, MsgID: r2.MsgID})
	if p := expect[*mqttsn.Publish](c); string(p.Data) != "x" {
		t.Fatal(p)
	}
}

func TestPubrelRetransmitted(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RetryInterval = 10 * time.Second })
	c := h.client()
	c.connect("q", true, 0)
	c.subscribe("t", mqttsn.QoS2, 1)
	h.inject("t", "x", 2)
	p := expect[*mqttsn.Publish](c)
	c.send(&mqttsn.Pubrec{MsgID: p.MsgID})
	expect[*mqttsn.Pubrel](c)
	h.clk.Advance(10 * time.Second)
	if r := expect[*mqttsn.Pubrel](c); r.MsgID != p.MsgID {
		t.Fatal(r)
	}
	c.send(&mqttsn.Pubcomp{MsgID: p.MsgID})
	c.sync()
}
