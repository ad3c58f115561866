package gateway

import (
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Deliver hands the gateway a message the broker routes to clientID. It has
// the shape of broker.DeliverFunc: build the broker adapter with a
// DeliverFunc that calls it. It never blocks on the network or the broker:
// the message joins the client's bounded queue (MaxBuffered) and is sent as
// far as the client's state, in-flight window and topic registration allow.
// The gateway keeps m.Payload.
func (g *Gateway) Deliver(clientID string, m broker.Message) {
	defer g.storeSync() // with a Store: delivered means written
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	s := g.byID[clientID]
	if s == nil {
		g.m.drop(dropNoSession)
		return
	}
	if m.QoS > 2 {
		m.QoS = 2
	}
	if len(s.queue) >= g.cfg.MaxBuffered {
		key := peerKey{}
		if s.peer != nil {
			key = s.peer.key
		}
		g.dropf(dropQueueFull, key, "client queue full", "client", s.id, "topic", m.Topic)
		return
	}
	s.queue = append(s.queue, queuedMsg{m: m})
	g.touch(s)
	g.pump(s)
}

// pump sends what s's state allows from its queue (MQTT-SN v1.2 §6.10): a
// topic the client does not know is REGISTERed first and the queue waits for
// the REGACK; QoS 1/2 messages wait for room in the in-flight window. An
// awake sleeping client gets PINGRESP once everything is delivered and
// acknowledged, and goes back to sleep (§6.14). Call with g.mu held.
func (g *Gateway) pump(s *session) {
	if s.peer == nil || (s.state != stateActive && s.state != stateAwake) || s.subscribing > 0 {
		return
	}
	for len(s.queue) > 0 && s.reg == nil {
		q := &s.queue[0]
		tt, id, reg, ok := g.outTopic(s, q.m.Topic)
		if !ok {
			s.popQueue()
			continue
		}
		if reg != nil {
			r := mqttsn.Register{TopicID: reg.id, MsgID: s.nextID(), TopicName: []byte(q.m.Topic)}
			if r.Len() > g.cfg.MaxDatagram {
				g.dropf(dropTooLarge, s.peer.key, "topic name too long to REGISTER", "topic", q.m.Topic)
				s.popQueue()
				continue
			}
			s.reg = &outReg{name: q.m.Topic, topicID: reg.id, msgID: r.MsgID, sentAt: g.clk.Now()}
			g.armRetry(s)
			g.send(s.peer, &r)
			return
		}
		if q.m.QoS > 0 && len(s.inflight) >= g.cfg.MaxInflight {
			return
		}
		o := outMsg{m: q.m, topicID: id, tt: tt, requeued: q.requeued}
		s.popQueue()
		if o.m.QoS == 0 {
			g.sendOut(s, &o, false)
			continue
		}
		o.msgID = s.nextID()
		o.phase = awaitPuback
		if o.m.QoS == 2 {
			o.phase = awaitPubrec
		}
		o.sentAt = g.clk.Now()
		s.inflight = append(s.inflight, o)
		g.armRetry(s)
		g.sendOut(s, &o, false)
	}
	if s.state == stateAwake && len(s.queue) == 0 && len(s.inflight) == 0 && s.reg == nil {
		// §6.14: PINGRESP closes the transfer; the client is asleep again.
		s.lastSeen = g.clk.Now()
		stopTimer(s.retry)
		g.setState(s, stateAsleep)
		g.armSupervision(s)
		g.send(s.peer, &mqttsn.Pingresp{})
	}
}

func (s *session) popQueue() {
	s.queue[0] = queuedMsg{}
	s.queue = s.queue[1:]
	if len(s.queue) == 0 {
		s.queue = nil
	}
}

// outTopic chooses how to name topic in a PUBLISH to s: a normal topic id
// the client knows, else a pre-defined id, else a short topic name (two
// characters), else a normal id that must be REGISTERed first (reg != nil).
// ok is false when the message must be dropped.
func (g *Gateway) outTopic(s *session, topic string) (tt mqttsn.TopicIDType, id uint16, reg *topicEntry, ok bool) {
	e := s.topics.lookupName(topic)
	if e != nil {
		if e.rejected {
			g.dropf(dropRegisterRejected, s.peer.key, "client refused this topic", "topic", topic)
			return 0, 0, nil, false
		}
		if e.known {
			return mqttsn.TopicIDNormal, e.id, nil, true
		}
	}
	if pid, found := g.predefByName[topic]; found {
		return mqttsn.TopicIDPredefined, pid, nil, true
	}
	if sid, short := mqttsn.ShortTopicID(topic); short {
		return mqttsn.TopicIDShort, sid, nil, true
	}
	if e == nil {
		if e = s.topics.register(topic, g.cfg.MaxTopicsPerClient); e == nil {
			g.dropf(dropCongestion, s.peer.key, "client topic registry full", "topic", topic)
			return 0, 0, nil, false
		}
	}
	return mqttsn.TopicIDNormal, e.id, e, true
}

// sessionFor returns the session bound to the sender if it is in one of the
// allowed states; otherwise it answers the sender and returns nil. A client
// without a session is told to connect again with DISCONNECT (§6.12).
// Call with g.mu held.
func (g *Gateway) sessionFor(in *inbound, what string, awakeOK bool) *session {
	s := g.byAddr[in.key]
	if s == nil {
		g.unknownClient(in, what)
		return nil
	}
	switch s.state {
	case stateActive:
	case stateAwake:
		if !awakeOK {
			g.dropf(dropIllegalState, in.key, what+" from an awake client", "client", s.id)
			return nil
		}
	default:
		g.dropf(dropIllegalState, in.key, what+" from a client that is "+s.state.String(), "client", s.id)
		return nil
	}
	s.lastSeen = g.clk.Now()
	g.touch(s)
	return s
}

// onPuback completes a QoS 1 PUBLISH to the client, or handles the client's
// refusal (§5.4.13, §6.10).
func (g *Gateway) onPuback(in *inbound, m *mqttsn.Puback) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "PUBACK", true)
	if s == nil {
		return
	}
	i := s.findInflight(m.MsgID)
	if i < 0 {
		if m.ReturnCode == mqttsn.RejectedInvalidTopicID {
			// A QoS 0 PUBLISH with an id the client does not know: register
			// again next time (§6.10).
			if e := s.topics.lookupID(m.TopicID); e != nil {
				e.known = false
			}
			return
		}
		g.dropf(dropUnknownAck, in.key, "PUBACK for nothing outstanding", "msgid", m.MsgID)
		return
	}
	o := s.inflight[i]
	s.removeInflight(i)
	switch m.ReturnCode {
	case mqttsn.Accepted:
	case mqttsn.RejectedInvalidTopicID:
		if o.tt == mqttsn.TopicIDNormal {
			if e := s.topics.lookupID(o.topicID); e != nil {
				e.known = false
			}
			if !o.requeued {
				// Register the topic again and resend, once.
				s.queue = append([]queuedMsg{{m: o.m, requeued: true}}, s.queue...)
				break
			}
		}
		g.dropf(dropPublishRejected, in.key, "client refused PUBLISH", "code", m.ReturnCode, "topic", o.m.Topic)
	default:
		g.dropf(dropPublishRejected, in.key, "client refused PUBLISH", "code", m.ReturnCode, "topic", o.m.Topic)
	}
	g.armRetry(s)
	g.pump(s)
}

// onPubrec moves a QoS 2 PUBLISH to the client on to PUBREL (§5.4.14).
func (g *Gateway) onPubrec(in *inbound, id uint16) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "PUBREC", true)
	if s == nil {
		return
	}
	i := s.findInflight(id)
	if i < 0 || s.inflight[i].phase == awaitPuback {
		g.dropf(dropUnknownAck, in.key, "PUBREC for nothing outstanding", "msgid", id)
		g.send(s.peer, &mqttsn.Pubrel{MsgID: id}) // let the client finish its side
		return
	}
	o := &s.inflight[i]
	o.phase = awaitPubcomp
	o.m.Payload = nil // delivered; only the PUBREL remains
	o.retries, o.sentAt = 0, g.clk.Now()
	g.armRetry(s)
	g.sendOut(s, o, false)
}

// onPubcomp completes a QoS 2 PUBLISH to the client.
func (g *Gateway) onPubcomp(in *inbound, id uint16) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "PUBCOMP", true)
	if s == nil {
		return
	}
	i := s.findInflight(id)
	if i < 0 || s.inflight[i].phase != awaitPubcomp {
		g.dropf(dropUnknownAck, in.key, "PUBCOMP for nothing outstanding", "msgid", id)
		return
	}
	s.removeInflight(i)
	g.armRetry(s)
	g.pump(s)
}

// onRegack completes a gateway REGISTER (§5.4.11, §6.10). A refusal counts as
// an unsubscribe from that topic name: its messages are dropped.
func (g *Gateway) onRegack(in *inbound, m *mqttsn.Regack) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "REGACK", true)
	if s == nil {
		return
	}
	r := s.reg
	if r == nil || r.msgID != m.MsgID {
		g.dropf(dropUnknownAck, in.key, "REGACK for nothing outstanding", "msgid", m.MsgID)
		return
	}
	s.reg = nil
	if e := s.topics.lookupName(r.name); e != nil {
		if m.ReturnCode == mqttsn.Accepted {
			e.known = true
		} else {
			e.rejected = true
			g.dropf(dropRegisterRejected, in.key, "client refused REGISTER", "topic", r.name, "code", m.ReturnCode)
		}
	}
	g.armRetry(s)
	g.pump(s)
}
