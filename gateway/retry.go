package gateway

import (
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Retransmission (MQTT-SN v1.2 §6.13 applied to the gateway's own messages):
// a QoS 1/2 PUBLISH, a PUBREL and a gateway REGISTER wait Tretry
// (RetryInterval) for their acknowledgement and are sent again, PUBLISH with
// DUP set, up to Nretry (MaxRetries) times. Then an active client is lost, and
// an awake sleeping client goes back to sleep keeping its messages. One timer
// per session fires at the earliest deadline.

// armRetry schedules s's retry timer for its earliest outstanding message.
func (g *Gateway) armRetry(s *session) {
	if s.state != stateActive && s.state != stateAwake {
		stopTimer(s.retry)
		return
	}
	var first time.Time
	for i := range s.inflight {
		if first.IsZero() || s.inflight[i].sentAt.Before(first) {
			first = s.inflight[i].sentAt
		}
	}
	if s.reg != nil && (first.IsZero() || s.reg.sentAt.Before(first)) {
		first = s.reg.sentAt
	}
	if first.IsZero() {
		stopTimer(s.retry)
		return
	}
	d := first.Add(g.cfg.RetryInterval).Sub(g.clk.Now())
	if s.retry == nil {
		s.retry = g.clk.AfterFunc(d, func() { g.onRetry(s) })
		return
	}
	s.retry.Reset(d)
}

func (g *Gateway) onRetry(s *session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.byID[s.id] != s || s.peer == nil || (s.state != stateActive && s.state != stateAwake) {
		return
	}
	now := g.clk.Now()
	due := func(t time.Time) bool { return !now.Before(t.Add(g.cfg.RetryInterval)) }
	// First decide and re-arm, then send: whoever sees a retransmission
	// arrive finds the next retry already scheduled.
	for i := range s.inflight {
		if due(s.inflight[i].sentAt) && int(s.inflight[i].retries) >= g.cfg.MaxRetries {
			g.retriesExhausted(s)
			return
		}
	}
	if r := s.reg; r != nil && due(r.sentAt) && int(r.retries) >= g.cfg.MaxRetries {
		g.retriesExhausted(s)
		return
	}
	var resend []int
	for i := range s.inflight {
		if o := &s.inflight[i]; due(o.sentAt) {
			o.retries++
			o.sentAt = now
			resend = append(resend, i)
		}
	}
	r := s.reg
	if r != nil && due(r.sentAt) {
		r.retries++
		r.sentAt = now
	} else {
		r = nil
	}
	g.armRetry(s)
	for _, i := range resend {
		g.sendOut(s, &s.inflight[i], true)
	}
	if r != nil {
		g.m.retransmit(byte(mqttsn.TypeRegister))
		g.send(s.peer, &mqttsn.Register{TopicID: r.topicID, MsgID: r.msgID, TopicName: []byte(r.name)})
	}
}

func (g *Gateway) retriesExhausted(s *session) {
	g.dropf(dropRetryExhausted, s.peer.key, "no acknowledgement after Nretry retransmissions", "client", s.id)
	if s.state == stateAwake {
		// §6.14: the client went back to sleep; keep its messages for the
		// next time it wakes.
		stopTimer(s.retry)
		s.lastSeen = g.clk.Now()
		g.setState(s, stateAsleep)
		g.armSupervision(s)
		return
	}
	g.lose(s, "retransmissions exhausted")
}

// sendOut (re)sends an outstanding message: the PUBLISH (DUP when retry),
// or the PUBREL once the client's PUBREC came.
func (g *Gateway) sendOut(s *session, o *outMsg, retry bool) {
	if o.phase == awaitPubcomp {
		if retry {
			g.m.retransmit(byte(mqttsn.TypePubrel))
		}
		g.send(s.peer, &mqttsn.Pubrel{MsgID: o.msgID})
		return
	}
	if retry {
		g.m.retransmit(byte(mqttsn.TypePublish))
	}
	g.send(s.peer, &mqttsn.Publish{
		DUP: retry, QoS: mqttsn.QoS(o.m.QoS), Retain: o.m.Retain,
		TopicIDType: o.tt, TopicID: o.topicID, MsgID: o.msgID, Data: o.m.Payload,
	})
}

// resendOutstanding sends everything outstanding again after a reconnect
// without CleanSession or a wake-up, with fresh retry budgets.
func (g *Gateway) resendOutstanding(s *session) {
	now := g.clk.Now()
	for i := range s.inflight {
		s.inflight[i].retries, s.inflight[i].sentAt = 0, now
	}
	if r := s.reg; r != nil {
		r.retries, r.sentAt = 0, now
	}
	g.armRetry(s)
	for i := range s.inflight {
		g.sendOut(s, &s.inflight[i], true)
	}
	if r := s.reg; r != nil {
		g.send(s.peer, &mqttsn.Register{TopicID: r.topicID, MsgID: r.msgID, TopicName: []byte(r.name)})
	}
}
