package gateway

import "github.com/lsmqtt/lsmqtt/mqttsn"

// onExtension routes an extension message: the answer to an admission
// challenge goes to the waiting Exchange; anything else to the handler
// registered for its type. b is the read buffer; the message handed on is
// decoded from a copy.
func (g *Gateway) onExtension(in *inbound, b []byte, t mqttsn.MsgType) {
	if t == mqttsn.TypeHOResume && g.ho != nil {
		g.ho.onResume(in, b) // handover_visited.go: needs the sender's key
		return
	}
	g.mu.Lock()
	if pc := g.connecting[in.key]; pc != nil && pc.answer != nil && isTrustType(byte(t)) {
		m, _, err := mqttsn.Decode(append([]byte(nil), b...))
		if err != nil {
			g.mu.Unlock()
			g.dropErr(in.key, err)
			return
		}
		select {
		case pc.answer <- m:
		default:
		}
		pc.answer = nil
		g.mu.Unlock()
		return
	}
	h := g.cfg.Extensions[byte(t)]
	if h == nil {
		g.mu.Unlock()
		g.dropf(dropUnhandledExtension, in.key, "no handler for extension message", "type", t)
		return
	}
	var clientID string
	if s := g.byAddr[in.key]; s != nil && s.state.live() {
		clientID = s.id
	}
	p := in.peer()
	p.netAddr()
	g.mu.Unlock()
	m, _, err := mqttsn.Decode(append([]byte(nil), b...))
	if err != nil {
		g.dropErr(in.key, err)
		return
	}
	h(&ExtensionRequest{
		Msg:      m,
		ClientID: clientID,
		Addr:     p.addr,
		NodeID:   p.nodeID(),
		Reply:    func(m mqttsn.Message) error { return g.sendExternal(p, m) },
	})
}
