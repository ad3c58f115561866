package gateway

import (
	"context"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// subscription resolves the topic of a SUBSCRIBE or UNSUBSCRIBE (MQTT-SN v1.2
// §5.4.15, §6.9): a topic name or filter, a pre-defined topic id, or a short
// topic name.
func (g *Gateway) subscription(tt mqttsn.TopicIDType, name []byte, id uint16) (string, mqttsn.ReturnCode) {
	switch tt {
	case mqttsn.TopicIDNormal:
		f := string(name)
		if !validTopicFilter(f) {
			return "", mqttsn.RejectedNotSupported
		}
		return f, mqttsn.Accepted
	case mqttsn.TopicIDPredefined:
		if n, ok := g.cfg.PredefinedTopics[id]; ok {
			return n, mqttsn.Accepted
		}
		return "", mqttsn.RejectedInvalidTopicID
	case mqttsn.TopicIDShort:
		f := mqttsn.ShortTopicName(id)
		if !validTopicFilter(f) {
			return "", mqttsn.RejectedNotSupported
		}
		return f, mqttsn.Accepted
	}
	return "", mqttsn.RejectedNotSupported
}

// onSubscribe subscribes the client at the broker and answers SUBACK. Its
// deliveries wait until the SUBACK is out, so that a retained message never
// overtakes the topic id it uses.
func (g *Gateway) onSubscribe(in *inbound, m *mqttsn.Subscribe) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "SUBSCRIBE", false)
	if s == nil {
		return
	}
	filter, rc := g.subscription(m.TopicIDType, m.TopicName, m.TopicID)
	if rc == mqttsn.Accepted && m.TopicIDType == mqttsn.TopicIDNormal && !hasWildcard(filter) {
		// An exact topic name gets its topic id now (§6.9); the client learns
		// it from the SUBACK.
		if s.topics.register(filter, g.cfg.MaxTopicsPerClient) == nil {
			rc = mqttsn.RejectedCongestion
		}
	}
	if rc == mqttsn.Accepted && int(s.subscribing) >= g.cfg.MaxInflight {
		rc = mqttsn.RejectedCongestion
	}
	if rc != mqttsn.Accepted {
		g.dropf(dropInvalidTopic, in.key, "SUBSCRIBE refused", "code", rc)
		g.send(s.peer, &mqttsn.Suback{MsgID: m.MsgID, ReturnCode: rc})
		return
	}
	s.subscribing++
	id, p, tt, topicID, msgID, qos, epoch := s.id, s.peer, m.TopicIDType, m.TopicID, m.MsgID, byte(m.QoS), s.epoch
	if !g.goAnswering(func(ctx context.Context, answered func()) {
		ctx, cancel := context.WithTimeout(ctx, g.cfg.BrokerTimeout)
		defer cancel()
		granted, err := g.broker.Subscribe(ctx, id, filter, qos)
		answered()
		g.subscribeDone(s, epoch, p, tt, topicID, msgID, filter, granted, err)
	}) {
		s.subscribing--
		g.dropf(dropCongestion, in.key, "too many broker calls in progress", "client", s.id)
		g.send(s.peer, &mqttsn.Suback{MsgID: m.MsgID, ReturnCode: mqttsn.RejectedCongestion})
	}
}

func (g *Gateway) subscribeDone(s *session, epoch uint32, p *peer, tt mqttsn.TopicIDType, topicID, msgID uint16, filter string, granted byte, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	if s.subscribing > 0 {
		s.subscribing--
	}
	ack := mqttsn.Suback{MsgID: msgID}
	switch {
	case err != nil || granted > 2:
		g.dropf(dropBrokerError, p.key, "broker refused SUBSCRIBE", "filter", filter, "err", err)
		ack.ReturnCode = mqttsn.RejectedCongestion
	case tt == mqttsn.TopicIDPredefined:
		ack.QoS, ack.TopicID = mqttsn.QoS(granted), topicID
		g.storeSub(s, filter, granted, true)
	case tt == mqttsn.TopicIDNormal && !hasWildcard(filter):
		ack.QoS = mqttsn.QoS(granted)
		var e *topicEntry
		if s.epoch == epoch {
			e = s.topics.register(filter, g.cfg.MaxTopicsPerClient)
		}
		if e != nil {
			e.known, e.rejected = true, false
			ack.TopicID = e.id
			g.storeSub(s, filter, granted, true)
		} else {
			ack.ReturnCode = mqttsn.RejectedCongestion
		}
	default:
		// Wildcards and short names: topic id 0x0000; the gateway REGISTERs
		// matching topics before publishing them (§6.9, §6.10).
		ack.QoS = mqttsn.QoS(granted)
		g.storeSub(s, filter, granted, true)
	}
	g.send(p, &ack)
	g.pump(s)
}

// onUnsubscribe unsubscribes the client at the broker and answers UNSUBACK
// (§5.4.17). When the broker fails there is no UNSUBACK: the client retries.
func (g *Gateway) onUnsubscribe(in *inbound, m *mqttsn.Unsubscribe) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "UNSUBSCRIBE", false)
	if s == nil {
		return
	}
	filter, rc := g.subscription(m.TopicIDType, m.TopicName, m.TopicID)
	if rc != mqttsn.Accepted {
		// Nothing can be subscribed under that name: nothing to undo.
		g.send(s.peer, &mqttsn.Unsuback{MsgID: m.MsgID})
		return
	}
	id, p, msgID := s.id, s.peer, m.MsgID
	if !g.goAnswering(func(ctx context.Context, answered func()) {
		ctx, cancel := context.WithTimeout(ctx, g.cfg.BrokerTimeout)
		defer cancel()
		err := g.broker.Unsubscribe(ctx, id, filter)
		answered()
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.closed {
			return
		}
		if err != nil {
			g.dropf(dropBrokerError, p.key, "broker refused UNSUBSCRIBE", "filter", filter, "err", err)
			return
		}
		g.storeSub(s, filter, 0, false)
		g.send(p, &mqttsn.Unsuback{MsgID: msgID})
	}) {
		g.dropf(dropCongestion, in.key, "too many broker calls in progress", "client", s.id)
	}
}
