package gateway

import (
	"context"
	"errors"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Client → gateway publishing (MQTT-SN v1.2 §6.6, §6.8). A QoS 1/2 PUBLISH is
// acknowledged (PUBACK, PUBREC) only after broker.Publish accepted it, so
// nothing acknowledged is lost; a busy broker is answered with PUBACK
// "rejected: congestion". QoS 2 is exactly once: the msg id is remembered
// from the publish until PUBREL, and a duplicate PUBLISH in between is
// answered with PUBREC again without publishing.

// inTopic resolves the topic of a client PUBLISH.
func (g *Gateway) inTopic(s *session, tt mqttsn.TopicIDType, id uint16) (string, mqttsn.ReturnCode) {
	switch tt {
	case mqttsn.TopicIDNormal:
		if s != nil {
			if e := s.topics.lookupID(id); e != nil {
				return e.name, mqttsn.Accepted
			}
		}
		return "", mqttsn.RejectedInvalidTopicID
	case mqttsn.TopicIDPredefined:
		if name, ok := g.cfg.PredefinedTopics[id]; ok {
			return name, mqttsn.Accepted
		}
		return "", mqttsn.RejectedInvalidTopicID // §6.7
	case mqttsn.TopicIDShort:
		name := mqttsn.ShortTopicName(id)
		if !validTopicName(name) {
			return "", mqttsn.RejectedNotSupported // wildcards cannot be published to
		}
		return name, mqttsn.Accepted
	}
	return "", mqttsn.RejectedNotSupported
}

func (g *Gateway) onPublish(in *inbound, m *mqttsn.Publish) {
	if m.QoS == mqttsn.QoSMinus1 {
		g.publishMinus1(in, m)
		return
	}
	g.mu.Lock()
	s := g.sessionFor(in, "PUBLISH", false)
	if s == nil {
		g.mu.Unlock()
		return
	}
	topic, rc := g.inTopic(s, m.TopicIDType, m.TopicID)
	if rc != mqttsn.Accepted {
		// §6.6: regardless of QoS the client learns the topic id is invalid.
		g.dropf(dropInvalidTopic, in.key, "PUBLISH to an unknown topic", "topicid", m.TopicID, "type", m.TopicIDType)
		g.send(s.peer, &mqttsn.Puback{TopicID: m.TopicID, MsgID: m.MsgID, ReturnCode: rc})
		g.mu.Unlock()
		return
	}
	msg := broker.Message{Topic: topic, Payload: m.Data, QoS: byte(m.QoS), Retain: m.Retain}
	if m.QoS == mqttsn.QoS0 {
		// The payload aliases the read buffer: the broker adapters copy
		// what they keep (mochi's inject, paho's outage queue), so a QoS 0
		// publish is copied once, by the adapter.
		id, p := s.id, s.peer
		g.mu.Unlock()
		if err := g.broker.Publish(g.ctx, id, msg); err != nil {
			g.publishFailed(p, m.TopicID, m.MsgID, err)
		}
		return
	}
	defer g.mu.Unlock()
	if m.QoS == mqttsn.QoS2 && containsID(s.inQoS2, m.MsgID) {
		// Published already, PUBREC lost: acknowledge again, publish nothing.
		g.send(s.peer, &mqttsn.Pubrec{MsgID: m.MsgID})
		return
	}
	if containsID(s.inBusy, m.MsgID) {
		return // a retransmission of a publish still with the broker
	}
	if len(s.inBusy)+len(s.inQoS2) >= g.cfg.MaxInflight {
		g.dropf(dropCongestion, in.key, "client in-flight window full", "client", s.id)
		g.send(s.peer, &mqttsn.Puback{TopicID: m.TopicID, MsgID: m.MsgID, ReturnCode: mqttsn.RejectedCongestion})
		return
	}
	s.inBusy = append(s.inBusy, m.MsgID)
	id, p, topicID, msgID, epoch := s.id, s.peer, m.TopicID, m.MsgID, s.epoch
	if g.inlinePub {
		// A broker whose Publish never waits on the network is called on
		// the reading goroutine, without a hand-off (pool.go); the payload
		// stays aliased (the adapter copies it).
		g.mu.Unlock()
		err := g.broker.Publish(g.ctx, id, msg)
		g.publishDone(s, epoch, p, topicID, msgID, msg.QoS, err)
		g.mu.Lock() // for the deferred Unlock
		return
	}
	msg.Payload = append([]byte(nil), m.Data...) // the call outlives the read buffer
	attaching := g.lifecyclePending(id)
	if !g.goAnswering(func(ctx context.Context, answered func()) {
		// A session restored from the Store (or just connected) may still
		// be attaching to the broker: publish after that, not into an
		// "unknown client" rejection.
		_ = waitStep(ctx, attaching)
		err := g.broker.Publish(ctx, id, msg) // ctx is bounded by BrokerTimeout
		answered()
		g.publishDone(s, epoch, p, topicID, msgID, msg.QoS, err)
	}) {
		s.inBusy = removeID(s.inBusy, m.MsgID)
		g.dropf(dropCongestion, in.key, "too many broker calls in progress", "client", s.id)
		g.send(s.peer, &mqttsn.Puback{TopicID: m.TopicID, MsgID: m.MsgID, ReturnCode: mqttsn.RejectedCongestion})
	}
}

// publishDone acknowledges a QoS 1/2 publish the broker has answered.
func (g *Gateway) publishDone(s *session, epoch uint32, p *peer, topicID, msgID uint16, qos byte, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	if s.epoch == epoch {
		s.inBusy = removeID(s.inBusy, msgID)
	}
	if err != nil {
		g.publishFailedLocked(p, topicID, msgID, err)
		return
	}
	if qos == 2 {
		if g.byID[s.id] == s && s.epoch == epoch && !containsID(s.inQoS2, msgID) {
			s.inQoS2 = append(s.inQoS2, msgID)
			g.touch(s)
		}
		g.send(p, &mqttsn.Pubrec{MsgID: msgID})
		return
	}
	g.send(p, &mqttsn.Puback{TopicID: topicID, MsgID: msgID, ReturnCode: mqttsn.Accepted})
}

func (g *Gateway) publishFailed(p *peer, topicID, msgID uint16, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.publishFailedLocked(p, topicID, msgID, err)
	}
}

// publishFailedLocked tells the client its publish was not accepted:
// "rejected: congestion" (§6.6; it retries after TWAIT).
func (g *Gateway) publishFailedLocked(p *peer, topicID, msgID uint16, err error) {
	r := dropBrokerError
	if errors.Is(err, broker.ErrBusy) {
		r = dropCongestion
	}
	g.dropf(r, p.key, "broker did not accept PUBLISH", "err", err)
	g.send(p, &mqttsn.Puback{TopicID: topicID, MsgID: msgID, ReturnCode: mqttsn.RejectedCongestion})
}

// publishMinus1 forwards a QoS -1 PUBLISH (§6.8): no connection needed, no
// answer ever, pre-defined or short topics only (the codec enforces that).
func (g *Gateway) publishMinus1(in *inbound, m *mqttsn.Publish) {
	if g.cfg.DenyQoSMinus1 {
		g.dropf(dropQoSMinus1Denied, in.key, "QoS -1 PUBLISH denied")
		return
	}
	g.mu.Lock()
	topic, rc := g.inTopic(nil, m.TopicIDType, m.TopicID)
	if rc != mqttsn.Accepted {
		g.mu.Unlock()
		g.dropf(dropInvalidTopic, in.key, "QoS -1 PUBLISH to an unknown topic", "topicid", m.TopicID)
		return
	}
	id := g.cfg.AnonymousClientID
	ready := g.anonReady
	if s := g.byAddr[in.key]; s != nil && s.state == stateActive {
		id, ready = s.id, true
		s.lastSeen = g.clk.Now()
	}
	g.mu.Unlock()
	if !ready {
		// §7.1: QoS -1 messages go out over a connection of the gateway's own.
		if err := g.broker.Attach(g.ctx, id, true); err != nil {
			g.dropf(dropBrokerError, in.key, "cannot attach the anonymous publisher", "err", err)
			return
		}
		g.mu.Lock()
		g.anonReady = true
		g.mu.Unlock()
	}
	msg := broker.Message{Topic: topic, Payload: m.Data, QoS: 0, Retain: m.Retain} // aliased: the adapter copies
	if err := g.broker.Publish(g.ctx, id, msg); err != nil {
		g.dropf(dropBrokerError, in.key, "broker did not accept QoS -1 PUBLISH", "err", err)
	}
}

// onPubrel ends a client's QoS 2 publish (§5.4.14): PUBCOMP, always.
func (g *Gateway) onPubrel(in *inbound, id uint16) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "PUBREL", false)
	if s == nil {
		return
	}
	s.inQoS2 = removeID(s.inQoS2, id)
	g.send(s.peer, &mqttsn.Pubcomp{MsgID: id})
}

// onRegister assigns a topic id to a client's topic name (§6.5).
func (g *Gateway) onRegister(in *inbound, m *mqttsn.Register) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "REGISTER", false)
	if s == nil {
		return
	}
	name := string(m.TopicName)
	ack := mqttsn.Regack{MsgID: m.MsgID}
	if !validTopicName(name) {
		ack.ReturnCode = mqttsn.RejectedNotSupported
		g.dropf(dropInvalidTopic, in.key, "REGISTER of a topic filter", "topic", name)
	} else if e := s.topics.register(name, g.cfg.MaxTopicsPerClient); e == nil {
		ack.ReturnCode = mqttsn.RejectedCongestion
		g.dropf(dropCongestion, in.key, "client topic registry full", "client", s.id)
	} else {
		e.known, e.rejected = true, false
		ack.TopicID = e.id
	}
	g.send(s.peer, &ack)
}
