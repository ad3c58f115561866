package gateway

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// e2e is a gateway in front of the embedded mochi broker, whose TCP
// listener ordinary MQTT clients use.
type e2e struct {
	g    *Gateway
	e    *broker.Embedded
	clk  *clock.Virtual
	addr *net.UDPAddr
}

func newE2E(t testing.TB, mod func(*Config)) *e2e {
	t.Helper()
	var g *Gateway
	e, err := broker.NewEmbedded(broker.EmbeddedConfig{
		TCPAddr: "127.0.0.1:0",
		Deliver: func(id string, m broker.Message) { g.Deliver(id, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	x := &e2e{e: e, clk: clock.NewVirtual(epoch0)}
	cfg := Config{Clock: x.clk, Registerer: prometheus.NewRegistry(), PredefinedTopics: map[uint16]string{1: "ward/1/alarm"}}
	if mod != nil {
		mod(&cfg)
	}
	g, err = New(cfg, e)
	if err != nil {
		t.Fatal(err)
	}
	x.g = g
	h := &harness{t: t, g: g}
	x.addr = h.serve("udp4", "127.0.0.1:0")
	return x
}

// mqttSub is an ordinary MQTT v5 client (paho.golang) on the broker's TCP port.
type mqttSub struct {
	*paho.Client
	recv chan *paho.Publish
}

func dialMQTT(t testing.TB, addr, id string) *mqttSub {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, waitFor)
	if err != nil {
		t.Fatal(err)
	}
	mc := &mqttSub{recv: make(chan *paho.Publish, 100000)}
	mc.Client = paho.NewClient(paho.ClientConfig{
		Conn: conn,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){
			func(pr paho.PublishReceived) (bool, error) { mc.recv <- pr.Packet; return true, nil },
		},
	})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := mc.Connect(ctx, &paho.Connect{ClientID: id, CleanStart: true, KeepAlive: 60}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(&paho.Disconnect{}); <-mc.Done() })
	return mc
}

func (mc *mqttSub) subscribe(t testing.TB, filter string, qos byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := mc.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}}); err != nil {
		t.Fatal(err)
	}
}

func (mc *mqttSub) publish(t testing.TB, topic, payload string, qos byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := mc.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: qos}); err != nil {
		t.Fatal(err)
	}
}

func (mc *mqttSub) next(t testing.TB) *paho.Publish {
	t.Helper()
	select {
	case p := <-mc.recv:
		return p
	case <-time.After(waitFor):
		t.Fatal("MQTT subscriber received nothing")
		return nil
	}
}

func TestEndToEndEmbedded(t *testing.T) {
	x := newE2E(t, nil)
	mon := dialMQTT(t, x.e.TCPAddr(), "monitor")
	mon.subscribe(t, "ward/#", 2)

	// MQTT-SN → MQTT, QoS 1, a registered topic.
	c := newClient(t, x.addr)
	c.connect("z1-node", true, 60)
	id := c.register("ward/3/hr", 1)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 2, Data: []byte("72")})
	expect[*mqttsn.Puback](c)
	if p := mon.next(t); p.Topic != "ward/3/hr" || string(p.Payload) != "72" || p.QoS != 1 {
		t.Fatalf("%+v", p)
	}
	// QoS -1 and a pre-defined topic, without connecting.
	q := newClient(t, x.addr)
	q.send(&mqttsn.Publish{QoS: mqttsn.QoSMinus1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 1, Data: []byte("alarm")})
	if p := mon.next(t); p.Topic != "ward/1/alarm" || string(p.Payload) != "alarm" {
		t.Fatalf("%+v", p)
	}
	// QoS 2 exactly once, with a duplicate PUBLISH in between.
	pub := &mqttsn.Publish{QoS: mqttsn.QoS2, TopicID: id, MsgID: 3, Data: []byte("once")}
	c.send(pub)
	expect[*mqttsn.Pubrec](c)
	pub.DUP = true
	c.send(pub)
	expect[*mqttsn.Pubrec](c)
	c.send(&mqttsn.Pubrel{MsgID: 3})
	expect[*mqttsn.Pubcomp](c)
	if p := mon.next(t); string(p.Payload) != "once" || p.QoS != 2 {
		t.Fatalf("%+v", p)
	}
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 4, Data: []byte("sentinel")})
	expect[*mqttsn.Puback](c)
	if p := mon.next(t); string(p.Payload) != "sentinel" {
		t.Fatalf("QoS 2 delivered twice: got %q", p.Payload)
	}

	// MQTT → MQTT-SN: a short topic and a wildcard subscription.
	sid, _ := mqttsn.ShortTopicID("bp")
	c.send(&mqttsn.Subscribe{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDShort, TopicID: sid, MsgID: 5})
	expect[*mqttsn.Suback](c)
	mon.publish(t, "bp", "120/80", 1)
	p := expect[*mqttsn.Publish](c)
	if p.TopicIDType != mqttsn.TopicIDShort || p.TopicID != sid || string(p.Data) != "120/80" {
		t.Fatalf("%+v", p)
	}
	c.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID})
	c.subscribe("cmd/+", mqttsn.QoS1, 6)
	mon.publish(t, "cmd/z1-node", "calibrate", 1)
	reg := expect[*mqttsn.Register](c)
	c.send(&mqttsn.Regack{TopicID: reg.TopicID, MsgID: reg.MsgID})
	if p := expect[*mqttsn.Publish](c); string(p.Data) != "calibrate" || p.TopicID != reg.TopicID {
		t.Fatalf("%+v", p)
	}
}

func TestEndToEndSleepAndWill(t *testing.T) {
	x := newE2E(t, nil)
	mon := dialMQTT(t, x.e.TCPAddr(), "monitor")
	mon.subscribe(t, "#", 1)

	c := newClient(t, x.addr)
	c.send(&mqttsn.Connect{ClientID: []byte("sleeper"), Will: true, Duration: 20})
	expect[*mqttsn.WillTopicReq](c)
	c.send(&mqttsn.WillTopic{QoS: mqttsn.QoS1, Topic: []byte("status/sleeper")})
	expect[*mqttsn.WillMsgReq](c)
	c.send(&mqttsn.WillMsg{Msg: []byte("lost")})
	expect[*mqttsn.Connack](c)
	ack := c.subscribe("to/sleeper", mqttsn.QoS1, 1)
	c.send(&mqttsn.Disconnect{HasDuration: true, Duration: 60})
	expect[*mqttsn.Disconnect](c)

	mon.publish(t, "to/sleeper", "dose 1", 1)
	mon.publish(t, "to/sleeper", "dose 2", 1)
	if p := mon.next(t); p.Topic != "to/sleeper" { // the monitor sees its own publishes
		t.Fatal(p.Topic)
	}
	mon.next(t)
	c.send(&mqttsn.Pingreq{ClientID: []byte("sleeper")})
	for _, want := range []string{"dose 1", "dose 2"} {
		p := expect[*mqttsn.Publish](c)
		if string(p.Data) != want || p.TopicID != ack.TopicID {
			t.Fatalf("%+v", p)
		}
		c.send(&mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID})
	}
	expect[*mqttsn.Pingresp](c)

	// Oversleeping: the will reaches the MQTT side.
	x.clk.Advance(91 * time.Second)
	if p := mon.next(t); p.Topic != "status/sleeper" || string(p.Payload) != "lost" {
		t.Fatalf("%+v", p)
	}
}
