package gateway

import (
	"context"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestSleepingClientBuffersAndWakes(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxBuffered = 3 })
	c := h.client()
	c.connect("sleepy", false, 30)
	ack := c.subscribe("s/t", mqttsn.QoS1, 1)
	c.send(&mqttsn.Disconnect{HasDuration: true, Duration: 600})
	expect[*mqttsn.Disconnect](c)
	if st := h.g.Stats(); st.Clients["asleep"] != 1 {
		t.Fatalf("%+v", st.Clients)
	}
	for _, s := range []string{"1", "2", "3", "4"} {
		h.inject("s/t", s, 1) // buffered; the 4th exceeds MaxBuffered
	}
	if d := h.drops("queue_full"); d != 1 {
		t.Fatalf("queue_full = %d", d)
	}
	// The keep-alive no longer applies while asleep; the sleep duration does.
	h.clk.Advance(5 * time.Minute)

	c.send(&mqttsn.Pingreq{ClientID: []byte("sleepy")})
	for _, want := range []string{"1", "2", "3"} {
		p := expect[*mqttsn.Publish](c)
		if string(p.Data) != want || p.TopicID != ack.TopicID {
			t.Fatalf("buffered message %+v, want %s", p, want)
		}
		c.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID})
	}
	expect[*mqttsn.Pingresp](c) // §6.14: closes the transfer
	if st := h.g.Stats(); st.Clients["asleep"] != 1 {
		t.Fatalf("not asleep again: %+v", st.Clients)
	}
	// Asleep again: a new message waits for the next wake-up.
	h.inject("s/t", "5", 1)
	c.send(&mqttsn.Pingreq{ClientID: []byte("sleepy")})
	if p := expect[*mqttsn.Publish](c); string(p.Data) != "5" {
		t.Fatal(p)
	} else {
		c.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID})
	}
	expect[*mqttsn.Pingresp](c)

	// Nothing buffered: PINGRESP at once.
	c.send(&mqttsn.Pingreq{ClientID: []byte("sleepy")})
	expect[*mqttsn.Pingresp](c)

	// Back to active with CONNECT. Without CleanSession the gateway registers
	// the topic again before using its id (§6.10).
	c.connect("sleepy", false, 30)
	h.inject("s/t", "6", 0)
	reg := expect[*mqttsn.Register](c)
	if string(reg.TopicName) != "s/t" {
		t.Fatal(reg)
	}
	c.send(&mqttsn.Regack{TopicID: reg.TopicID, MsgID: reg.MsgID})
	if p := expect[*mqttsn.Publish](c); string(p.Data) != "6" {
		t.Fatal(p)
	}
}

func TestSleepingClientOversleeps(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("late"), Will: true, CleanSession: true, Duration: 30})
	expect[*mqttsn.WillTopicReq](c)
	c.send(&mqttsn.WillTopic{Topic: []byte("late/will")})
	expect[*mqttsn.WillMsgReq](c)
	c.send(&mqttsn.WillMsg{Msg: []byte("gone")})
	expect[*mqttsn.Connack](c)
	c.send(&mqttsn.Disconnect{HasDuration: true, Duration: 100})
	expect[*mqttsn.Disconnect](c)
	h.clk.Advance(140 * time.Second)
	h.b.noPubs(t)
	h.clk.Advance(20 * time.Second) // beyond 1.5 × 100 s
	if p := h.b.nextPub(t); p.m.Topic != "late/will" {
		t.Fatal(p)
	}
	c.send(&mqttsn.Pingreq{ClientID: []byte("late")})
	expect[*mqttsn.Disconnect](c)
}

func TestAwakeClientGoesBackToSleepAfterRetries(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RetryInterval = 10 * time.Second; c.MaxRetries = 1 })
	c := h.client()
	c.connect("doze", false, 30)
	c.subscribe("d", mqttsn.QoS1, 1)
	c.send(&mqttsn.Disconnect{HasDuration: true, Duration: 600})
	expect[*mqttsn.Disconnect](c)
	h.inject("d", "m", 1)
	c.send(&mqttsn.Pingreq{ClientID: []byte("doze")})
	expect[*mqttsn.Publish](c) // never acknowledged: the client dozed off
	h.clk.Advance(10 * time.Second)
	if p := expect[*mqttsn.Publish](c); !p.DUP {
		t.Fatal("retransmission without DUP")
	}
	h.clk.Advance(10 * time.Second)
	if st := h.g.Stats(); st.Clients["asleep"] != 1 {
		t.Fatalf("%+v", st.Clients)
	}
	// Next wake-up: the message is still there.
	c.send(&mqttsn.Pingreq{ClientID: []byte("doze")})
	p := expect[*mqttsn.Publish](c)
	if string(p.Data) != "m" {
		t.Fatal(p)
	}
	c.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID})
	expect[*mqttsn.Pingresp](c)
}

func TestWakeFromNewAddress(t *testing.T) {
	for _, open := range []bool{true, false} {
		t.Run(map[bool]string{true: "open", false: "secure"}[open], func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				if !open {
					c.Authenticator = AdmitFunc(func(context.Context, *AdmitRequest) error { return nil })
				}
			})
			c := h.client()
			c.connect("roam", false, 30)
			c.subscribe("r", mqttsn.QoS0, 1)
			c.send(&mqttsn.Disconnect{HasDuration: true, Duration: 600})
			expect[*mqttsn.Disconnect](c)
			h.inject("r", "x", 0)
			moved := h.client()
			moved.send(&mqttsn.Pingreq{ClientID: []byte("roam")})
			if !open {
				// With an Authenticator the client must CONNECT (and be admitted) there.
				expect[*mqttsn.Disconnect](moved)
				moved.connect("roam", false, 30)
				reg := expect[*mqttsn.Register](moved)
				moved.send(&mqttsn.Regack{TopicID: reg.TopicID, MsgID: reg.MsgID})
				if p := expect[*mqttsn.Publish](moved); string(p.Data) != "x" {
					t.Fatal(p)
				}
				return
			}
			if p := expect[*mqttsn.Publish](moved); string(p.Data) != "x" {
				t.Fatal(p)
			}
			expect[*mqttsn.Pingresp](moved)
			c.send(&mqttsn.Pingreq{})
			expect[*mqttsn.Disconnect](c) // the old address is no longer bound
		})
	}
}
