package gateway

import (
	"context"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// pendingConnect is a CONNECT being processed: the will flow (MQTT-SN v1.2
// §6.2, Figure 3), then admission and the broker attach. The client's
// existing session, if any, is untouched until the connect commits.
type pendingConnect struct {
	peer      *peer
	clientID  string
	clean     bool
	keepAlive uint16
	phase     uint8
	will      *will // from the will flow; nil when none was given or it was deleted
	willGiven bool  // the will flow ran: its result replaces the stored will
	retries   uint8
	timer     clock.Timer
	ctx       context.Context // ends when the client restarts or gives up, or at Close
	cancel    context.CancelFunc
	answer    chan mqttsn.Message // admission exchange waiting for the client's answer
	// Octets received from the address in this connect and sent to it in
	// the will flow: retransmissions to an address that has not answered
	// stay within what it sent, so a spoofed source gets no amplification.
	// The same holds for the admission challenge's retransmissions (exchange).
	inOctets, outOctets int
	admitCh             mqttsn.Message // the last challenge answered, and its answer (handover keeps them)
	admitAns            mqttsn.Message
}

const (
	phaseWillTopic = iota // WILLTOPICREQ sent
	phaseWillMsg          // WILLMSGREQ sent
	phaseAdmit            // admission and broker attach under way
)

func (pc *pendingConnect) abort() {
	pc.cancel()
	stopTimer(pc.timer)
}

// onConnect starts the connect procedure (§6.2). A CONNECT from an address
// with a connect in progress restarts it (the client retransmitted).
func (g *Gateway) onConnect(in *inbound, m *mqttsn.Connect) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	id := string(m.ClientID)
	if !g.connectAllowed(in) {
		return
	}
	if old := g.connecting[in.key]; old != nil {
		g.removePending(old)
	}
	s := g.byID[id]
	if (s == nil || !s.state.live()) && g.nLive+len(g.connecting) >= g.cfg.MaxClients {
		// §6.2: the gateway cannot accept the connection: congestion.
		g.dropf(dropCongestion, in.key, "MaxClients reached", "client", id)
		g.m.connects["congestion"].Inc()
		g.send(in.peer(), &mqttsn.Connack{ReturnCode: mqttsn.RejectedCongestion})
		return
	}
	if !g.halfOpenAllowed(in, m) {
		return
	}
	ctx, cancel := context.WithCancel(g.ctx)
	pc := &pendingConnect{
		peer: in.peer(), clientID: id, clean: m.CleanSession, keepAlive: m.Duration,
		ctx: ctx, cancel: cancel, inOctets: m.Len(),
	}
	pc.peer.netAddr() // built now, under the lock, so the admission goroutine only reads it
	g.connecting[in.key] = pc
	g.m.clients[stateConnecting].Inc()
	if m.Will {
		// §6.3: with the Will flag the gateway prompts for will topic and message.
		pc.phase = phaseWillTopic
		g.armConnectTimer(pc)
		pc.outOctets += (&mqttsn.WillTopicReq{}).Len()
		g.send(pc.peer, &mqttsn.WillTopicReq{})
		return
	}
	g.startAdmission(pc)
}

func (g *Gateway) removePending(pc *pendingConnect) {
	if g.connecting[pc.peer.key] == pc {
		delete(g.connecting, pc.peer.key)
		g.m.clients[stateConnecting].Dec()
	}
	pc.abort()
}

// armConnectTimer supervises the will flow with Tretry/Nretry (§6.13 applied
// to the gateway's requests).
func (g *Gateway) armConnectTimer(pc *pendingConnect) {
	if pc.timer == nil {
		pc.timer = g.clk.AfterFunc(g.cfg.RetryInterval, func() { g.onConnectTimer(pc) })
		return
	}
	pc.timer.Reset(g.cfg.RetryInterval)
}

func (g *Gateway) onConnectTimer(pc *pendingConnect) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.connecting[pc.peer.key] != pc || pc.phase == phaseAdmit {
		return
	}
	if int(pc.retries) >= g.cfg.MaxRetries {
		g.dropf(dropRetryExhausted, pc.peer.key, "will flow abandoned", "client", pc.clientID)
		g.removePending(pc)
		return
	}
	pc.retries++
	var req mqttsn.Message = &mqttsn.WillTopicReq{}
	if pc.phase == phaseWillMsg {
		req = &mqttsn.WillMsgReq{}
	}
	g.armConnectTimer(pc)
	if pc.outOctets+req.Len() > pc.inOctets {
		return // no amplification: wait for the client's own retransmission
	}
	pc.outOctets += req.Len()
	g.m.retransmit(byte(req.Type()))
	g.send(pc.peer, req)
}

// onWillTopic handles WILLTOPIC during the will flow (§5.4.7, §6.2).
func (g *Gateway) onWillTopic(in *inbound, m *mqttsn.WillTopic) {
	g.mu.Lock()
	defer g.mu.Unlock()
	pc := g.connecting[in.key]
	if pc == nil {
		g.dropf(dropIllegalState, in.key, "WILLTOPIC outside a will flow")
		return
	}
	pc.inOctets += m.Len()
	switch pc.phase {
	case phaseWillTopic:
	case phaseWillMsg:
		g.send(pc.peer, &mqttsn.WillMsgReq{}) // our WILLMSGREQ was lost
		return
	default:
		return // duplicate; admission is under way
	}
	if len(m.Topic) == 0 {
		// §5.4.7, §6.3: an empty WILLTOPIC deletes will topic and message;
		// there is no will message to ask for.
		pc.will, pc.willGiven = nil, true
		g.startAdmission(pc)
		return
	}
	topic := string(m.Topic)
	if !validTopicName(topic) {
		g.dropf(dropIllegalState, in.key, "will topic with wildcards", "topic", topic)
		g.send(pc.peer, &mqttsn.Connack{ReturnCode: mqttsn.RejectedNotSupported})
		g.m.connects["not_supported"].Inc()
		g.removePending(pc)
		return
	}
	pc.will = &will{topic: topic, qos: byte(m.QoS), retain: m.Retain}
	pc.phase, pc.retries = phaseWillMsg, 0
	g.armConnectTimer(pc)
	g.send(pc.peer, &mqttsn.WillMsgReq{})
}

// onWillMsg handles WILLMSG, the end of the will flow (§5.4.9).
func (g *Gateway) onWillMsg(in *inbound, m *mqttsn.WillMsg) {
	g.mu.Lock()
	defer g.mu.Unlock()
	pc := g.connecting[in.key]
	if pc == nil || pc.phase != phaseWillMsg {
		if pc == nil {
			g.dropf(dropIllegalState, in.key, "WILLMSG outside a will flow")
		}
		return
	}
	pc.will.msg = append([]byte(nil), m.Msg...)
	pc.willGiven = true
	g.startAdmission(pc)
}

// startAdmission hands the connect to a goroutine: admission, then the
// broker attach, then commit. Call with g.mu held.
func (g *Gateway) startAdmission(pc *pendingConnect) {
	stopTimer(pc.timer)
	pc.phase = phaseAdmit
	if !g.goAnswering(func(_ context.Context, answered func()) { g.admitAndAttach(pc, answered) }) {
		g.dropf(dropCongestion, pc.peer.key, "too many broker calls in progress", "client", pc.clientID)
		g.m.connects["congestion"].Inc()
		g.send(pc.peer, &mqttsn.Connack{ReturnCode: mqttsn.RejectedCongestion})
		g.removePending(pc)
	}
}

// admitAndAttach calls answered before it answers the client (goAnswering).
func (g *Gateway) admitAndAttach(pc *pendingConnect, answered func()) {
	req := &AdmitRequest{
		ClientID:     pc.clientID,
		Addr:         pc.peer.addr,
		NodeID:       pc.peer.nodeID(),
		CleanSession: pc.clean,
		Exchange: func(ctx context.Context, challenge mqttsn.Message) (mqttsn.Message, error) {
			return g.exchange(ctx, pc, challenge)
		},
	}
	if err := g.cfg.Authenticator.Admit(pc.ctx, req); err != nil {
		rc := admitCode(err)
		g.log.Info("client not admitted", "client", pc.clientID, "from", pc.peer.key.String(), "err", err)
		answered()
		g.mu.Lock()
		g.failConnect(pc, rc, dropAdmission)
		g.mu.Unlock()
		return
	}

	g.mu.Lock()
	if g.connecting[pc.peer.key] != pc || g.closed {
		g.mu.Unlock()
		return
	}
	wait, done := g.lifecycleStep(pc.clientID)
	g.mu.Unlock()
	defer done()

	ctx, cancel := context.WithTimeout(pc.ctx, g.cfg.BrokerTimeout)
	defer cancel()
	err := waitStep(ctx, wait)
	if err == nil {
		err = g.broker.Attach(ctx, pc.clientID, pc.clean)
	}
	g.mu.Lock()
	if err != nil {
		g.log.Warn("broker attach failed", "client", pc.clientID, "err", err)
		answered()
		g.failConnect(pc, mqttsn.RejectedCongestion, dropBrokerError)
		g.mu.Unlock()
		return
	}
	if g.closed || g.connecting[pc.peer.key] != pc {
		// Superseded after we attached (the client sent CONNECT again, or
		// gave up): undo the attach unless a session uses it. The detach
		// runs inside this lifecycle step, before done: a detach queued as
		// a step of its own would come after the newer CONNECT's attach,
		// already queued behind ours, and leave its session detached.
		s := g.byID[pc.clientID]
		undo := !g.closed && (s == nil || !s.state.live())
		g.mu.Unlock()
		if undo {
			dctx, dcancel := context.WithTimeout(g.ctx, g.cfg.BrokerTimeout)
			if err := g.broker.Detach(dctx, pc.clientID); err != nil {
				g.log.Debug("broker detach failed", "client", pc.clientID, "err", err)
			}
			dcancel()
		}
		return
	}
	answered()
	g.commitConnect(pc)
	g.mu.Unlock()
}

// failConnect answers a connect that cannot complete. Call with g.mu held.
func (g *Gateway) failConnect(pc *pendingConnect, rc mqttsn.ReturnCode, r dropReason) {
	if g.closed || g.connecting[pc.peer.key] != pc {
		return // superseded: the newer CONNECT gets the answer
	}
	g.removePending(pc)
	g.dropf(r, pc.peer.key, "connect refused", "client", pc.clientID, "code", rc)
	switch rc {
	case mqttsn.RejectedCongestion:
		g.m.connects["congestion"].Inc()
	case mqttsn.RejectedInvalidTopicID:
		g.m.connects["invalid_topic"].Inc()
	default:
		g.m.connects["not_supported"].Inc()
	}
	g.send(pc.peer, &mqttsn.Connack{ReturnCode: rc})
}

// commitConnect makes the admitted, attached client active; pc is still
// the address's connect in progress (admitAndAttach checked). Call with g.mu
// held, inside pc's lifecycle step.
//
// Take-over: a CONNECT with the client id of a session bound to another
// address takes that session over once it is admitted (in open mode at once,
// as MQTT 3.1.1 §3.1.4 does for a second connection): the old address gets a
// DISCONNECT, the will is not published, and CleanSession decides whether the
// session's state carries over. A connect that fails admission leaves the
// existing session untouched.
func (g *Gateway) commitConnect(pc *pendingConnect) {
	key := pc.peer.key
	g.removePending(pc)
	s := g.byID[pc.clientID]
	if other := g.byAddr[key]; other != nil && other != s {
		// The address now belongs to another client id: the old one is gone.
		g.lose(other, "address reused by another client id")
	}
	if s == nil {
		s = &session{id: pc.clientID, state: numStates}
		g.byID[pc.clientID] = s
	} else if s.peer != nil {
		if s.peer.key != key {
			g.log.Info("session taken over", "client", s.id, "old", s.peer.key.String(), "new", key.String())
			g.send(s.peer, &mqttsn.Disconnect{})
		}
		delete(g.byAddr, s.peer.key)
	}
	stopTimer(s.retry)
	if pc.clean {
		s.resetState() // §6.3
	} else {
		s.topics.forgetKnown() // §6.10: register again before publishing
		if s.reg != nil {
			s.reg = nil
		}
	}
	if pc.willGiven {
		s.will = pc.will
	}
	s.clean = pc.clean
	s.keepAlive = pc.keepAlive
	s.peer = pc.peer
	g.byAddr[key] = s
	s.lastSeen = g.clk.Now()
	g.setState(s, stateActive)
	g.armSupervision(s)
	g.m.connects["accepted"].Inc()
	g.send(s.peer, &mqttsn.Connack{ReturnCode: mqttsn.Accepted})
	if g.ho != nil {
		g.ho.connected(s, pc.admitCh, pc.admitAns) // handover.go: session token after CONNACK
	}
	g.resendOutstanding(s)
	g.pump(s)
}

// exchange implements AdmitRequest.Exchange.
func (g *Gateway) exchange(ctx context.Context, pc *pendingConnect, challenge mqttsn.Message) (mqttsn.Message, error) {
	answer := make(chan mqttsn.Message, 1)
	defer func() {
		g.mu.Lock()
		if pc.answer == answer {
			pc.answer = nil
		}
		g.mu.Unlock()
	}()
	for try := 0; ; try++ {
		// The retry timer is armed before the challenge leaves, so that a
		// virtual clock advanced on its arrival finds it.
		tick := make(chan struct{})
		t := g.clk.AfterFunc(g.cfg.RetryInterval, func() { close(tick) })
		g.mu.Lock()
		if g.closed || g.connecting[pc.peer.key] != pc {
			g.mu.Unlock()
			t.Stop()
			return nil, context.Canceled
		}
		pc.answer = answer
		sent := true
		switch {
		case try == 0:
			// The challenge answers the client's CONNECT (or its last
			// answer): it always leaves, once.
			pc.outOctets += challenge.Len()
			sent = g.send(pc.peer, challenge)
		case pc.outOctets+challenge.Len() <= pc.inOctets:
			pc.outOctets += challenge.Len()
			g.m.retransmit(byte(challenge.Type()))
			sent = g.send(pc.peer, challenge)
		default:
			// No amplification: a retransmission would send the address
			// more than it sent us. A client that lost the challenge
			// retransmits its CONNECT (§6.13), which starts afresh.
		}
		g.mu.Unlock()
		if !sent {
			t.Stop()
			return nil, errTooLarge
		}
		select {
		case m := <-answer:
			t.Stop()
			g.mu.Lock()
			pc.admitCh, pc.admitAns = challenge, m
			pc.inOctets += m.Len()
			g.mu.Unlock()
			return m, nil
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-pc.ctx.Done():
			t.Stop()
			return nil, pc.ctx.Err()
		case <-tick:
		}
		if try >= g.cfg.MaxRetries {
			return nil, ErrNoAnswer
		}
	}
}

// lifecycleStep orders broker Attach/Detach calls for one client id: the
// caller waits on wait, makes its call, then calls done. Call it with g.mu
// held; done may be called with or without g.mu (it takes only lifeMu).
func (g *Gateway) lifecycleStep(id string) (wait <-chan struct{}, done func()) {
	g.lifeMu.Lock()
	defer g.lifeMu.Unlock()
	prev := g.lifecycle[id]
	ch := make(chan struct{})
	g.lifecycle[id] = ch
	return prev, func() {
		close(ch)
		g.lifeMu.Lock()
		if g.lifecycle[id] == ch {
			delete(g.lifecycle, id)
		}
		g.lifeMu.Unlock()
	}
}

// lifecyclePending returns the channel of id's broker Attach/Detach step
// in progress, nil when there is none.
func (g *Gateway) lifecyclePending(id string) <-chan struct{} {
	g.lifeMu.Lock()
	defer g.lifeMu.Unlock()
	return g.lifecycle[id]
}

func waitStep(ctx context.Context, wait <-chan struct{}) error {
	if wait == nil {
		return nil
	}
	select {
	case <-wait:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
