package gateway

import (
	"context"
	"errors"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Proactive handover: the home gateway learns where a node is heading (its
// border router sees the node in a neighbouring area's range, or the
// simulation knows) and sends the session ahead, so the node's HO-RESUME
// finds it installed and is answered without a round trip to the home.

// ErrNoSession is returned by PushSession for a client id the gateway has
// no session for.
var ErrNoSession = errors.New("gateway: no session for that client id")

// PushSession hands clientID's session to the peer named peer ahead of the
// node: the home gateway stops serving the node now, the peer installs the
// session (broker attach, subscriptions) and waits for the node's HO-RESUME
// with the token it holds. It returns once the transfer is sent; the peer's
// HO-CONFIRM or HO-REFUSE ends it (HandoverStats, metrics). If the peer
// refuses or does not answer, the session stays here and the node may
// carry on with its token. A node that turns up here again after a push is
// given its session back through the peer.
func (g *Gateway) PushSession(clientID, peer string) error {
	h := g.ho
	if h == nil {
		return ErrNoPeering
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return errClosed
	}
	p := h.peers[peer]
	if p == nil {
		return ErrUnknownPeer
	}
	if h.pc == nil {
		return ErrNoPeerSocket
	}
	s := g.byID[clientID]
	if s == nil || (s.state != stateActive && s.state != stateAsleep && s.state != stateAwake) {
		return ErrNoSession
	}
	st := s.ho
	switch {
	case st == nil || st.token == nil:
		return errors.New("gateway: the client holds no session token from this gateway")
	case st.move != nil:
		return errors.New("gateway: the session is being handed over already")
	case !g.clk.Now().Before(st.tokenExp):
		return mqttsn.HOExpired
	case len(s.inBusy) > 0:
		return mqttsn.HOBusy // the node's publishes are with the broker; try again
	}
	if code := h.transferOut(p, s, h.nextXID(), true); code != mqttsn.HOAccepted {
		return code
	}
	return nil
}

// onPush installs a session a peer pushed ahead of its node, and confirms.
// Call with g.mu held.
func (h *handover) onPush(p *peerGW, m *mqttsn.HOTransfer) {
	g := h.g
	id := string(m.ClientID)
	refuse := func(st mqttsn.HOStatus) {
		h.m.handover("in", st, 0)
		h.sendPeer(p, &mqttsn.HORefuse{XID: m.XID, Reason: st, ClientID: m.ClientID})
	}
	old := g.byID[id]
	if old != nil && old.ho != nil && old.ho.pushed == p && old.ho.fromXID == m.XID {
		h.sendPeer(p, &mqttsn.HOConfirm{XID: m.XID, ClientID: m.ClientID}) // our HO-CONFIRM was lost
		return
	}
	if h.resumes[id] != nil || h.pushing(id) || (old != nil && old.peer != nil && old.state.live()) {
		refuse(mqttsn.HOBusy) // the node is here already, or resuming
		return
	}
	if !g.clk.Now().Before(time.Unix(int64(m.Expiry), 0)) {
		refuse(mqttsn.HOExpired)
		return
	}
	var rec mqttsn.HOSession
	if err := rec.Decode(m.Session); err != nil {
		refuse(mqttsn.HOBadRequest)
		return
	}
	s := h.sessionFromRecord(id, &rec)
	st := s.ho
	st.fromPeer, st.fromXID = p, m.XID
	st.token, st.tokenExp = append([]byte(nil), m.Token...), time.Unix(int64(m.Expiry), 0)
	subs := st.subs
	h.pushes[id] = s
	wait, done := g.lifecycleStep(id)
	if !g.goBroker(func(ctx context.Context) {
		// The whole install — attach, subscriptions, commit — is one
		// lifecycle step: a CONNECT of this id queued behind it finds the
		// pushed session installed, and one queued before it has committed
		// (or failed) when its turn comes.
		defer done()
		err := waitStep(ctx, wait)
		if err == nil && !h.pushStillWanted(p, s, refuse) {
			return // the node connected meanwhile: its broker session is left alone
		}
		var granted map[string]byte
		if err == nil {
			granted, err = h.attach(ctx, nil, func() {}, id, s.clean, subs)
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if h.pushes[id] != s {
			return
		}
		delete(h.pushes, id)
		if g.closed {
			return
		}
		if err != nil {
			g.log.Warn("push: broker attach failed", "client", id, "err", err)
			refuse(mqttsn.HOBusy)
			return
		}
		if cur := g.byID[id]; cur != nil {
			if cur.peer != nil && cur.state.live() {
				// The node resumed here between pushStillWanted and now
				// (a resume binds after its own step): the broker client
				// is its session's.
				refuse(mqttsn.HOBusy)
				return
			}
			h.drop(cur)
		}
		st.pushed = p
		g.byID[id] = s
		g.setSubs(s, granted)
		g.setState(s, stateDisconnected) // until the node resumes; SessionExpiry reclaims it
		g.armSupervision(s)
		g.touch(s)
		h.m.count(func(hs *HandoverStats) { hs.SessionsPushedIn++ })
		h.event(EventPushedIn, id, p, mqttsn.HOAccepted)
		g.log.Info("session pushed here", "client", id, "from", p.name, "queued", len(s.queue))
		h.sendPeer(p, &mqttsn.HOConfirm{XID: m.XID, ClientID: m.ClientID})
	}) {
		done()
		delete(h.pushes, id)
		refuse(mqttsn.HOBusy)
	}
}

// pushStillWanted is checked when a push's broker step has its turn,
// before the push touches the broker. A CONNECT of the node here whose
// attach was queued before the push has committed by then: the node's
// session is live, and a clean attach with the pushed subscriptions would
// reset its broker session under it. Then the push is refused (busy) and
// reports false; so it does if the push was abandoned (Close). Call
// without g.mu.
func (h *handover) pushStillWanted(p *peerGW, s *session, refuse func(mqttsn.HOStatus)) bool {
	g := h.g
	id := s.id
	g.mu.Lock()
	defer g.mu.Unlock()
	if h.pushes[id] != s {
		return false
	}
	if g.closed {
		delete(h.pushes, id)
		return false
	}
	if cur := g.byID[id]; cur != nil && cur.peer != nil && cur.state.live() {
		delete(h.pushes, id)
		g.log.Info("push refused: the node connected here meanwhile", "client", id, "from", p.name)
		refuse(mqttsn.HOBusy)
		return false
	}
	return true
}

func (h *handover) pushing(id string) bool { _, ok := h.pushes[id]; return ok }
