package gateway

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestConnectPingDisconnect(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("sensor-1", true, 60)
	if !h.b.isAttached("sensor-1") {
		t.Fatal("client not attached at the broker after CONNACK")
	}
	c.sync()
	c.send(&mqttsn.Disconnect{})
	expect[*mqttsn.Disconnect](c)
	st := h.g.Stats()
	if st.Sessions != 0 {
		t.Fatalf("clean session kept after DISCONNECT: %+v", st)
	}
	// After DISCONNECT the client must connect again (§6.12).
	c.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](c)
	if h.drops("unknown_client") != 1 {
		t.Fatalf("drops %v", h.g.Stats().Drops)
	}
}

func TestConnectWillFlowAndKeepAliveTimeout(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("patient-7"), CleanSession: true, Will: true, Duration: 10})
	expect[*mqttsn.WillTopicReq](c)
	c.send(&mqttsn.WillTopic{QoS: mqttsn.QoS1, Retain: true, Topic: []byte("ward/1/lost")})
	expect[*mqttsn.WillMsgReq](c)
	c.send(&mqttsn.WillMsg{Msg: []byte("patient-7 offline")})
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatalf("CONNACK %v", ack.ReturnCode)
	}

	// Heard from at 9 s: the deadline moves to 9 + 15 s.
	h.clk.Advance(9 * time.Second)
	c.sync()
	h.clk.Advance(14 * time.Second)
	if st := h.g.Stats(); st.Clients["active"] != 1 {
		t.Fatalf("client lost before 1.5 × keep-alive of silence: %+v", st.Clients)
	}
	h.b.noPubs(t)
	h.clk.Advance(2 * time.Second)
	p := h.b.nextPub(t)
	if p.client != "patient-7" || p.m.Topic != "ward/1/lost" || string(p.m.Payload) != "patient-7 offline" || p.m.QoS != 1 || !p.m.Retain {
		t.Fatalf("will published as %+v", p)
	}
	if st := h.g.Stats(); st.Sessions != 0 {
		t.Fatalf("lost clean session not reclaimed: %+v", st)
	}
	c.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](c)
}

func TestWillFlowRetransmitsRequests(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RetryInterval = 5 * time.Second; c.MaxRetries = 2 })
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("w"), Will: true, Duration: 10})
	expect[*mqttsn.WillTopicReq](c)
	h.clk.Advance(5 * time.Second)
	expect[*mqttsn.WillTopicReq](c) // Tretry: asked again
	c.send(&mqttsn.WillTopic{Topic: []byte("w/will")})
	expect[*mqttsn.WillMsgReq](c)
	h.clk.Advance(5 * time.Second)
	expect[*mqttsn.WillMsgReq](c)
	h.clk.Advance(5 * time.Second)
	expect[*mqttsn.WillMsgReq](c)
	h.clk.Advance(5 * time.Second) // Nretry exhausted: abandoned
	if st := h.g.Stats(); st.Clients["connecting"] != 0 || h.drops("retry_exhausted") != 1 {
		t.Fatalf("abandoned will flow still pending: %+v", st)
	}
	c.send(&mqttsn.WillMsg{Msg: []byte("late")})
	c.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](c)
}

func TestEmptyWillTopicDeletesWill(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("a"), CleanSession: true, Will: true, Duration: 10})
	expect[*mqttsn.WillTopicReq](c)
	c.send(&mqttsn.WillTopic{}) // §5.4.7: empty: no will, no WILLMSGREQ
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		t.Fatal(ack.ReturnCode)
	}
	h.clk.Advance(time.Minute)
	if st := h.g.Stats(); st.Sessions != 0 {
		t.Fatalf("silent client not lost: %+v", st)
	}
	h.b.noPubs(t)
}

func TestWillUpdates(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("u", true, 10)
	c.send(&mqttsn.WillTopicUpd{QoS: mqttsn.QoS0, Topic: []byte("u/will")})
	if r := expect[*mqttsn.WillTopicResp](c); r.ReturnCode != mqttsn.Accepted {
		t.Fatal(r.ReturnCode)
	}
	c.send(&mqttsn.WillMsgUpd{Msg: []byte("bye")})
	if r := expect[*mqttsn.WillMsgResp](c); r.ReturnCode != mqttsn.Accepted {
		t.Fatal(r.ReturnCode)
	}
	c.send(&mqttsn.WillTopicUpd{QoS: mqttsn.QoS0, Topic: []byte("u/#")})
	if r := expect[*mqttsn.WillTopicResp](c); r.ReturnCode != mqttsn.RejectedNotSupported {
		t.Fatalf("will topic with a wildcard: %v", r.ReturnCode)
	}
	h.clk.Advance(16 * time.Second)
	if p := h.b.nextPub(t); p.m.Topic != "u/will" || string(p.m.Payload) != "bye" {
		t.Fatalf("will %+v", p.m)
	}

	// An empty WILLTOPICUPD deletes the will (§6.4).
	c2 := h.client()
	c2.connect("v", true, 10)
	c2.send(&mqttsn.WillTopicUpd{Topic: []byte("v/will")})
	expect[*mqttsn.WillTopicResp](c2)
	c2.send(&mqttsn.WillTopicUpd{})
	expect[*mqttsn.WillTopicResp](c2)
	h.clk.Advance(16 * time.Second)
	if st := h.g.Stats(); st.Sessions != 0 {
		t.Fatalf("%+v", st)
	}
	h.b.noPubs(t)
}

func TestGracefulDisconnectDoesNotPublishWill(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.send(&mqttsn.Connect{ClientID: []byte("g"), Will: true, Duration: 10})
	expect[*mqttsn.WillTopicReq](c)
	c.send(&mqttsn.WillTopic{Topic: []byte("g/will")})
	expect[*mqttsn.WillMsgReq](c)
	c.send(&mqttsn.WillMsg{Msg: []byte("x")})
	expect[*mqttsn.Connack](c)
	c.send(&mqttsn.Disconnect{})
	expect[*mqttsn.Disconnect](c)
	h.clk.Advance(time.Minute)
	h.b.noPubs(t)
}

func TestCleanSessionSemantics(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SessionExpiry = time.Hour })
	c := h.client()
	c.connect("cs", false, 60)
	id := c.register("a/b", 1)
	c.subscribe("x/y", mqttsn.QoS1, 2)
	c.send(&mqttsn.Disconnect{})
	expect[*mqttsn.Disconnect](c)
	if st := h.g.Stats(); st.Sessions != 1 || st.Clients["disconnected"] != 1 {
		t.Fatalf("persistent session not kept: %+v", st)
	}

	// CleanSession=false: the registration survives (§6.3).
	c.connect("cs", false, 60)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 3, Data: []byte("1")})
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.Accepted {
		t.Fatalf("PUBACK %v after reconnect without CleanSession", a.ReturnCode)
	}
	if p := h.b.nextPub(t); p.m.Topic != "a/b" {
		t.Fatal(p)
	}
	if !h.b.hasSub("cs", "x/y") {
		t.Fatal("subscription lost across a persistent reconnect")
	}

	// CleanSession=true: everything goes.
	c.connect("cs", true, 60)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 4, Data: []byte("2")})
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.RejectedInvalidTopicID {
		t.Fatalf("PUBACK %v after a clean reconnect, want invalid topic id", a.ReturnCode)
	}
	if h.b.hasSub("cs", "x/y") {
		t.Fatal("subscription kept across a clean reconnect")
	}
}

func TestPersistentSessionExpires(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.SessionExpiry = 10 * time.Minute })
	c := h.client()
	c.connect("p", false, 60)
	c.send(&mqttsn.Disconnect{})
	expect[*mqttsn.Disconnect](c)
	h.clk.Advance(9 * time.Minute)
	if st := h.g.Stats(); st.Sessions != 1 {
		t.Fatalf("%+v", st)
	}
	h.clk.Advance(2 * time.Minute)
	if st := h.g.Stats(); st.Sessions != 0 {
		t.Fatalf("expired session not reclaimed: %+v", st)
	}
}

func TestMaxClientsCongestion(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxClients = 1 })
	a, b := h.client(), h.client()
	a.connect("a", true, 60)
	b.send(&mqttsn.Connect{ClientID: []byte("b"), CleanSession: true, Duration: 60})
	if ack := expect[*mqttsn.Connack](b); ack.ReturnCode != mqttsn.RejectedCongestion {
		t.Fatalf("CONNACK %v beyond MaxClients, want congestion", ack.ReturnCode)
	}
	// The existing client may reconnect: it holds its slot.
	a.connect("a", true, 60)
	a.send(&mqttsn.Disconnect{})
	expect[*mqttsn.Disconnect](a)
	b.connect("b", true, 60)
}

func TestTakeOverFromAnotherAddress(t *testing.T) {
	h := newHarness(t, nil)
	old, nu := h.client(), h.client()
	old.connect("dev", false, 60)
	id := old.register("t/1", 1)
	nu.connect("dev", false, 60)
	expect[*mqttsn.Disconnect](old) // the old address is told
	old.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](old)
	// The session (with its registration) moved to the new address.
	nu.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 2})
	if a := expect[*mqttsn.Puback](nu); a.ReturnCode != mqttsn.Accepted {
		t.Fatal(a.ReturnCode)
	}
	h.b.nextPub(t)
	if st := h.g.Stats(); st.Sessions != 1 || st.Clients["active"] != 1 {
		t.Fatalf("%+v", st)
	}
}

func TestConnectWithBadProtocolID(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.sendRaw([]byte{0x08, 0x04, 0x04, 0x02, 0x00, 0x3C, 'a', 'b'})
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.RejectedNotSupported {
		t.Fatal(ack.ReturnCode)
	}
	if h.drops("malformed") != 1 {
		t.Fatal(h.g.Stats().Drops)
	}
}
