package gateway

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"net"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Handover of a moving node's session between gateways (the paper's §4.2;
// docs/protocol.md "Handover"):
//
//  1. At connect the home gateway gives the node a session token (HO-TOKEN
//     after CONNACK): opaque to the node, bound by the home gateway's MAC to
//     the client id and the home gateway's name, expiring, valid once.
//  2. In a new area the node sends the visited gateway HO-RESUME (client id,
//     home name, token, optionally a fresh proof of its secret). The visited
//     gateway fetches the session from the home gateway (HO-FETCH →
//     HO-TRANSFER), subscribes at its own broker, answers the node
//     HO-RESUMED with its next token, and confirms (HO-CONFIRM). The home
//     gateway then drops the session and forwards what its broker still
//     routes to the node (HO-FORWARD).
//  3. Or the home gateway pushes the session ahead (PushSession), and the
//     node's HO-RESUME finds it waiting.
//  4. Anything else — unknown or unreachable home, refused token, refused
//     admission — is answered with HO-RESUMED carrying the reason, and the
//     node connects afresh.
//
// All handover state is guarded by Gateway.mu, like the sessions.

// handover is a gateway's peering state. Guarded by Gateway.mu.
type handover struct {
	g             *Gateway
	cfg           PeeringConfig
	peers         map[string]*peerGW
	m             *hoMetrics
	pc            net.PacketConn // the served peer socket
	notifyStarted func(net.PacketConn)
	wbuf          []byte

	resumes  map[string]*resumeOp // visited side: resumes in progress, by client id
	pushes   map[string]*session  // visited side: pushed sessions being installed
	holding  map[peerKey]*resumeOp
	nHolding atomic.Int32 // len(holding), read without the lock by handleDatagram
	fwdSeq   uint32
	forwards map[uint32]*fwdOp // home side: HO-FORWARD awaiting HO-FWDACK, by Seq
	xid      uint32
}

// hoState is a session's handover state (session.ho), nil until used.
type hoState struct {
	token    []byte // the token the node holds, valid here; nil: none
	tokenExp time.Time
	resumed  []byte // the token the node resumed with here: a repeated HO-RESUME is answered again

	// The admission record: the TS challenge the node last proved its
	// secret for, the gateway whose name the proof is bound to, the proof,
	// and when the TS last confirmed the node.
	admitGW    string
	admitCh    []byte
	admitProof []byte
	admittedAt time.Time
	verifying  bool // home side: the TS is re-checking the record for a fetch

	pushed   *peerGW         // visited side: installed ahead of the node by this peer
	fromPeer *peerGW         // visited side: the peer the session came from
	fromXID  uint32          // and the XID of its HO-TRANSFER
	subs     map[string]byte // visited side: transferred subscriptions, until installed
	move     *moveOp         // home side: handed over (or being handed over)
}

func (g *Gateway) hoOf(s *session) *hoState {
	if s.ho == nil {
		s.ho = &hoState{}
	}
	return s.ho
}

// newHandover validates cfg (a copy) and builds the run-time state. Called
// by New.
func newHandover(g *Gateway, cfg PeeringConfig) (*handover, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newHOMetrics(g.cfg.Registerer)
	if err != nil {
		return nil, err
	}
	h := &handover{g: g, cfg: cfg, peers: map[string]*peerGW{}, m: m, notifyStarted: cfg.NotifyStarted,
		resumes: map[string]*resumeOp{}, holding: map[peerKey]*resumeOp{}, pushes: map[string]*session{},
		forwards: map[uint32]*fwdOp{},
		wbuf:     make([]byte, 0, 1024)}
	for _, p := range cfg.Peers {
		h.peers[p.Name] = &peerGW{name: p.Name, key: append([]byte(nil), p.Key...), addr: p.Addr}
	}
	return h, nil
}

func (h *handover) nextXID() uint32 {
	h.xid++
	if h.xid == 0 {
		h.xid = 1
	}
	return h.xid
}

// Session tokens (docs/protocol.md "HO-TOKEN"):
//
//	Token = Nonce(4) ‖ Expiry(4) ‖ MAC(8)
//	MAC   = HMAC-SHA256(TokenKey, "lsmqtt/v1 token" ‖ len ‖ Home ‖ len ‖ ClientId ‖ Nonce ‖ Expiry)[:8]
//
// 16 octets: every octet a node sends costs it energy. The home gateway
// also keeps the token it issued and compares it in constant time — only
// the latest is valid, and only once — so the MAC (64 bits, checked online,
// one guess per peer request) binds the token to the client id and the home
// gateway rather than being the only defence.
const tokenLen = 4 + 4 + 8

func (h *handover) tokenMAC(clientID string, nonceExp []byte) []byte {
	m := hmac.New(sha256.New, h.cfg.TokenKey)
	m.Write([]byte("lsmqtt/v1 token"))
	m.Write([]byte{byte(len(h.cfg.Name))})
	m.Write([]byte(h.cfg.Name))
	m.Write([]byte{byte(len(clientID))})
	m.Write([]byte(clientID))
	m.Write(nonceExp)
	return m.Sum(nil)[:8]
}

// issueToken gives s a fresh token and returns the HO-TOKEN carrying it.
// Call with g.mu held.
func (h *handover) issueToken(s *session) *mqttsn.HOToken {
	exp := h.g.clk.Now().Add(h.cfg.TokenTTL)
	tok := make([]byte, tokenLen)
	if _, err := rand.Read(tok[:4]); err != nil {
		return nil
	}
	e := exp.Unix()
	if e < 0 || e > 0xFFFFFFFF {
		return nil
	}
	binary.BigEndian.PutUint32(tok[4:8], uint32(e))
	copy(tok[8:], h.tokenMAC(s.id, tok[:8]))
	st := h.g.hoOf(s)
	st.token, st.tokenExp = tok, time.Unix(e, 0)
	return &mqttsn.HOToken{Expiry: uint32(e), Home: []byte(h.cfg.Name), Token: tok}
}

// checkToken says whether tok is s's current token, ours, and unexpired.
func (h *handover) checkToken(s *session, tok []byte) mqttsn.HOStatus {
	if len(tok) != tokenLen || !hmac.Equal(h.tokenMAC(s.id, tok[:8]), tok[8:]) {
		return mqttsn.HOBadToken
	}
	st := s.ho
	if st == nil || st.token == nil || !hmac.Equal(st.token, tok) {
		return mqttsn.HOBadToken
	}
	if !h.g.clk.Now().Before(st.tokenExp) {
		return mqttsn.HOExpired
	}
	return mqttsn.HOAccepted
}

// sendToken gives the client of s a fresh token, after CONNACK. Call with
// g.mu held.
func (h *handover) sendToken(s *session) {
	if s.peer == nil {
		return
	}
	if m := h.issueToken(s); m != nil {
		h.g.send(s.peer, m)
	}
}

// recordAdmission keeps the admission exchange of a connect (the TS
// challenge and the node's proof), if it was one. Call with g.mu held.
func (g *Gateway) recordAdmission(s *session, challenge, answer mqttsn.Message) {
	ch, ok1 := challenge.(*mqttsn.TSChallenge)
	pr, ok2 := answer.(*mqttsn.TSProof)
	st := g.hoOf(s)
	if !ok1 || !ok2 || len(pr.Proof) != mqttsn.HOProofLen || len(ch.Challenge) != mqttsn.HOChallenge {
		st.admitGW, st.admitCh, st.admitProof, st.admittedAt = "", nil, nil, time.Time{}
		return
	}
	st.admitGW = string(ch.Gateway)
	st.admitCh = append([]byte(nil), ch.Challenge...)
	st.admitProof = append([]byte(nil), pr.Proof...)
	st.admittedAt = g.clk.Now()
}

// hoRecord snapshots s as a session record for a transfer. Call with g.mu
// held. Byte fields alias the session's strings and payloads (copied when
// encoded).
func (h *handover) hoRecord(s *session) *mqttsn.HOSession {
	g := h.g
	r := &mqttsn.HOSession{Clean: s.clean, Asleep: s.state == stateAsleep || s.state == stateAwake,
		KeepAlive: s.keepAlive, SleepDuration: s.sleepDur, NextMsgID: s.nextMsgID, NextTopicID: s.topics.nextID}
	if st := s.ho; st != nil && st.admitGW != "" {
		r.AdmitGateway, r.AdmitChallenge, r.AdmitProof = []byte(st.admitGW), st.admitCh, st.admitProof
		if t := st.admittedAt.Unix(); t > 0 && t <= 0xFFFFFFFF {
			r.AdmittedAt = uint32(t)
		}
	}
	for _, e := range s.topics.entries {
		r.Topics = append(r.Topics, mqttsn.HOTopic{ID: e.id, Known: e.known, Rejected: e.rejected, Name: []byte(e.name)})
	}
	if g.st.subsEp[s.id] == s.epoch {
		for f, q := range g.st.subs[s.id] {
			r.Subs = append(r.Subs, mqttsn.HOSub{QoS: q, Filter: []byte(f)})
		}
	}
	if w := s.will; w != nil {
		r.Will = &mqttsn.HOWill{QoS: w.qos, Retain: w.retain, Topic: []byte(w.topic), Msg: w.msg}
	}
	if rg := s.reg; rg != nil {
		r.Reg = &mqttsn.HOReg{TopicID: rg.topicID, MsgID: rg.msgID, Name: []byte(rg.name)}
	}
	for _, o := range s.inflight {
		r.Out = append(r.Out, mqttsn.HOOut{MsgID: o.msgID, TopicID: o.topicID, TopicIDType: o.tt, Phase: o.phase,
			Msg: hoMessage(o.m, o.requeued)})
	}
	for _, q := range s.queue {
		r.Queue = append(r.Queue, hoMessage(q.m, q.requeued))
	}
	r.InQoS2 = append(r.InQoS2, s.inQoS2...)
	return r
}

func hoMessage(m broker.Message, requeued bool) mqttsn.HOMessage {
	p := m.Payload
	if p == nil {
		p = []byte{}
	}
	return mqttsn.HOMessage{QoS: m.QoS, Retain: m.Retain, Requeued: requeued, Topic: []byte(m.Topic), Payload: p}
}

func brokerMessage(m *mqttsn.HOMessage) broker.Message {
	return broker.Message{Topic: string(m.Topic), Payload: append([]byte(nil), m.Payload...), QoS: m.QoS, Retain: m.Retain}
}

// sessionFromRecord builds a session (not yet in any table) from a
// transferred record. Everything is copied out of r.
func (h *handover) sessionFromRecord(id string, r *mqttsn.HOSession) *session {
	g := h.g
	now := g.clk.Now()
	s := &session{id: id, state: numStates, clean: r.Clean, keepAlive: r.KeepAlive, sleepDur: r.SleepDuration,
		lastSeen: now, nextMsgID: r.NextMsgID}
	for _, t := range r.Topics {
		if e := s.topics.register(string(t.Name), g.cfg.MaxTopicsPerClient); e != nil {
			e.id, e.known, e.rejected = t.ID, t.Known, t.Rejected
		}
	}
	if s.topics.byName != nil {
		for i := range s.topics.entries {
			s.topics.byName[s.topics.entries[i].name] = i
		}
	}
	s.topics.nextID = r.NextTopicID
	if w := r.Will; w != nil {
		s.will = &will{topic: string(w.Topic), msg: append([]byte(nil), w.Msg...), qos: w.QoS, retain: w.Retain}
	}
	if rg := r.Reg; rg != nil {
		s.reg = &outReg{name: string(rg.Name), topicID: rg.TopicID, msgID: rg.MsgID, sentAt: now}
	}
	for i := range r.Out {
		o := &r.Out[i]
		s.inflight = append(s.inflight, outMsg{m: brokerMessage(&o.Msg), sentAt: now, msgID: o.MsgID,
			topicID: o.TopicID, tt: o.TopicIDType, phase: o.Phase, requeued: o.Msg.Requeued})
	}
	for i := range r.Queue {
		s.queue = append(s.queue, queuedMsg{m: brokerMessage(&r.Queue[i]), requeued: r.Queue[i].Requeued})
	}
	s.inQoS2 = append(s.inQoS2, r.InQoS2...)
	st := g.hoOf(s)
	if r.AdmitGateway != nil {
		st.admitGW = string(r.AdmitGateway)
		st.admitCh = append([]byte(nil), r.AdmitChallenge...)
		st.admitProof = append([]byte(nil), r.AdmitProof...)
	}
	if r.AdmittedAt != 0 {
		st.admittedAt = time.Unix(int64(r.AdmittedAt), 0)
	}
	st.subs = make(map[string]byte, len(r.Subs))
	for _, sub := range r.Subs {
		st.subs[string(sub.Filter)] = sub.QoS
	}
	return s
}

// setSubs records subs as s's subscriptions.
func (g *Gateway) setSubs(s *session, subs map[string]byte) {
	if g.st.subs == nil {
		return
	}
	g.st.subs[s.id], g.st.subsEp[s.id] = subs, s.epoch
}

// retry bookkeeping shared by the peer operations.
type peerRetry struct {
	timer clock.Timer
	tries int
}

// connected starts a session's handover state afresh after a CONNECT: the
// admission exchange is kept, and the node gets a token. Call with g.mu
// held, after CONNACK.
func (h *handover) connected(s *session, challenge, answer mqttsn.Message) {
	if st := s.ho; st != nil {
		if st.move != nil {
			stopTimer(st.move.timer)
		}
		s.ho = nil
	}
	h.g.recordAdmission(s, challenge, answer)
	h.sendToken(s)
	h.m.count(func(st *HandoverStats) { st.TokensIssued++ })
}

// event reports a step to Config.OnEvent. Call with g.mu held.
func (h *handover) event(k EventKind, id string, peer *peerGW, st mqttsn.HOStatus) {
	if f := h.cfg.OnEvent; f != nil {
		name := ""
		if peer != nil {
			name = peer.name
		}
		f(HandoverEvent{Kind: k, ClientID: id, Peer: name, Status: st})
	}
}
