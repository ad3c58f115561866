package client

import (
	"bytes"
	"errors"
	"net"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// readLoop reads datagrams until Close. Each datagram is copied, so decoded
// messages handed to waiters and callbacks own their bytes.
func (c *Client) readLoop() {
	defer close(c.readerDone)
	buf := make([]byte, mqttsn.MaxLen)
	for {
		n, from, err := c.conn.ReadFrom(buf)
		if err != nil {
			if c.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			c.log.Debug("mqttsn read", "err", err)
			continue
		}
		c.stats.bytesReceived.Add(uint64(n))
		c.stats.datagramsReceived.Add(1)
		m, err := mqttsn.DecodeDatagram(bytes.Clone(buf[:n]))
		if err != nil {
			c.stats.malformed.Add(1)
			c.log.Debug("mqttsn malformed datagram", "from", from.String(), "err", err)
			continue
		}
		c.dispatch(m, from)
	}
}

func (c *Client) dispatch(m mqttsn.Message, from net.Addr) {
	fromGW := sameAddr(from, c.Gateway())
	c.log.Debug("mqttsn recv", "type", m.Type().String(), "from", from.String())
	if fromGW {
		c.mu.Lock()
		if c.wakeTimer != nil {
			c.wakeTimer.Reset(c.wakeInterval)
		}
		c.mu.Unlock()
	}
	// Broadcast traffic of discovery, from anyone (§6.1).
	switch m := m.(type) {
	case *mqttsn.Advertise:
		c.heardGateway(Gateway{ID: m.GWID, Addr: from, Interval: secs(m.Duration)}, true)
		return
	case *mqttsn.GWInfo:
		if !c.offer(m, from, fromGW) {
			c.heardGateway(Gateway{ID: m.GWID, Addr: from, GWAdd: m.GWAdd}, false)
		}
		return
	case *mqttsn.SearchGW:
		return // answering other clients' searches is optional (§6.1); we do not
	}
	if !fromGW && m.Type().IsReserved() && c.cfg.OnUnsolicited != nil {
		// Extension messages may come from elsewhere (another gateway during
		// a handover): the application decides.
		f := c.cfg.OnUnsolicited
		c.queue.push(func() { f(m, from) })
		return
	}
	if !fromGW {
		c.stats.ignored.Add(1)
		c.log.Debug("mqttsn datagram from a stranger ignored", "type", m.Type().String(), "from", from.String())
		return
	}
	// Answers to pending requests first (only types that answer something).
	switch m.(type) {
	case *mqttsn.Publish, *mqttsn.Pubrel, *mqttsn.Register, *mqttsn.Pingreq:
	default:
		if c.offer(m, from, true) {
			return
		}
	}
	switch m := m.(type) {
	case *mqttsn.Publish:
		c.onPublish(m)
	case *mqttsn.Pubrel: // §6.6 QoS 2, receiver side
		c.mu.Lock()
		delete(c.qos2In, m.MsgID)
		c.mu.Unlock()
		c.reply(&mqttsn.Pubcomp{MsgID: m.MsgID})
	case *mqttsn.Register: // §6.10: the gateway announces a topic id
		rc := mqttsn.Accepted
		if m.TopicID == 0 || m.TopicID == 0xFFFF {
			rc = mqttsn.RejectedInvalidTopicID
		} else {
			c.mu.Lock()
			c.topicByID[m.TopicID] = string(m.TopicName)
			c.topicByName[string(m.TopicName)] = m.TopicID
			c.mu.Unlock()
		}
		c.reply(&mqttsn.Regack{TopicID: m.TopicID, MsgID: m.MsgID, ReturnCode: rc})
	case *mqttsn.Pingreq: // §6.11: the gateway checks on us
		c.reply(&mqttsn.Pingresp{})
	case *mqttsn.Disconnect: // §6.12: unsolicited DISCONNECT
		c.mu.Lock()
		was := c.state
		if was == StateConnecting {
			// Not an answer to CONNECT: that is CONNACK with a return code,
			// a refusal included (§5.4.5, §6.2). A DISCONNECT now is a
			// leftover of an earlier exchange with this gateway (its answer
			// to a PUBLISH or PINGREQ that reached it before our CONNECT, as
			// from a client it did not know). Connect keeps waiting under
			// its Tretry/Nretry rules, an admission challenge included.
			c.mu.Unlock()
			c.stats.ignored.Add(1)
			c.log.Debug("mqttsn DISCONNECT while connecting ignored", "from", from.String())
			return
		}
		if was == StateActive || was == StateAwake || was == StateAsleep {
			c.state = StateLost
			if c.kaTimer != nil {
				c.kaTimer.Stop()
			}
		}
		c.mu.Unlock()
		c.failWaiters(ErrDisconnected)
		if f := c.cfg.OnDisconnect; f != nil && was != StateDisconnected && was != StateLost {
			c.queue.push(func() { f(ErrDisconnected) })
		}
	default:
		if m.Type().IsReserved() { // extension or unknown message nobody waits for
			if f := c.cfg.OnUnsolicited; f != nil {
				c.queue.push(func() { f(m, from) })
				return
			}
		}
		c.stats.ignored.Add(1)
		c.log.Debug("mqttsn unexpected message ignored", "type", m.Type().String())
	}
}

// reply sends an answer; a failure is only logged (the peer will retransmit).
func (c *Client) reply(m mqttsn.Message) {
	if err := c.send(m); err != nil {
		c.log.Debug("mqttsn reply failed", "type", m.Type().String(), "err", err)
	}
}
