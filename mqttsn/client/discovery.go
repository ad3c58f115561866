package client

import (
	"context"
	"net"
	"sort"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// SearchGW broadcasts SEARCHGW with the given radius to addr (a broadcast or
// multicast address, or a known gateway) and returns the first gateway that
// answers with GWINFO (§6.1). Unanswered searches are repeated with
// exponentially growing intervals, Nretry times. The gateway is remembered
// (Gateways) but not selected: call SetGateway(gw.Addr) to use it.
func (c *Client) SearchGW(ctx context.Context, addr net.Addr, radius uint8) (Gateway, error) {
	r, err := c.transact(ctx, &mqttsn.SearchGW{Radius: radius}, func(m mqttsn.Message, _ net.Addr) bool {
		return m.Type() == mqttsn.TypeGWInfo
	}, txOpts{to: addr, anyAddr: true, backoff: true})
	if err != nil {
		return Gateway{}, err
	}
	info := r.m.(*mqttsn.GWInfo)
	gw := Gateway{ID: info.GWID, Addr: r.from, GWAdd: info.GWAdd}
	c.heardGateway(gw, false)
	return gw, nil
}

// Gateways lists the gateways heard through ADVERTISE and GWINFO, by id.
func (c *Client) Gateways() []Gateway {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Gateway, 0, len(c.gateways))
	for _, g := range c.gateways {
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (c *Client) heardGateway(g Gateway, advertise bool) {
	g.LastSeen = c.clk.Now()
	c.mu.Lock()
	if old, ok := c.gateways[g.ID]; ok && !advertise {
		g.Interval = old.Interval
	}
	c.gateways[g.ID] = g
	c.mu.Unlock()
	if f := c.cfg.OnAdvertise; advertise && f != nil {
		c.queue.push(func() { f(g) })
	}
}
