package gateway

import "github.com/lsmqtt/lsmqtt/mqttsn"

// Will updates during a connection (MQTT-SN v1.2 §6.4).

func (g *Gateway) onWillTopicUpd(in *inbound, m *mqttsn.WillTopicUpd) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "WILLTOPICUPD", false)
	if s == nil {
		return
	}
	if len(m.Topic) == 0 {
		// §5.4.22: an empty WILLTOPICUPD deletes will topic and message.
		s.will = nil
		g.send(s.peer, &mqttsn.WillTopicResp{ReturnCode: mqttsn.Accepted})
		return
	}
	topic := string(m.Topic)
	if !validTopicName(topic) {
		g.dropf(dropInvalidTopic, in.key, "will topic with wildcards", "topic", topic)
		g.send(s.peer, &mqttsn.WillTopicResp{ReturnCode: mqttsn.RejectedNotSupported})
		return
	}
	if s.will == nil {
		s.will = &will{}
	}
	s.will.topic, s.will.qos, s.will.retain = topic, byte(m.QoS), m.Retain
	g.send(s.peer, &mqttsn.WillTopicResp{ReturnCode: mqttsn.Accepted})
}

func (g *Gateway) onWillMsgUpd(in *inbound, m *mqttsn.WillMsgUpd) {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.sessionFor(in, "WILLMSGUPD", false)
	if s == nil {
		return
	}
	if s.will == nil {
		s.will = &will{} // a message without a topic is kept, and fires once a topic is set
	}
	s.will.msg = append([]byte(nil), m.Msg...)
	g.send(s.peer, &mqttsn.WillMsgResp{ReturnCode: mqttsn.Accepted})
}
