package client

import (
	"context"
	"net"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Send sends any message to the gateway without waiting for an answer, e.g.
// an extension message (mqttsn/ts_*.go, mqttsn/peer_*.go).
func (c *Client) Send(m mqttsn.Message) error { return c.send(m) }

// Request sends m to the gateway and returns the first message from the
// gateway for which match returns true, retransmitting m every Tretry, at
// most Nretry times (then ErrTimeout). It works in any state; a timeout does
// not end the connection. Messages match sees are the client's own copies.
// Extension messages that no Request is waiting for go to
// Config.OnUnsolicited.
func (c *Client) Request(ctx context.Context, m mqttsn.Message, match func(mqttsn.Message) bool) (mqttsn.Message, error) {
	r, err := c.transact(ctx, m, func(m mqttsn.Message, _ net.Addr) bool { return match(m) }, txOpts{})
	if err != nil {
		return nil, err
	}
	return r.m, nil
}
