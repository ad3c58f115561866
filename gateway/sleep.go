package gateway

import "github.com/lsmqtt/lsmqtt/mqttsn"

// Keep-alive, disconnect and sleeping clients (MQTT-SN v1.2 §6.11, §6.12, §6.14).

// onPingreq answers a keep-alive PINGREQ, or wakes a sleeping client: a
// PINGREQ carrying the client id of an asleep session moves it to awake, the
// buffered messages are sent, and PINGRESP (once all are acknowledged) sends
// it back to sleep (§6.14, Figure 5).
//
// A sleeping client may wake from a new address (its radio or NAT binding
// changed) only in open mode; with an Authenticator it must CONNECT again
// from there, which runs admission.
func (g *Gateway) onPingreq(in *inbound, m *mqttsn.Pingreq) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	if len(m.ClientID) > 0 {
		s := g.byID[string(m.ClientID)]
		if s != nil && (s.state == stateAsleep || s.state == stateAwake) {
			if s.peer == nil || s.peer.key != in.key {
				if !g.open {
					g.unknownClient(in, "wake-up PINGREQ from a new address")
					return
				}
				g.unbind(s)
				if other := g.byAddr[in.key]; other != nil {
					g.lose(other, "address reused by another client id")
				}
				s.peer = in.peer()
				g.byAddr[in.key] = s
			}
			g.wake(s)
			return
		}
	}
	s := g.byAddr[in.key]
	if s == nil {
		g.unknownClient(in, "PINGREQ")
		return
	}
	switch s.state {
	case stateActive:
		s.lastSeen = g.clk.Now()
		g.send(s.peer, &mqttsn.Pingresp{})
	case stateAsleep, stateAwake:
		g.wake(s)
	}
}

// wake moves s to awake and sends what is buffered for it.
func (g *Gateway) wake(s *session) {
	s.lastSeen = g.clk.Now()
	if s.state == stateAsleep {
		g.setState(s, stateAwake)
		g.armSupervision(s)
	}
	g.resendOutstanding(s)
	g.pump(s) // sends PINGRESP and puts s back to sleep when nothing is left
}

// onPingresp: the gateway sends no PINGREQ, but a PINGRESP still shows the
// client is alive.
func (g *Gateway) onPingresp(in *inbound) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if s := g.byAddr[in.key]; s != nil && s.state == stateActive {
		s.lastSeen = g.clk.Now()
	}
}

// onDisconnect handles a client's DISCONNECT: without a duration the
// connection ends (§6.12); with one the client goes to sleep for that long
// (§6.14). Either way the gateway answers DISCONNECT.
func (g *Gateway) onDisconnect(in *inbound, m *mqttsn.Disconnect) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	if pc := g.connecting[in.key]; pc != nil {
		g.removePending(pc) // the client gave up connecting
	}
	// The answer leaves last, once the state it announces is in place.
	defer g.send(in.peer(), &mqttsn.Disconnect{})
	s := g.byAddr[in.key]
	if s == nil {
		return
	}
	if m.HasDuration && m.Duration > 0 {
		stopTimer(s.retry)
		s.sleepDur = m.Duration
		s.lastSeen = g.clk.Now()
		g.setState(s, stateAsleep)
		g.armSupervision(s)
		return
	}
	g.disconnect(s)
}
