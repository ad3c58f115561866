package gateway

import (
	"net"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestAdvertise(t *testing.T) {
	sink, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	h := newHarness(t, func(c *Config) {
		c.GatewayID = 42
		c.AdvertiseInterval = 15 * time.Minute
		c.AdvertiseAddrs = []net.Addr{sink.LocalAddr()}
	})
	rx := &client{t: t, conn: sink, gw: h.addr, buf: make([]byte, 512)}
	h.clk.Advance(0) // the first ADVERTISE goes out at once
	for i := 0; i < 2; i++ {
		a := expect[*mqttsn.Advertise](rx)
		if a.GWID != 42 || a.Duration != 900 {
			t.Fatalf("ADVERTISE %+v", a)
		}
		h.clk.Advance(15 * time.Minute)
	}
	expect[*mqttsn.Advertise](rx) // the one at 30 min
	// §6.1: no advertising while the broker is unreachable.
	out := h.g.Stats().MessagesOut
	h.b.state.Store(int32(broker.StateDisconnected))
	h.clk.Advance(15 * time.Minute)
	if got := h.g.Stats().MessagesOut; got != out {
		t.Fatalf("advertised without a broker (%d messages out, was %d)", got, out)
	}
}

func TestSearchGW(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.GatewayID = 7 })
	c := h.client()
	c.send(&mqttsn.SearchGW{Radius: 1})
	if gi := expect[*mqttsn.GWInfo](c); gi.GWID != 7 || len(gi.GWAdd) != 0 {
		t.Fatalf("GWINFO %+v", gi)
	}
	h.b.state.Store(int32(broker.StateDisconnected))
	c.send(&mqttsn.SearchGW{Radius: 1})
	c.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](c) // no GWINFO came first
}

// One gateway serves an IPv6 and an IPv4 socket at once; clients on each
// reach each other through the broker.
func TestServeIPv6AndIPv4(t *testing.T) {
	h := newHarnessOn(t, "udp6", "[::1]:0", nil)
	v4 := h.serve("udp4", "127.0.0.1:0")
	sub := h.client()
	pub := newClient(t, v4)
	sub.connect("v6", true, 60)
	sub.subscribe("dual/t", mqttsn.QoS0, 1)
	pub.connect("v4", true, 60)
	id := pub.register("dual/t", 1)
	pub.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 2, Data: []byte("x")})
	expect[*mqttsn.Puback](pub)
	if p := expect[*mqttsn.Publish](sub); string(p.Data) != "x" {
		t.Fatal(p)
	}
}
