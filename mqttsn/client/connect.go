package client

import (
	"context"
	"net"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func secs(d uint16) time.Duration { return time.Duration(d) * time.Second }

func durationField(d time.Duration) uint16 {
	s := (d + time.Second - 1) / time.Second
	if s > 0xFFFF {
		s = 0xFFFF
	}
	if s < 0 {
		s = 0
	}
	return uint16(s)
}

// Connect sets up a connection (§6.2): CONNECT, then WILLTOPIC and WILLMSG
// when the gateway asks for them (Config.Will set), until CONNACK. A
// rejection comes back as an mqttsn.ReturnCode error. Connect also returns
// a sleeping client to the active state (§6.14). Topic registrations of an
// earlier connection are forgotten. A DISCONNECT from the gateway while
// Connect waits is not an answer to CONNECT (§5.4.5, §6.2): it is counted in
// Stats.Ignored and Connect keeps waiting for CONNACK (and, with the Trusted
// System, through the admission challenge) under the usual Tretry/Nretry.
func (c *Client) Connect(ctx context.Context) error {
	c.mu.Lock()
	c.state = StateConnecting
	c.topicByName = map[string]uint16{}
	c.topicByID = map[uint16]string{}
	if c.cfg.CleanSession {
		c.qos2In = map[uint16]struct{}{}
	}
	c.mu.Unlock()
	will := c.cfg.Will
	var req mqttsn.Message = &mqttsn.Connect{
		Will: will != nil, CleanSession: c.cfg.CleanSession,
		Duration: durationField(c.cfg.KeepAlive), ClientID: []byte(c.cfg.ClientID),
	}
	match := func(m mqttsn.Message, _ net.Addr) bool {
		switch m.Type() {
		case mqttsn.TypeConnack, mqttsn.TypeWillTopicReq, mqttsn.TypeWillMsgReq:
			return true
		}
		return false
	}
	for {
		r, err := c.transact(ctx, req, match, txOpts{})
		if err != nil {
			c.setStateIf(StateConnecting, StateDisconnected)
			return err
		}
		switch m := r.m.(type) {
		case *mqttsn.WillTopicReq:
			if will == nil {
				req = &mqttsn.WillTopic{} // nothing to give: the empty form (§5.4.7)
			} else {
				req = &mqttsn.WillTopic{QoS: will.QoS, Retain: will.Retain, Topic: []byte(will.Topic)}
			}
		case *mqttsn.WillMsgReq:
			var msg []byte
			if will != nil {
				msg = will.Message
			}
			req = &mqttsn.WillMsg{Msg: msg}
		case *mqttsn.Connack:
			if err := m.ReturnCode.Err(); err != nil {
				c.setStateIf(StateConnecting, StateDisconnected)
				return err
			}
			c.mu.Lock()
			c.state = StateActive
			c.armKeepAliveLocked()
			c.mu.Unlock()
			return nil
		}
	}
}

func (c *Client) setStateIf(from, to State) {
	c.mu.Lock()
	if c.state == from {
		c.state = to
	}
	c.mu.Unlock()
}

// Disconnect ends the connection (§6.12): DISCONNECT, answered by DISCONNECT.
// The client is disconnected afterwards even when the gateway does not answer.
func (c *Client) Disconnect(ctx context.Context) error {
	_, err := c.transact(ctx, &mqttsn.Disconnect{}, expect(mqttsn.TypeDisconnect, -1), txOpts{})
	c.mu.Lock()
	c.state = StateDisconnected
	c.stopKeepAliveLocked()
	c.mu.Unlock()
	return err
}

// Sleep puts the client to sleep for d (§6.14): DISCONNECT with a duration,
// acknowledged by DISCONNECT. The gateway buffers messages for it; Wake
// collects them, Connect makes it active again.
func (c *Client) Sleep(ctx context.Context, d time.Duration) error {
	st := c.State()
	if st != StateActive && st != StateAsleep {
		return ErrNotConnected
	}
	_, err := c.transact(ctx, &mqttsn.Disconnect{HasDuration: true, Duration: durationField(d)},
		expect(mqttsn.TypeDisconnect, -1), txOpts{lostOnTimeout: st == StateActive})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.state = StateAsleep
	c.stopKeepAliveLocked()
	c.mu.Unlock()
	return nil
}

// Wake checks for messages buffered while asleep (§6.14): PINGREQ with the
// client id; the gateway sends what it buffered, then PINGRESP. Tretry
// restarts on every message received meanwhile. Wake returns after PINGRESP,
// once OnPublish has run for every buffered message; the client is asleep
// again. On ErrTimeout the client stays asleep, as the spec advises.
func (c *Client) Wake(ctx context.Context) error {
	c.mu.Lock()
	if c.state != StateAsleep {
		c.mu.Unlock()
		return ErrNotConnected
	}
	c.state = StateAwake
	c.mu.Unlock()
	if err := c.acquire(ctx, c.pingSem); err != nil {
		c.setStateIf(StateAwake, StateAsleep)
		return err
	}
	defer release(c.pingSem)
	_, err := c.transact(ctx, &mqttsn.Pingreq{ClientID: []byte(c.cfg.ClientID)},
		expect(mqttsn.TypePingresp, -1), txOpts{resetOnActivity: true})
	c.setStateIf(StateAwake, StateAsleep)
	if err != nil {
		return err
	}
	return c.flushCallbacks(ctx)
}

// flushCallbacks waits until every callback queued so far has run.
func (c *Client) flushCallbacks(ctx context.Context) error {
	done := make(chan struct{})
	c.queue.push(func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return ErrClosed
	}
}

// Ping sends PINGREQ and waits for PINGRESP (§6.11). Unanswered, the
// connection is considered lost.
func (c *Client) Ping(ctx context.Context) error {
	if c.State() != StateActive {
		return ErrNotConnected
	}
	if err := c.acquire(ctx, c.pingSem); err != nil {
		return err
	}
	defer release(c.pingSem)
	_, err := c.transact(ctx, &mqttsn.Pingreq{}, expect(mqttsn.TypePingresp, -1), txOpts{lostOnTimeout: true})
	return err
}

// armKeepAliveLocked starts the keep-alive timer; send resets it (c.mu held).
func (c *Client) armKeepAliveLocked() {
	if c.cfg.KeepAlive <= 0 {
		return
	}
	if c.kaTimer == nil {
		c.kaTimer = c.clk.AfterFunc(c.cfg.KeepAlive, func() {
			select {
			case c.kaTick <- struct{}{}:
			default:
			}
		})
		return
	}
	c.kaTimer.Reset(c.cfg.KeepAlive)
}

func (c *Client) stopKeepAliveLocked() {
	if c.kaTimer != nil {
		c.kaTimer.Stop()
	}
}

// keepAliveLoop pings when the keep-alive timer fires (nothing was sent for
// KeepAlive), and re-arms the timer.
func (c *Client) keepAliveLoop() {
	defer close(c.kaDone)
	for {
		select {
		case <-c.ctx.Done():
			return
		case <-c.kaTick:
			if c.State() != StateActive {
				continue
			}
			if err := c.Ping(c.ctx); err != nil {
				c.log.Debug("mqttsn keep-alive ping failed", "err", err)
				continue
			}
			c.mu.Lock()
			if c.state == StateActive {
				c.armKeepAliveLocked()
			}
			c.mu.Unlock()
		}
	}
}
