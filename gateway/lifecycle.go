package gateway

import (
	"context"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// setState moves s to st and keeps the client gauges and the live count.
// st == numStates takes s out of the counts (the session is deleted).
func (g *Gateway) setState(s *session, st clientState) {
	g.touch(s)
	if s.state == st {
		return
	}
	if s.state < numStates {
		g.m.clients[s.state].Dec()
		if s.state.live() {
			g.nLive--
		}
	}
	if st < numStates {
		g.m.clients[st].Inc()
		if st.live() {
			g.nLive++
		}
	}
	s.state = st
	s.since = g.clk.Now()
}

// unbind detaches s from its address.
func (g *Gateway) unbind(s *session) {
	if s.peer != nil {
		if g.byAddr[s.peer.key] == s {
			delete(g.byAddr, s.peer.key)
		}
		s.peer = nil
	}
}

// disconnect ends s after the client's DISCONNECT (§6.12): the will is not
// published; a clean session is deleted, another kept until SessionExpiry.
func (g *Gateway) disconnect(s *session) {
	stopTimer(s.retry)
	g.unbind(s)
	g.setState(s, stateDisconnected)
	g.detachAsync(s.id, nil)
	g.endOrKeep(s)
}

// lose ends s when the client fell silent (keep-alive §6.11, oversleeping
// §6.14, retries exhausted §6.13) or its address was taken: the will is
// published, then the client detached from the broker.
func (g *Gateway) lose(s *session, why string) {
	g.log.Info("client lost", "client", s.id, "why", why)
	stopTimer(s.retry)
	if s.peer != nil {
		// Anything the client had in progress is cancelled; nothing is re-sent
		// to an address that went silent.
		g.unbind(s)
	}
	g.setState(s, stateLost)
	w := s.will
	s.will = nil // fired once
	g.detachAsync(s.id, w)
	g.endOrKeep(s)
}

// endOrKeep deletes a clean session now, and arms the expiry of another.
func (g *Gateway) endOrKeep(s *session) {
	if s.clean {
		g.deleteSession(s)
		return
	}
	g.armSupervision(s)
}

func (g *Gateway) deleteSession(s *session) {
	stopTimer(s.supervise)
	stopTimer(s.retry)
	g.unbind(s)
	if g.byID[s.id] == s {
		delete(g.byID, s.id)
		delete(g.st.subs, s.id) // a later session of that id starts without them
		delete(g.st.subsEp, s.id)
	}
	g.setState(s, numStates)
}

// expire reclaims a session kept past SessionExpiry, and its broker-side state.
func (g *Gateway) expire(s *session) {
	g.log.Debug("session expired", "client", s.id)
	g.deleteSession(s)
	id := s.id
	wait, done := g.lifecycleStep(id)
	if !g.goBroker(func(ctx context.Context) {
		defer done()
		if waitStep(ctx, wait) != nil || g.idLive(id) {
			return // a newer session of that id uses the broker client
		}
		// A clean attach drops the broker's persistent session.
		if err := g.broker.Attach(ctx, id, true); err == nil {
			_ = g.broker.Detach(ctx, id)
		}
	}) {
		done()
	}
}

// detachAsync publishes w (if any) as id's will, then detaches id from the
// broker, in order with id's other Attach/Detach calls. Call with g.mu held.
func (g *Gateway) detachAsync(id string, w *will) {
	wait, done := g.lifecycleStep(id)
	if !g.goBroker(func(ctx context.Context) {
		defer done()
		if waitStep(ctx, wait) != nil {
			return
		}
		if w != nil && w.topic != "" {
			err := g.broker.Publish(ctx, id, broker.Message{Topic: w.topic, Payload: w.msg, QoS: w.qos, Retain: w.retain})
			if err != nil {
				g.m.drop(dropBrokerError)
				g.log.Warn("will not published", "client", id, "err", err)
			}
		}
		if g.idLive(id) {
			// A newer session of that id (a CONNECT whose attach was queued
			// before this step, or a resume) uses the broker client now.
			g.log.Debug("broker detach skipped: the client id is live again", "client", id)
			return
		}
		if err := g.broker.Detach(ctx, id); err != nil {
			g.log.Debug("broker detach failed", "client", id, "err", err)
		}
	}) {
		done()
		g.log.Warn("too many broker calls: detach skipped", "client", id)
	}
}

// idLive reports whether id has a live session. A lifecycle step that
// detaches id checks it once its turn comes: every attach queued before it
// has committed (or failed) by then, and a live session owns the broker
// client. Call without g.mu.
func (g *Gateway) idLive(id string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := g.byID[id]
	return s != nil && s.state.live()
}

// sendDisconnect tells an unknown sender to connect again (§6.12).
func (g *Gateway) unknownClient(in *inbound, what string) {
	g.dropf(dropUnknownClient, in.key, what+" from an address without a session")
	g.send(in.peer(), &mqttsn.Disconnect{})
}
