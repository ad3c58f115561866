package gateway

// Stats is a snapshot of the gateway's counters, for tests and tools; the
// same numbers are exported as Prometheus metrics.
type Stats struct {
	Clients         map[string]int    // by state: connecting, active, asleep, awake, disconnected, lost
	Sessions        int               // sessions kept, in any state
	MessagesIn      uint64            // MQTT-SN messages received and decoded
	MessagesOut     uint64            // MQTT-SN messages sent
	Retransmissions uint64            // messages sent again after Tretry
	Drops           map[string]uint64 // by reason, only non-zero
}

// Stats returns a snapshot of the gateway's counters.
func (g *Gateway) Stats() Stats {
	st := Stats{Clients: map[string]int{}, Drops: map[string]uint64{}}
	g.mu.Lock()
	for _, s := range g.byID {
		st.Clients[s.state.String()]++
	}
	st.Sessions = len(g.byID)
	if n := len(g.connecting); n > 0 {
		st.Clients[stateConnecting.String()] += n
	}
	g.mu.Unlock()
	st.MessagesIn = g.m.nIn.Load()
	st.MessagesOut = g.m.nOut.Load()
	st.Retransmissions = g.m.nRetrans.Load()
	for r := dropReason(0); r < numDropReasons; r++ {
		if n := g.m.nDrops[r].Load(); n > 0 {
			st.Drops[r.String()] = n
		}
	}
	return st
}
