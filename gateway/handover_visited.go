package gateway

import (
	"context"
	"crypto/hmac"
	"errors"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// The visited gateway's side of a handover: a node that entered this area
// sends HO-RESUME; this gateway checks what it can, fetches the session from
// the node's home gateway (or finds it pushed here already), installs it —
// broker attach and subscriptions first — and answers HO-RESUMED.

// resumeOp is an HO-RESUME being served.
type resumeOp struct {
	id      string
	p       *peer   // the node
	home    *peerGW // where the session is fetched from; nil: it is here
	token   []byte
	proof   []byte // a proof the TS verified (nil: none)
	asleep  bool
	xid     uint32
	started time.Time
	phase   uint8
	peerRetry
	held    [][]byte // the node's datagrams that arrived during the resume
	refused bool     // refused already: what the node sent behind HO-RESUME is dropped (holdRefused)
}

const (
	resumeVerifying  = iota // the node's proof is with the TS
	resumeFetching          // HO-FETCH sent, waiting for HO-TRANSFER
	resumeChecking          // the transferred admission record is with the TS
	resumeInstalling        // broker attach and subscriptions under way
)

// maxHeld bounds the datagrams kept from a node while its resume is served.
const maxHeld = 8

// onResume handles a node's HO-RESUME (b is the read buffer).
func (h *handover) onResume(in *inbound, b []byte) {
	g := h.g
	var m mqttsn.HOResume
	if _, err := m.Decode(b); err != nil {
		g.dropErr(in.key, err)
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	id := string(m.ClientID)
	p := in.peer()
	p.netAddr()
	if op := h.resumes[id]; op != nil {
		if op.p.key != in.key {
			// The node is resuming from another address already.
			h.answer(p, mqttsn.HOBusy)
		}
		return // a retransmission: the answer is coming
	}
	if s := g.byID[id]; s != nil && s.ho != nil && s.ho.resumed != nil && hmac.Equal(s.ho.resumed, m.Token) &&
		s.peer != nil && s.peer.key == in.key && s.ho.token != nil {
		// Resumed here already; our HO-RESUMED was lost.
		g.send(s.peer, &mqttsn.HOResumed{Expiry: uint32(s.ho.tokenExp.Unix()), Home: []byte(h.cfg.Name), Token: s.ho.token})
		return
	}
	op := &resumeOp{id: id, p: p, token: append([]byte(nil), m.Token...), asleep: m.Asleep, started: g.clk.Now()}
	if home := string(m.Home); home != h.cfg.Name {
		if op.home = h.peers[home]; op.home == nil {
			h.m.handover("in", mqttsn.HOUnknownHome, 0)
			h.event(EventRefused, id, nil, mqttsn.HOUnknownHome)
			h.answer(p, mqttsn.HOUnknownHome)
			return
		}
	}
	h.resumes[id] = op
	h.holding[in.key] = op
	h.nHolding.Store(int32(len(h.holding)))
	if m.Proof == nil || h.cfg.Verifier == nil {
		h.proceed(op)
		return
	}
	// A fresh proof of the node's secret, bound to this gateway's name and
	// the token's first 16 octets (used once: the token is).
	op.phase = resumeVerifying
	proof := append([]byte(nil), m.Proof...)
	if !g.goBroker(func(ctx context.Context) {
		err := h.cfg.Verifier.VerifyProof(ctx, h.cfg.Name, id, op.token[:mqttsn.HOChallenge], proof)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.closed || h.resumes[id] != op {
			return
		}
		if err != nil {
			g.log.Info("resume: proof refused", "client", id, "err", err)
			h.finish(op, verifyStatus(err))
			return
		}
		op.proof = proof
		h.proceed(op)
	}) {
		h.finish(op, mqttsn.HOBusy)
	}
}

func verifyStatus(err error) mqttsn.HOStatus {
	if errors.Is(err, ErrNotAdmitted) {
		return mqttsn.HONotAdmitted
	}
	return mqttsn.HOBusy
}

// answer sends HO-RESUMED with a refusal. Call with g.mu held.
func (h *handover) answer(p *peer, st mqttsn.HOStatus) {
	h.g.send(p, &mqttsn.HOResumed{Status: st, Home: []byte(h.cfg.Name), Token: []byte{}})
}

// finish ends op with a refusal: the node is told and connects afresh.
// Call with g.mu held.
func (h *handover) finish(op *resumeOp, st mqttsn.HOStatus) {
	h.end(op)
	for range op.held {
		h.peerDrop(peerDropHeld)
	}
	h.g.log.Info("resume refused", "client", op.id, "from", op.p.key.String(), "reason", st.String())
	h.event(EventRefused, op.id, op.home, st)
	h.m.handover("in", st, 0)
	h.holdRefused(op) // before the answer: handleDatagram reads nHolding without g.mu
	h.answer(op.p, st)
}

// holdRefused keeps dropping, counted as held, what the node sent behind
// its refused HO-RESUME and reaches us after the refusal, until it connects
// afresh, resumes again or leaves, or one Tretry passes. Answered as from
// an unknown client, a PUBLISH sent right behind HO-RESUME would draw a
// DISCONNECT (§6.12) that the node cannot tell from one about the session it
// is setting up meanwhile: it would fail that publish, or the fallback
// CONNECT in progress. The node sends again after its full connect what
// went out behind HO-RESUME. Call with g.mu held, after end(op) and before
// the refusal leaves.
func (h *handover) holdRefused(op *resumeOp) {
	g := h.g
	if h.holding[op.p.key] != nil {
		return
	}
	op.refused, op.held = true, nil
	h.holding[op.p.key] = op
	h.nHolding.Store(int32(len(h.holding)))
	op.timer = g.clk.AfterFunc(g.cfg.RetryInterval, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if h.holding[op.p.key] == op {
			h.end(op)
		}
	})
}

// end forgets op. Call with g.mu held.
func (h *handover) end(op *resumeOp) {
	stopTimer(op.timer)
	if h.resumes[op.id] == op {
		delete(h.resumes, op.id)
	}
	if h.holding[op.p.key] == op {
		delete(h.holding, op.p.key)
		h.nHolding.Store(int32(len(h.holding)))
	}
}

// proceed takes a resume past the node's own checks: to a session pushed
// here, to our own session, or to the home gateway. Call with g.mu held.
func (h *handover) proceed(op *resumeOp) {
	g := h.g
	s := g.byID[op.id]
	if s != nil && s.ho != nil && s.ho.pushed != nil && s.ho.token != nil && hmac.Equal(s.ho.token, op.token) {
		if !g.clk.Now().Before(s.ho.tokenExp) {
			h.finish(op, mqttsn.HOExpired)
			return
		}
		h.admitRecord(op, s, func() { h.bind(op, s, nil, 0) })
		return
	}
	if op.home == nil {
		// The node's home is this gateway.
		if s == nil {
			h.finish(op, mqttsn.HOUnknownClient)
			return
		}
		if mv := s.ho; mv != nil && mv.move != nil {
			if !mv.move.push {
				h.finish(op, mqttsn.HOUnknownClient) // it left; its new home issued another token
				return
			}
			// Pushed ahead, but the node came back: fetch it back.
			op.home = mv.move.to
		} else {
			if st := h.checkToken(s, op.token); st != mqttsn.HOAccepted {
				h.finish(op, st)
				return
			}
			h.bind(op, s, nil, 0)
			return
		}
	}
	op.phase = resumeFetching
	op.xid = h.nextXID()
	h.sendFetch(op)
}

// sendFetch arms the retry timer, then sends HO-FETCH (timer first, so that
// a virtual clock advanced when the datagram is seen finds it).
func (h *handover) sendFetch(op *resumeOp) {
	op.timer = h.retryTimer(op.timer, func() { h.onFetchTimer(op) })
	h.sendPeer(op.home, &mqttsn.HOFetch{XID: op.xid, ProofVerified: op.proof != nil, Asleep: op.asleep,
		ClientID: []byte(op.id), Token: op.token})
}

func (h *handover) onFetchTimer(op *resumeOp) {
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || h.resumes[op.id] != op || op.phase != resumeFetching {
		return
	}
	if op.tries >= h.cfg.MaxRetries {
		h.finish(op, mqttsn.HOUnreachable)
		return
	}
	op.tries++
	h.sendFetch(op)
}

// onTransfer handles HO-TRANSFER: the answer to our HO-FETCH, or a push.
// Call with g.mu held.
func (h *handover) onTransfer(p *peerGW, m *mqttsn.HOTransfer) {
	if m.Push {
		h.onPush(p, m)
		return
	}
	g := h.g
	id := string(m.ClientID)
	op := h.resumes[id]
	if op == nil || op.home != p || op.xid != m.XID || op.phase != resumeFetching {
		if s := g.byID[id]; s != nil && s.ho != nil && s.ho.fromPeer == p && s.ho.fromXID == m.XID {
			h.sendPeer(p, &mqttsn.HOConfirm{XID: m.XID, ClientID: m.ClientID}) // our HO-CONFIRM was lost
			return
		}
		h.peerDropf(peerDropUnexpected, nil, "HO-TRANSFER for no fetch", "peer", p.name, "client", id)
		h.sendPeer(p, &mqttsn.HORefuse{XID: m.XID, Reason: mqttsn.HOUnknownClient, ClientID: m.ClientID})
		return
	}
	stopTimer(op.timer)
	var rec mqttsn.HOSession
	if err := rec.Decode(m.Session); err != nil {
		g.log.Warn("transferred session unreadable", "peer", p.name, "client", id, "err", err)
		h.sendPeer(p, &mqttsn.HORefuse{XID: m.XID, Reason: mqttsn.HOBadRequest, ClientID: m.ClientID})
		h.finish(op, mqttsn.HOBadRequest)
		return
	}
	s := h.sessionFromRecord(id, &rec)
	s.ho.fromPeer, s.ho.fromXID = p, m.XID
	h.admitRecord(op, s, func() { h.install(op, s) })
}

// admitRecord decides whether the node may resume on the strength of its
// session's admission record, asking the TS when this gateway is the one
// the record's proof is bound to, then calls next. Otherwise it refuses op
// (and tells the home gateway, which keeps the session). Call with g.mu held.
//
// The rules (docs/protocol.md "Admission on resume"):
//   - a fresh proof the TS verified (HO-RESUME with Proof), or an open
//     gateway: admitted;
//   - no admission record (the home gateway is open) at a gateway with an
//     Authenticator: proof required;
//   - a record bound to this gateway: the TS re-checks it (revocation);
//   - otherwise the TS must have confirmed the node within ProofMaxAge (the
//     home gateway re-checks a record bound to itself before it transfers).
func (h *handover) admitRecord(op *resumeOp, s *session, next func()) {
	g := h.g
	st := s.ho
	refuse := func(code mqttsn.HOStatus) {
		if op.home != nil && op.phase == resumeFetching {
			h.sendPeer(op.home, &mqttsn.HORefuse{XID: op.xid, Reason: code, ClientID: []byte(op.id)})
		}
		h.finish(op, code)
	}
	switch {
	case op.proof != nil:
		st.admitGW, st.admitCh, st.admitProof = h.cfg.Name, op.token[:mqttsn.HOChallenge:mqttsn.HOChallenge], op.proof
		st.admittedAt = g.clk.Now()
		next()
	case g.open:
		next()
	case st.admitGW == "":
		refuse(mqttsn.HOProofRequired)
	case st.admitGW == h.cfg.Name && h.cfg.Verifier != nil:
		phase := op.phase
		op.phase = resumeChecking
		gw, ch, proof := st.admitGW, st.admitCh, st.admitProof
		if !g.goBroker(func(ctx context.Context) {
			err := h.cfg.Verifier.VerifyProof(ctx, gw, op.id, ch, proof)
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.closed || h.resumes[op.id] != op {
				return
			}
			op.phase = phase
			if err != nil {
				g.log.Info("resume: admission record refused", "client", op.id, "err", err)
				refuse(verifyStatus(err))
				return
			}
			st.admittedAt = g.clk.Now()
			next()
		}) {
			refuse(mqttsn.HOBusy)
		}
	case h.cfg.ProofMaxAge > 0 && g.clk.Now().Sub(st.admittedAt) > h.cfg.ProofMaxAge:
		refuse(mqttsn.HOProofRequired)
	default:
		next()
	}
}

// install attaches the transferred session at this gateway's broker and
// restores its subscriptions, then binds it to the node. Call with g.mu held.
func (h *handover) install(op *resumeOp, s *session) {
	g := h.g
	op.phase = resumeInstalling
	subs := s.ho.subs
	id := s.id
	wait, done := g.lifecycleStep(id)
	if !g.goBroker(func(ctx context.Context) {
		granted, err := h.attach(ctx, wait, done, id, s.clean, subs)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.closed || h.resumes[id] != op {
			return
		}
		if err != nil {
			g.log.Warn("resume: broker attach failed", "client", id, "err", err)
			h.sendPeer(op.home, &mqttsn.HORefuse{XID: op.xid, Reason: mqttsn.HOBusy, ClientID: []byte(id)})
			h.finish(op, mqttsn.HOBusy)
			return
		}
		h.bind(op, s, granted, op.xid)
	}) {
		done()
		h.sendPeer(op.home, &mqttsn.HORefuse{XID: op.xid, Reason: mqttsn.HOBusy, ClientID: []byte(id)})
		h.finish(op, mqttsn.HOBusy)
	}
}

// attach runs one lifecycle step: broker Attach, then one Subscribe per
// subscription. It returns the granted subscriptions.
func (h *handover) attach(ctx context.Context, wait <-chan struct{}, done func(), id string, clean bool,
	subs map[string]byte) (map[string]byte, error) {
	defer done()
	g := h.g
	if err := waitStep(ctx, wait); err != nil {
		return nil, err
	}
	if err := g.broker.Attach(ctx, id, clean); err != nil {
		return nil, err
	}
	granted := make(map[string]byte, len(subs))
	for f, q := range subs {
		gq, err := g.broker.Subscribe(ctx, id, f, q)
		if err != nil || gq > 2 {
			g.log.Warn("handover: subscription not restored", "client", id, "filter", f, "err", err)
			continue
		}
		granted[f] = gq
	}
	return granted, nil
}

// bind makes s the node's live session here, bound to op's address: it
// replaces whatever this gateway had under that client id, answers the node
// with its next token and confirms to the home gateway. The datagrams held
// during the resume are handled next, on their own goroutine. Call with
// g.mu held.
func (h *handover) bind(op *resumeOp, s *session, subs map[string]byte, xid uint32) {
	g := h.g
	now := g.clk.Now()
	if old := g.byID[op.id]; old != nil && old != s {
		if old.peer != nil && old.peer.key != op.p.key {
			g.send(old.peer, &mqttsn.Disconnect{}) // taken over, as by a CONNECT (§6.2)
		}
		h.drop(old)
	}
	if s.peer != nil && s.peer.key != op.p.key {
		g.unbind(s)
	}
	if other := g.byAddr[op.p.key]; other != nil && other != s {
		g.lose(other, "address reused by another client id")
	}
	st := g.hoOf(s)
	st.pushed, st.move = nil, nil
	st.resumed = op.token
	g.byID[s.id] = s
	s.peer = op.p
	g.byAddr[op.p.key] = s
	s.lastSeen = now
	if subs != nil {
		g.setSubs(s, subs)
	}
	state := stateActive
	if op.asleep && s.sleepDur > 0 {
		state = stateAsleep
	}
	stopTimer(s.retry)
	g.setState(s, state)
	g.armSupervision(s)
	g.touch(s)
	if t := h.issueToken(s); t != nil {
		g.send(s.peer, &mqttsn.HOResumed{Expiry: t.Expiry, Home: t.Home, Token: t.Token})
	}
	if op.home != nil && xid != 0 {
		h.sendPeer(op.home, &mqttsn.HOConfirm{XID: xid, ClientID: []byte(s.id)})
	}
	d := now.Sub(op.started)
	h.m.handover("in", mqttsn.HOAccepted, d)
	h.event(EventResumed, s.id, op.home, mqttsn.HOAccepted)
	g.log.Info("session resumed", "client", s.id, "from", op.p.key.String(), "home", homeName(op.home, h.cfg.Name),
		"topics", s.topics.len(), "queued", len(s.queue), "inflight", len(s.inflight), "took", d)
	h.end(op)
	if state == stateActive {
		g.resendOutstanding(s)
		g.pump(s)
	}
	if len(op.held) > 0 {
		held, p := op.held, op.p
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			h.release(p, held)
		}()
	}
}

func homeName(p *peerGW, self string) string {
	if p == nil {
		return self
	}
	return p.name
}

// release handles the datagrams a node sent while its resume was served, in
// order, as if they arrived now.
func (h *handover) release(p *peer, held [][]byte) {
	for _, b := range held {
		h.g.handleDatagram(b, p.key, p.addr)
	}
}

// hold keeps a copy of a datagram from a node whose resume is being served,
// so that a node that publishes right after HO-RESUME loses nothing, or drops
// it when the resume was refused (holdRefused). It reports whether it took b.
func (h *handover) hold(b []byte, key peerKey) bool {
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	op := h.holding[key]
	if op == nil {
		return false
	}
	if hd, err := mqttsn.ReadHeader(b); err == nil {
		switch hd.Type {
		case mqttsn.TypeHOResume:
			return false // its own retransmission goes the usual way
		case mqttsn.TypeConnect, mqttsn.TypeDisconnect:
			// The node gave up on the resume and connects afresh (or
			// leaves): the resume is abandoned, without an answer.
			h.end(op)
			return false
		}
	}
	if op.refused || len(op.held) >= maxHeld {
		h.peerDrop(peerDropHeld)
		return true
	}
	op.held = append(op.held, append([]byte(nil), b...))
	return true
}

// drop deletes a session this gateway no longer serves, without touching
// the broker (the caller's lifecycle step owns it). Call with g.mu held.
func (h *handover) drop(s *session) {
	if s.ho != nil && s.ho.move != nil {
		stopTimer(s.ho.move.timer)
	}
	g := h.g
	stopTimer(s.supervise)
	stopTimer(s.retry)
	g.unbind(s)
	if g.byID[s.id] == s {
		delete(g.byID, s.id)
	}
	g.setState(s, numStates)
}
