package gateway

import "time"

// Supervision: one timer per session watches whatever its state calls for.
//   - active: keep-alive. The client must be heard from within
//     KeepAliveGrace × its keep-alive duration (MQTT-SN v1.2 §6.11, §7.2),
//     else it is lost and its will published.
//   - asleep, awake: the sleep duration from its DISCONNECT, with the same
//     grace (§6.14); oversleeping counts as lost.
//   - disconnected, lost (sessions without CleanSession): SessionExpiry, then
//     the session is reclaimed.
//
// Datagrams only refresh lastSeen; the timer re-arms itself lazily when it
// fires early, so the hot path never touches a timer.

// deadline returns when s's current state runs out, if it does.
func (g *Gateway) deadline(s *session) (time.Time, bool) {
	switch s.state {
	case stateActive:
		if s.keepAlive == 0 {
			return time.Time{}, false
		}
		return s.lastSeen.Add(g.grace(s.keepAlive)), true
	case stateAsleep, stateAwake:
		return s.lastSeen.Add(g.grace(s.sleepDur)), true
	case stateDisconnected, stateLost:
		return s.since.Add(g.cfg.SessionExpiry), true
	}
	return time.Time{}, false
}

func (g *Gateway) grace(seconds uint16) time.Duration {
	return time.Duration(float64(time.Duration(seconds)*time.Second) * g.cfg.KeepAliveGrace)
}

// armSupervision (re)starts s's supervision timer for its current state.
func (g *Gateway) armSupervision(s *session) {
	dl, ok := g.deadline(s)
	if !ok {
		stopTimer(s.supervise)
		return
	}
	d := dl.Sub(g.clk.Now())
	if s.supervise == nil {
		s.supervise = g.clk.AfterFunc(d, func() { g.onSupervise(s) })
		return
	}
	s.supervise.Reset(d)
}

func (g *Gateway) onSupervise(s *session) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.byID[s.id] != s {
		return
	}
	dl, ok := g.deadline(s)
	if !ok {
		return
	}
	if now := g.clk.Now(); now.Before(dl) {
		s.supervise.Reset(dl.Sub(now))
		return
	}
	switch s.state {
	case stateActive:
		g.lose(s, "keep-alive timeout")
	case stateAsleep, stateAwake:
		g.lose(s, "overslept")
	case stateDisconnected, stateLost:
		g.expire(s)
	}
}
