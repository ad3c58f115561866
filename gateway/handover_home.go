package gateway

import (
	"context"
	"crypto/hmac"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// The home gateway's side of a handover: a peer presents the node's token
// (HO-FETCH); the home gateway checks it, stops serving the node, transfers
// the session (HO-TRANSFER, retransmitted until HO-CONFIRM or HO-REFUSE),
// then drops its broker session and forwards the messages that still
// arrived for the node (HO-FORWARD). A refused or unconfirmed transfer puts
// the session back, disconnected, as if the node had gone silent.

// moveOp is a session handed over (or being handed over) to a peer.
type moveOp struct {
	to        *peerGW
	xid       uint32
	push      bool
	msg       *mqttsn.HOTransfer // resent until confirmed
	started   time.Time
	confirmed bool
	cleaned   bool // the broker session is dropped: nothing more arrives
	saved     movedState
	peerRetry
}

// movedState is what a transfer took from the session, put back if the
// transfer fails.
type movedState struct {
	queue    []queuedMsg
	inflight []outMsg
	reg      *outReg
	inQoS2   []uint16
	token    []byte
	tokenExp time.Time
}

// fwdOp is an HO-FORWARD awaiting HO-FWDACK.
type fwdOp struct {
	to  *peerGW
	msg *mqttsn.HOForward
	peerRetry
}

// onFetch handles a peer's HO-FETCH. Call with g.mu held.
func (h *handover) onFetch(p *peerGW, m *mqttsn.HOFetch) {
	g := h.g
	id := string(m.ClientID)
	refuse := func(st mqttsn.HOStatus) {
		h.m.handover("out", st, 0)
		g.log.Info("handover refused", "client", id, "peer", p.name, "reason", st.String())
		h.sendPeer(p, &mqttsn.HORefuse{XID: m.XID, Reason: st, ClientID: m.ClientID})
	}
	s := g.byID[id]
	if s == nil || s.ho == nil {
		refuse(mqttsn.HOUnknownClient)
		return
	}
	st := s.ho
	if mv := st.move; mv != nil {
		if mv.to == p && mv.xid == m.XID && !mv.push {
			h.sendPeer(p, mv.msg) // our HO-TRANSFER was lost
			return
		}
		refuse(mqttsn.HOUnknownClient)
		return
	}
	if st.pushed != nil {
		// Pushed here ahead of the node, which turned up elsewhere: the
		// token is the one it had at its previous home.
		if st.token == nil || !hmac.Equal(st.token, m.Token) {
			refuse(mqttsn.HOBadToken)
			return
		}
		if !g.clk.Now().Before(st.tokenExp) {
			refuse(mqttsn.HOExpired)
			return
		}
	} else if code := h.checkToken(s, m.Token); code != mqttsn.HOAccepted {
		refuse(code)
		return
	}
	if st.verifying {
		return // the TS is being asked; the peer's retransmission will be answered
	}
	if len(s.inBusy) > 0 {
		// The node's last publishes are still with the broker; their
		// acknowledgements must not be lost with the move. The peer retries.
		return
	}
	if !m.ProofVerified && st.admitGW == h.cfg.Name && h.cfg.Verifier != nil && st.admitCh != nil {
		// The node proved its secret to this gateway: ask the TS again
		// whether it still may (revocation takes effect here).
		st.verifying = true
		gw, ch, proof, tok := st.admitGW, st.admitCh, st.admitProof, st.token
		if !g.goBroker(func(ctx context.Context) {
			err := h.cfg.Verifier.VerifyProof(ctx, gw, id, ch, proof)
			g.mu.Lock()
			defer g.mu.Unlock()
			st.verifying = false
			if g.closed || g.byID[id] != s || st.move != nil || !hmac.Equal(st.token, tok) {
				return
			}
			if err != nil {
				g.log.Info("handover: the TS refused the node", "client", id, "err", err)
				refuse(verifyStatus(err))
				return
			}
			st.admittedAt = g.clk.Now()
			if code := h.transferOut(p, s, m.XID, false); code != mqttsn.HOAccepted {
				refuse(code)
			}
		}) {
			st.verifying = false
			refuse(mqttsn.HOBusy)
		}
		return
	}
	if code := h.transferOut(p, s, m.XID, false); code != mqttsn.HOAccepted {
		refuse(code)
	}
}

// transferOut sends s to p and stops serving it here. Call with g.mu held.
func (h *handover) transferOut(p *peerGW, s *session, xid uint32, push bool) mqttsn.HOStatus {
	g := h.g
	st := s.ho
	rec := h.hoRecord(s)
	sess, err := rec.AppendBinary(nil)
	if err != nil {
		g.log.Warn("session too large to transfer", "client", s.id, "err", err)
		return mqttsn.HOTooLarge
	}
	msg := &mqttsn.HOTransfer{XID: xid, Push: push, Expiry: uint32(st.tokenExp.Unix()), ClientID: []byte(s.id),
		Token: st.token, Session: sess}
	if msg.Len() > mqttsn.MaxLen {
		return mqttsn.HOTooLarge
	}
	mv := &moveOp{to: p, xid: xid, push: push, msg: msg, started: g.clk.Now(),
		saved: movedState{queue: s.queue, inflight: s.inflight, reg: s.reg, inQoS2: s.inQoS2,
			token: st.token, tokenExp: st.tokenExp}}
	// The session leaves: the node is served elsewhere from now on. What
	// arrives for it meanwhile queues here and is forwarded once confirmed.
	s.queue, s.inflight, s.reg, s.inQoS2 = nil, nil, nil, nil
	stopTimer(s.retry)
	stopTimer(s.supervise)
	g.unbind(s)
	g.setState(s, stateDisconnected)
	g.touch(s)
	st.token, st.pushed, st.move = nil, nil, mv
	if push {
		h.m.count(func(s *HandoverStats) { s.SessionsPushedOut++ })
	}
	g.log.Info("session handed over", "client", s.id, "to", p.name, "push", push,
		"topics", len(rec.Topics), "subscriptions", len(rec.Subs), "queued", len(rec.Queue), "inflight", len(rec.Out))
	h.event(EventTransferred, s.id, p, mqttsn.HOAccepted)
	mv.timer = h.retryTimer(nil, func() { h.onTransferTimer(s, mv) }) // armed before the datagram leaves
	h.sendPeer(p, msg)
	return mqttsn.HOAccepted
}

func (h *handover) onTransferTimer(s *session, mv *moveOp) {
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || s.ho == nil || s.ho.move != mv || mv.confirmed {
		return
	}
	if mv.tries >= h.cfg.MaxRetries {
		h.reinstate(s, mqttsn.HOUnreachable)
		return
	}
	mv.tries++
	mv.timer = h.retryTimer(mv.timer, func() { h.onTransferTimer(s, mv) })
	h.sendPeer(mv.to, mv.msg)
}

// reinstate puts back a session whose transfer failed: disconnected, kept
// until SessionExpiry, with everything the transfer took and the node's
// token. Call with g.mu held.
func (h *handover) reinstate(s *session, why mqttsn.HOStatus) {
	g := h.g
	mv := s.ho.move
	stopTimer(mv.timer)
	s.ho.move = nil
	s.queue = append(mv.saved.queue, s.queue...)
	s.inflight, s.reg, s.inQoS2 = mv.saved.inflight, mv.saved.reg, mv.saved.inQoS2
	// The node still holds its token: it may resume again (with a proof,
	// if that was the reason), here or elsewhere.
	s.ho.token, s.ho.tokenExp = mv.saved.token, mv.saved.tokenExp
	h.m.handover("out", why, 0)
	h.event(EventReinstated, s.id, mv.to, why)
	g.log.Info("handover failed; session kept", "client", s.id, "peer", mv.to.name, "reason", why.String())
	g.armSupervision(s)
	g.touch(s)
}

// onConfirm: the peer serves the node now. Drop the broker session (nothing
// more is routed here after that) and forward what came meanwhile. The drop
// is a lifecycle step: if the node connected here again before its turn
// (stillMoved), the broker session is the node's live one and is kept.
// Call with g.mu held.
func (h *handover) onConfirm(p *peerGW, m *mqttsn.HOConfirm) {
	g := h.g
	id := string(m.ClientID)
	s := g.byID[id]
	if s == nil || s.ho == nil || s.ho.move == nil || s.ho.move.to != p || s.ho.move.xid != m.XID {
		h.peerDropf(peerDropUnexpected, nil, "HO-CONFIRM for no transfer", "peer", p.name, "client", id)
		return
	}
	mv := s.ho.move
	if mv.confirmed {
		return
	}
	mv.confirmed = true
	stopTimer(mv.timer)
	h.m.handover("out", mqttsn.HOAccepted, g.clk.Now().Sub(mv.started))
	h.event(EventConfirmed, id, p, mqttsn.HOAccepted)
	// A clean attach drops the broker's persistent session (subscriptions,
	// queued messages); then detach.
	wait, done := g.lifecycleStep(id)
	if !g.goBroker(func(ctx context.Context) {
		defer done()
		if waitStep(ctx, wait) == nil && h.stillMoved(s, mv) {
			if err := g.broker.Attach(ctx, id, true); err == nil {
				_ = g.broker.Detach(ctx, id)
			}
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		mv.cleaned = true
		if !g.closed && g.byID[id] == s && s.ho != nil && s.ho.move == mv {
			h.flushForward(s)
		}
	}) {
		done()
		mv.cleaned = true
	}
	h.flushForward(s)
}

// stillMoved reports whether s is still id's session as mv handed it over:
// not connected here again since. A step that drops the broker session
// checks it once its turn comes; every attach queued before it has committed
// (or failed) by then. The node may have come back meanwhile (a CONNECT here,
// whose attach was queued before the drop; commitConnect reuses s and
// connected() ends its handover state) or its id been taken by a resumed
// session: then the broker client is theirs, and dropping it would detach a
// live session and lose its subscriptions. Call without g.mu.
func (h *handover) stillMoved(s *session, mv *moveOp) bool {
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	moved := !g.closed && g.byID[s.id] == s && s.ho != nil && s.ho.move == mv && !s.state.live()
	if !moved {
		g.log.Debug("handover: broker session kept: the client is here again", "client", s.id)
	}
	return moved
}

// flushForward sends what queued for a moved session to the peer serving
// it; once the broker session is gone and nothing is left, the session is
// deleted. Call with g.mu held.
func (h *handover) flushForward(s *session) {
	mv := s.ho.move
	if !mv.confirmed {
		return
	}
	for len(s.queue) > 0 {
		n := min(len(s.queue), h.cfg.MaxForward)
		f := &mqttsn.HOForward{Seq: h.nextSeq(), ClientID: []byte(s.id)}
		for _, q := range s.queue[:n] {
			f.Msgs = append(f.Msgs, hoMessage(q.m, q.requeued))
		}
		if f.Len() > mqttsn.MaxLen && n > 1 {
			n = 1
			f.Msgs = f.Msgs[:1]
		}
		s.queue = s.queue[n:]
		if len(s.queue) == 0 {
			s.queue = nil
		}
		op := &fwdOp{to: mv.to, msg: f}
		h.forwards[f.Seq] = op
		h.m.forwarded.WithLabelValues("out").Add(float64(len(f.Msgs)))
		h.m.count(func(st *HandoverStats) { st.ForwardedOut += uint64(len(f.Msgs)) })
		h.event(EventForwarded, s.id, mv.to, mqttsn.HOAccepted)
		op.timer = h.retryTimer(nil, func() { h.onForwardTimer(op) })
		h.sendPeer(mv.to, f)
	}
	if mv.cleaned {
		h.drop(s)
	}
}

func (h *handover) nextSeq() uint32 {
	h.fwdSeq++
	if h.fwdSeq == 0 {
		h.fwdSeq = 1
	}
	return h.fwdSeq
}

func (h *handover) onForwardTimer(op *fwdOp) {
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || h.forwards[op.msg.Seq] != op {
		return
	}
	if op.tries >= h.cfg.MaxRetries {
		delete(h.forwards, op.msg.Seq)
		for range op.msg.Msgs {
			h.peerDrop(peerDropForwardLost)
		}
		return
	}
	op.tries++
	op.timer = h.retryTimer(op.timer, func() { h.onForwardTimer(op) })
	h.sendPeer(op.to, op.msg)
}

// onFwdAck completes a forward. Call with g.mu held.
func (h *handover) onFwdAck(p *peerGW, m *mqttsn.HOFwdAck) {
	op := h.forwards[m.Seq]
	if op == nil || op.to != p || string(op.msg.ClientID) != string(m.ClientID) {
		h.peerDropf(peerDropUnexpected, nil, "HO-FWDACK for no forward", "peer", p.name)
		return
	}
	stopTimer(op.timer)
	delete(h.forwards, m.Seq)
}

// onForward queues late messages from a node's previous home for the node,
// as if this gateway's broker had delivered them. Call with g.mu held.
func (h *handover) onForward(p *peerGW, m *mqttsn.HOForward) {
	g := h.g
	ack := &mqttsn.HOFwdAck{Seq: m.Seq, ClientID: m.ClientID}
	if !p.fwdSeen(m.Seq) {
		id := string(m.ClientID)
		s := g.byID[id]
		for i := range m.Msgs {
			if s == nil {
				g.m.drop(dropNoSession)
				continue
			}
			if len(s.queue) >= g.cfg.MaxBuffered {
				g.m.drop(dropQueueFull)
				continue
			}
			s.queue = append(s.queue, queuedMsg{m: brokerMessage(&m.Msgs[i]), requeued: m.Msgs[i].Requeued})
		}
		h.m.forwarded.WithLabelValues("in").Add(float64(len(m.Msgs)))
		h.event(EventForwardIn, id, p, mqttsn.HOAccepted)
		h.m.count(func(st *HandoverStats) { st.ForwardedIn += uint64(len(m.Msgs)) })
		if s != nil {
			g.touch(s)
			if s.ho != nil && s.ho.move != nil {
				h.flushForward(s) // moved on again: pass them along
			} else {
				g.pump(s)
			}
		}
	}
	h.sendPeer(p, ack)
}

// onRefuse: a peer refused our HO-FETCH (we are the visited gateway) or our
// HO-TRANSFER (we are the home gateway). Call with g.mu held.
func (h *handover) onRefuse(p *peerGW, m *mqttsn.HORefuse) {
	g := h.g
	id := string(m.ClientID)
	if op := h.resumes[id]; op != nil && op.home == p && op.xid == m.XID && op.phase == resumeFetching {
		h.finish(op, m.Reason)
		return
	}
	if s := g.byID[id]; s != nil && s.ho != nil && s.ho.move != nil && s.ho.move.to == p &&
		s.ho.move.xid == m.XID && !s.ho.move.confirmed {
		h.reinstate(s, m.Reason)
		return
	}
	h.peerDropf(peerDropUnexpected, nil, "HO-REFUSE for nothing outstanding", "peer", p.name, "client", id)
}

// fwdSeen reports whether a forward Seq from this peer was seen, and
// remembers it. The last 64 are kept.
func (p *peerGW) fwdSeen(seq uint32) bool {
	for _, s := range p.fwdRecent {
		if s == seq {
			return true
		}
	}
	if len(p.fwdRecent) < 64 {
		p.fwdRecent = append(p.fwdRecent, seq)
	} else {
		p.fwdRecent[p.fwdPos] = seq
		p.fwdPos = (p.fwdPos + 1) % 64
	}
	return false
}
