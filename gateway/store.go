package gateway

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Store keeps the gateway's sessions across restarts (Config.Store; the
// bbolt implementation is OpenBoltStore). The gateway loads every record
// once in New and then writes the sessions that changed in groups (one
// Write call per group commit, from one goroutine). A Store must make
// Write durable before it returns: the gateway tells the broker a message is
// delivered only after the Write that holds it returned.
type Store interface {
	// Load returns every stored session.
	Load() ([]SessionRecord, error)
	// Write stores put (replacing records with the same ClientID) and
	// removes the records of the ids in del, atomically.
	Write(put []SessionRecord, del []string) error
}

// SessionRecord is one client's durable session state.
type SessionRecord struct {
	ClientID  string `json:"id"`
	State     string `json:"state"` // active, asleep, awake, disconnected, lost
	Addr      string `json:"addr,omitempty"`
	Node      []byte `json:"node,omitempty"` // forwarder's Wireless Node Id (MQTT-SN v1.2 §5.5)
	KeepAlive uint16 `json:"keep_alive,omitempty"`
	SleepDur  uint16 `json:"sleep,omitempty"`

	Will          *WillRecord          `json:"will,omitempty"`
	Topics        []TopicRecord        `json:"topics,omitempty"`
	NextTopicID   uint16               `json:"next_topic_id,omitempty"`
	Subscriptions []SubscriptionRecord `json:"subs,omitempty"`
	NextMsgID     uint16               `json:"next_msg_id,omitempty"`
	Queue         []broker.Message     `json:"queue,omitempty"`    // waiting to be sent
	Inflight      []InflightRecord     `json:"inflight,omitempty"` // sent, not yet acknowledged
	InQoS2        []uint16             `json:"in_qos2,omitempty"`  // client QoS 2 ids PUBREC'd, awaiting PUBREL
}

// WillRecord is a stored will (§6.3).
type WillRecord struct {
	Topic  string `json:"topic"`
	Msg    []byte `json:"msg,omitempty"`
	QoS    byte   `json:"qos,omitempty"`
	Retain bool   `json:"retain,omitempty"`
}

// TopicRecord is one entry of a client's topic registry (§6.5, §6.10).
type TopicRecord struct {
	Name     string `json:"name"`
	ID       uint16 `json:"id"`
	Known    bool   `json:"known,omitempty"`
	Rejected bool   `json:"rejected,omitempty"`
}

// SubscriptionRecord is a subscription the broker granted the client.
type SubscriptionRecord struct {
	Filter string `json:"filter"`
	QoS    byte   `json:"qos"`
}

// InflightRecord is a QoS 1/2 message the gateway sent to the client and
// the client has not completed.
type InflightRecord struct {
	Msg         broker.Message `json:"msg"`
	MsgID       uint16         `json:"msg_id"`
	TopicID     uint16         `json:"topic_id"`
	TopicIDType byte           `json:"topic_id_type"`
	Phase       uint8          `json:"phase"`
}

// storeState is the gateway's side of a Store. Fields marked (mu) are
// guarded by Gateway.mu.
type storeState struct {
	s       Store
	dirty   map[string]*session        // (mu) changed since the last snapshot; nil value: deleted
	subs    map[string]map[string]byte // (mu) granted subscriptions by client id
	subsEp  map[string]uint32          // (mu) the session epoch subs belong to
	pending map[string]*SessionRecord  // (mu) loaded, not yet bound to a served conn
	touched atomic.Uint64              // changes made (under mu)
	kick    chan struct{}              // wakes the writer
	done    chan struct{}              // closed when the writer has ended
	fmu     sync.Mutex                 // guards flushed and failed
	fcond   *sync.Cond                 // broadcast when flushed grows
	flushed uint64                     // changes written
	failed  error                      // last Write error
	// restoring counts the restored sessions whose broker Attach and
	// Subscribe calls have not ended (AwaitRestored).
	restoring sync.WaitGroup
}

// storeInit loads the stored sessions and starts the writer. Called by New.
func (g *Gateway) storeInit() error {
	st := &g.st
	st.s = g.cfg.Store
	if st.s == nil {
		if g.cfg.Peering != nil {
			// Handover transfers the subscriptions: record them (storeSub).
			st.subs, st.subsEp = map[string]map[string]byte{}, map[string]uint32{}
		}
		return nil
	}
	recs, err := st.s.Load()
	if err != nil {
		return fmt.Errorf("gateway: loading sessions: %w", err)
	}
	st.dirty = map[string]*session{}
	st.subs = map[string]map[string]byte{}
	st.subsEp = map[string]uint32{}
	st.pending = make(map[string]*SessionRecord, len(recs))
	for i := range recs {
		st.pending[recs[i].ClientID] = &recs[i]
	}
	st.kick = make(chan struct{}, 1)
	st.done = make(chan struct{})
	st.fcond = sync.NewCond(&st.fmu)
	go g.storeWriter()
	return nil
}

// touch records that s changed. Call with g.mu held.
func (g *Gateway) touch(s *session) {
	st := &g.st
	if st.s == nil {
		return
	}
	st.dirty[s.id] = s
	st.touched.Add(1)
	select {
	case st.kick <- struct{}{}:
	default:
	}
}

// storeSub records a subscription granted (add) or removed. Call with g.mu held.
func (g *Gateway) storeSub(s *session, filter string, qos byte, add bool) {
	st := &g.st
	if st.subs == nil {
		return // neither a Store nor peering needs them
	}
	m := st.subs[s.id]
	if m == nil || st.subsEp[s.id] != s.epoch {
		m = map[string]byte{}
		st.subs[s.id], st.subsEp[s.id] = m, s.epoch
	}
	if add {
		m[filter] = qos
	} else {
		delete(m, filter)
	}
	g.touch(s)
}

// storeSync waits until every change made so far is written. It is called
// without g.mu, after a change whose loss would lose a message (Deliver).
func (g *Gateway) storeSync() {
	st := &g.st
	if st.s == nil {
		return
	}
	target := st.touched.Load()
	st.fmu.Lock()
	for st.flushed < target && st.failed == nil {
		select {
		case <-st.done:
			st.fmu.Unlock()
			return
		default:
		}
		st.fcond.Wait()
	}
	st.fmu.Unlock()
}

// storeWriter writes the changed sessions, one group at a time, until the
// gateway closes; then it writes what is left and ends.
func (g *Gateway) storeWriter() {
	st := &g.st
	defer close(st.done)
	for {
		var closing bool
		select {
		case <-st.kick:
		case <-g.ctx.Done():
			closing = true
		}
		g.storeFlush()
		if closing {
			st.fmu.Lock()
			st.fcond.Broadcast()
			st.fmu.Unlock()
			return
		}
	}
}

func (g *Gateway) storeFlush() {
	st := &g.st
	g.mu.Lock()
	seq := st.touched.Load()
	var put []SessionRecord
	var del []string
	for id, s := range st.dirty {
		if s == nil || g.byID[id] != s || s.state >= numStates || s.state == stateConnecting {
			if g.byID[id] == nil {
				del = append(del, id)
				delete(st.subs, id)
				delete(st.subsEp, id)
			}
			continue
		}
		put = append(put, g.record(s))
	}
	clear(st.dirty)
	g.mu.Unlock()
	var err error
	if len(put) > 0 || len(del) > 0 {
		err = st.s.Write(put, del)
		if err != nil {
			g.log.Error("session store write failed", "err", err)
		}
	}
	st.fmu.Lock()
	if seq > st.flushed {
		st.flushed = seq
	}
	st.failed = err
	st.fcond.Broadcast()
	st.fmu.Unlock()
}

// record snapshots s. Call with g.mu held. Payloads are shared, not copied:
// the gateway never modifies a message's payload.
func (g *Gateway) record(s *session) SessionRecord {
	r := SessionRecord{ClientID: s.id, State: s.state.String(), KeepAlive: s.keepAlive, SleepDur: s.sleepDur,
		NextTopicID: s.topics.nextID, NextMsgID: s.nextMsgID}
	if s.peer != nil {
		r.Addr = s.peer.key.ap.String()
		if !s.peer.key.ap.IsValid() {
			r.Addr = s.peer.key.addr
		}
		if s.peer.key.node != "" {
			r.Node = []byte(s.peer.key.node)
		}
	}
	if w := s.will; w != nil {
		r.Will = &WillRecord{Topic: w.topic, Msg: w.msg, QoS: w.qos, Retain: w.retain}
	}
	for _, e := range s.topics.entries {
		r.Topics = append(r.Topics, TopicRecord{Name: e.name, ID: e.id, Known: e.known, Rejected: e.rejected})
	}
	if g.st.subsEp[s.id] == s.epoch {
		for f, q := range g.st.subs[s.id] {
			r.Subscriptions = append(r.Subscriptions, SubscriptionRecord{Filter: f, QoS: q})
		}
	}
	for _, q := range s.queue {
		r.Queue = append(r.Queue, q.m)
	}
	for _, o := range s.inflight {
		r.Inflight = append(r.Inflight, InflightRecord{Msg: o.m, MsgID: o.msgID, TopicID: o.topicID,
			TopicIDType: byte(o.tt), Phase: o.phase})
	}
	r.InQoS2 = append(r.InQoS2, s.inQoS2...)
	return r
}

// storeRestore binds the loaded sessions whose address c can reach to c:
// the clients carry on where they were, without connecting again. Call
// with g.mu held, from Serve.
func (g *Gateway) storeRestore(c *servedConn) {
	st := &g.st
	for id, r := range st.pending {
		key, addr, ok := restoreKey(c, r)
		if !ok {
			continue
		}
		delete(st.pending, id)
		if g.byID[id] != nil || (r.Addr != "" && g.byAddr[key] != nil) {
			continue // a client connected before its conn was served
		}
		g.restoreSession(r, key, addr)
	}
}

// restoreKey builds the peer key of r's address on c.
func restoreKey(c *servedConn, r *SessionRecord) (peerKey, net.Addr, bool) {
	key := peerKey{conn: c, node: string(r.Node)}
	if r.Addr == "" {
		return key, nil, true // disconnected or lost: no address
	}
	ap, err := netip.ParseAddrPort(r.Addr)
	if c.udp != nil {
		if err != nil {
			return key, nil, false
		}
		la, ok := c.udp.LocalAddr().(*net.UDPAddr)
		if ok && la.IP != nil && !la.IP.IsUnspecified() && (la.IP.To4() != nil) != ap.Addr().Unmap().Is4() {
			return key, nil, false // the other family's socket
		}
		key.ap = ap
		return key, nil, true
	}
	key.addr = r.Addr
	if err == nil {
		return key, net.UDPAddrFromAddrPort(ap), true
	}
	return key, nil, false
}

func parseState(s string) (clientState, bool) {
	for i, n := range stateNames {
		if n == s {
			return clientState(i), true
		}
	}
	return 0, false
}

// restoreSession rebuilds one session, re-attaches it to the broker
// (persistent) and restores its subscriptions there. Call with g.mu held.
func (g *Gateway) restoreSession(r *SessionRecord, key peerKey, addr net.Addr) {
	stt, ok := parseState(r.State)
	if !ok || stt == stateConnecting {
		return
	}
	now := g.clk.Now()
	s := &session{id: r.ClientID, state: numStates, keepAlive: r.KeepAlive, sleepDur: r.SleepDur,
		lastSeen: now, nextMsgID: r.NextMsgID}
	if r.Will != nil {
		s.will = &will{topic: r.Will.Topic, msg: r.Will.Msg, qos: r.Will.QoS, retain: r.Will.Retain}
	}
	for _, t := range r.Topics {
		if e := s.topics.register(t.Name, g.cfg.MaxTopicsPerClient); e != nil {
			e.id, e.known, e.rejected = t.ID, t.Known, t.Rejected
		}
	}
	if s.topics.byName != nil {
		for i := range s.topics.entries {
			s.topics.byName[s.topics.entries[i].name] = i
		}
	}
	s.topics.nextID = r.NextTopicID
	for _, m := range r.Queue {
		s.queue = append(s.queue, queuedMsg{m: m})
	}
	for _, o := range r.Inflight {
		s.inflight = append(s.inflight, outMsg{m: o.Msg, sentAt: now, msgID: o.MsgID, topicID: o.TopicID,
			tt: mqttsn.TopicIDType(o.TopicIDType), phase: o.Phase})
	}
	s.inQoS2 = append(s.inQoS2, r.InQoS2...)
	if r.Addr == "" && stt.live() {
		stt = stateLost
	}
	if r.Addr != "" && stt.live() {
		s.peer = newPeer(key, addr)
		g.byAddr[key] = s
	}
	g.byID[s.id] = s
	g.setState(s, stt)
	g.armSupervision(s)
	subs := map[string]byte{}
	for _, sub := range r.Subscriptions {
		subs[sub.Filter] = sub.QoS
	}
	g.st.subs[s.id], g.st.subsEp[s.id] = subs, s.epoch
	g.log.Info("session restored", "client", s.id, "state", stt.String(), "from", key.String(),
		"topics", len(r.Topics), "subscriptions", len(subs), "queued", len(s.queue), "inflight", len(s.inflight))

	id := s.id
	wait, done := g.lifecycleStep(id)
	g.st.restoring.Add(1)
	if !g.goBroker(func(ctx context.Context) {
		defer done()
		restored := sync.OnceFunc(g.st.restoring.Done)
		defer restored()
		if waitStep(ctx, wait) != nil {
			return
		}
		if err := g.broker.Attach(ctx, id, false); err != nil {
			g.log.Warn("restored session: broker attach failed", "client", id, "err", err)
			return
		}
		for f, q := range subs {
			if _, err := g.broker.Subscribe(ctx, id, f, q); err != nil {
				g.log.Warn("restored session: subscription not restored", "client", id, "filter", f, "err", err)
			}
		}
		restored()
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.closed || g.byID[id] != s || s.peer == nil {
			return
		}
		g.resendOutstanding(s)
		g.pump(s)
	}) {
		g.st.restoring.Done()
		done()
	}
}

// AwaitRestored waits until every session restored from the Store so far
// (by the Serve calls that have started) is attached to the broker again
// and has its subscriptions back there, or ctx ends. A broker adapter that
// resumed its broker session (broker.ExternalConfig.ResumeSession) routes
// what the broker kept only after that: call it once every Serve has
// started (Config.NotifyStarted), then release the adapter.
func (g *Gateway) AwaitRestored(ctx context.Context) error {
	ch := make(chan struct{})
	go func() {
		g.st.restoring.Wait()
		close(ch)
	}()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
