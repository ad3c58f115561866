package gateway

import (
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Gateway advertisement and discovery (MQTT-SN v1.2 §6.1). The gateway
// advertises, and answers SEARCHGW, only while its broker is connected.

// onSearchGW answers SEARCHGW with GWINFO, to the searching client.
func (g *Gateway) onSearchGW(in *inbound, m *mqttsn.SearchGW) {
	if g.broker.State() != broker.StateConnected {
		return
	}
	g.reply(in, &mqttsn.GWInfo{GWID: g.cfg.GatewayID})
}

// startAdvertising starts the ADVERTISE timer once. Call with g.mu held.
func (g *Gateway) startAdvertising() {
	if g.advTimer != nil || g.cfg.AdvertiseInterval < 0 || len(g.cfg.AdvertiseAddrs) == 0 {
		return
	}
	g.advTimer = g.clk.AfterFunc(0, g.advertise)
}

func (g *Gateway) advertise() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.advTimer.Reset(g.cfg.AdvertiseInterval)
	if g.broker.State() != broker.StateConnected {
		return
	}
	secs := g.cfg.AdvertiseInterval / time.Second
	if secs > 0xFFFF {
		secs = 0xFFFF
	}
	adv := mqttsn.Advertise{GWID: g.cfg.GatewayID, Duration: uint16(secs)}
	b, _ := adv.AppendBinary(g.wbuf[:0])
	for _, c := range g.conns {
		for _, a := range g.cfg.AdvertiseAddrs {
			if _, err := c.pc.WriteTo(b, a); err != nil {
				// A conn of another address family, or a mesh conn that does
				// not take this address: not an error worth more than debug.
				g.log.Debug("advertise not sent", "to", a.String(), "err", err)
				continue
			}
			g.m.countOut(byte(mqttsn.TypeAdvertise), 0)
		}
	}
}
