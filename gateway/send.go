package gateway

import (
	"log/slog"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

const levelDebug = slog.LevelDebug

// send encodes m for p and writes it; it reports whether the datagram left.
// Call with g.mu held (it uses the shared encode buffer).
func (g *Gateway) send(p *peer, m mqttsn.Message) bool {
	b, err := p.appendMsg(g.wbuf[:0], m)
	if err != nil {
		g.dropf(dropTooLarge, p.key, "cannot encode", "type", m.Type(), "err", err)
		return false
	}
	g.wbuf = b[:0]
	if len(b) > g.cfg.MaxDatagram {
		// MQTT-SN v1.2 §6.10: too long for the network: silently aborted.
		g.dropf(dropTooLarge, p.key, "message longer than MaxDatagram", "type", m.Type(), "len", len(b))
		return false
	}
	if err := p.write(b); err != nil {
		g.dropf(dropSendError, p.key, "write failed", "type", m.Type(), "err", err)
		return false
	}
	var q byte
	if pub, ok := m.(*mqttsn.Publish); ok {
		q = byte(pub.QoS) & 3
	}
	g.m.countOut(byte(m.Type()), q)
	return true
}

// reply sends m to the sender of the message being handled, taking g.mu.
func (g *Gateway) reply(in *inbound, m mqttsn.Message) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.send(in.peer(), m)
	}
}

// sendExternal sends m to p for code outside the gateway's locks (extension
// handlers, authenticators).
func (g *Gateway) sendExternal(p *peer, m mqttsn.Message) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return errClosed
	}
	b, err := p.appendMsg(g.wbuf[:0], m)
	if err != nil {
		return err
	}
	g.wbuf = b[:0]
	if len(b) > g.cfg.MaxDatagram {
		g.m.drop(dropTooLarge)
		return errTooLarge
	}
	if err := p.write(b); err != nil {
		g.m.drop(dropSendError)
		return err
	}
	g.m.countOut(byte(m.Type()), 0)
	return nil
}
