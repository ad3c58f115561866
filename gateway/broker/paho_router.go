package broker

import (
	"context"
	"sync"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// aggRouter is the aggregating mode's fan-out: the MQTT-SN clients' sessions
// and subscriptions over one shared broker connection.
//
// The broker holds one subscription per distinct filter, at the highest QoS any
// client asked for; each client gets a message once, at the highest QoS of its
// matching filters, capped by the message's QoS (MQTT v5 §3.3.4).
//
// Retained messages: connections subscribe with Retain As Published off, so the
// broker sets Retain only on retained messages it sends because of a SUBSCRIBE
// (MQTT v5 §3.3.1.3). Those go only to the clients whose subscription caused
// that SUBSCRIBE (the filter's "waiters"), not to everyone sharing the filter.
type aggRouter struct {
	ext *External

	opMu sync.Mutex // serializes broker SUBSCRIBE/UNSUBSCRIBE against the tables

	mu      sync.Mutex
	clients map[string]*aggClient
	filters map[string]*aggFilter
	closed  bool
}

type aggClient struct {
	attached bool
	clean    bool
	subs     map[string]byte
	pending  []Message // detached persistent session
	expiry   clock.Timer
}

type aggFilter struct {
	clients map[string]byte // client id -> requested QoS
	waiters map[string]bool // clients owed the retained messages of the last SUBSCRIBE
}

func newAggRouter(e *External) *aggRouter {
	return &aggRouter{ext: e, clients: make(map[string]*aggClient), filters: make(map[string]*aggFilter)}
}

func (r *aggRouter) attach(ctx context.Context, id string, clean bool) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	c := r.clients[id]
	if c == nil {
		c = &aggClient{subs: make(map[string]byte)}
		r.clients[id] = c
	}
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	var gone []string
	if clean {
		gone = r.dropSubsLocked(id, c)
		c.pending = nil
	}
	c.clean = clean
	c.attached = true
	for _, m := range c.pending {
		r.ext.deliverTo(id, m)
	}
	c.pending = nil
	r.mu.Unlock()
	r.unsubscribeBroker(ctx, gone)
	return nil
}

func (r *aggRouter) detach(ctx context.Context, id string) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	r.mu.Lock()
	c := r.clients[id]
	if c == nil {
		r.mu.Unlock()
		return ErrUnknownClient
	}
	c.attached = false
	var gone []string
	if c.clean {
		gone = r.dropSubsLocked(id, c)
		delete(r.clients, id)
	} else if c.expiry == nil {
		c.expiry = r.ext.cfg.Clock.AfterFunc(r.ext.cfg.SessionExpiry, func() { r.expire(id, c) })
	}
	r.mu.Unlock()
	r.unsubscribeBroker(ctx, gone)
	return nil
}

func (r *aggRouter) expire(id string, c *aggClient) {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	r.mu.Lock()
	if c.attached || c.expiry == nil || r.clients[id] != c {
		r.mu.Unlock()
		return
	}
	if n := len(c.pending); n > 0 {
		r.ext.stats.drop("session_ended", n)
	}
	gone := r.dropSubsLocked(id, c)
	delete(r.clients, id)
	r.mu.Unlock()
	r.unsubscribeBroker(context.Background(), gone)
}

// dropSubsLocked removes every subscription of client id and returns the
// filters nobody subscribes to any more.
func (r *aggRouter) dropSubsLocked(id string, c *aggClient) []string {
	var gone []string
	for f := range c.subs {
		if af := r.filters[f]; af != nil {
			delete(af.clients, id)
			delete(af.waiters, id)
			if len(af.clients) == 0 {
				delete(r.filters, f)
				gone = append(gone, f)
			}
		}
		delete(c.subs, f)
	}
	return gone
}

func (r *aggRouter) unsubscribeBroker(ctx context.Context, filters []string) {
	for _, f := range filters {
		if err := r.ext.main.unsubscribe(ctx, f); err != nil {
			r.ext.log.Warn("broker unsubscribe failed", "filter", f, "err", err)
		}
	}
}

func (r *aggRouter) check(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	if c := r.clients[id]; c == nil || !c.attached {
		return ErrUnknownClient
	}
	return nil
}

func (r *aggRouter) subscribe(ctx context.Context, id, filter string, qos byte) (byte, error) {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return 0, ErrClosed
	}
	c := r.clients[id]
	if c == nil || !c.attached {
		r.mu.Unlock()
		return 0, ErrUnknownClient
	}
	af := r.filters[filter]
	if af == nil {
		af = &aggFilter{clients: make(map[string]byte)}
		r.filters[filter] = af
	}
	prev, had := af.clients[id]
	af.clients[id] = qos
	c.subs[filter] = qos
	var brokerQoS byte
	for _, q := range af.clients {
		brokerQoS = max(brokerQoS, q)
	}
	// Subscribing again makes the broker resend the filter's retained
	// messages (MQTT v5 §3.8.4), for this client only.
	af.waiters = map[string]bool{id: true}
	r.mu.Unlock()

	granted, err := r.ext.main.subscribe(ctx, filter, brokerQoS)
	if err != nil {
		r.mu.Lock()
		if had {
			af.clients[id] = prev
			c.subs[filter] = prev
		} else {
			delete(af.clients, id)
			delete(c.subs, filter)
			if len(af.clients) == 0 && r.filters[filter] == af {
				delete(r.filters, filter)
			}
		}
		r.mu.Unlock()
		return 0, err
	}
	return min(qos, granted), nil
}

func (r *aggRouter) unsubscribe(ctx context.Context, id, filter string) error {
	r.opMu.Lock()
	defer r.opMu.Unlock()
	r.mu.Lock()
	c := r.clients[id]
	if c == nil || !c.attached {
		r.mu.Unlock()
		return ErrUnknownClient
	}
	var gone []string
	if _, ok := c.subs[filter]; ok {
		delete(c.subs, filter)
		if af := r.filters[filter]; af != nil {
			delete(af.clients, id)
			delete(af.waiters, id)
			if len(af.clients) == 0 {
				delete(r.filters, filter)
				gone = []string{filter}
			}
		}
	}
	r.mu.Unlock()
	r.unsubscribeBroker(ctx, gone)
	return nil
}

// restoring runs before the subscriptions are restored on a connection whose
// broker lost our session: every client of a filter is owed its retained
// messages again (they may have changed during the outage).
func (r *aggRouter) restoring() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, af := range r.filters {
		af.waiters = make(map[string]bool, len(af.clients))
		for id := range af.clients {
			af.waiters[id] = true
		}
	}
}

// route runs on paho's goroutine for every message of the shared connection.
// With ResumeSession it first waits for Release: paho acknowledges a message
// to the broker only after route returns.
func (r *aggRouter) route(p *paho.Publish) {
	<-r.ext.held
	r.mu.Lock()
	defer r.mu.Unlock()
	var targets map[string]byte
	for f, af := range r.filters {
		if !MatchFilter(f, p.Topic) {
			continue
		}
		if targets == nil {
			targets = make(map[string]byte, len(af.clients))
		}
		for id, q := range af.clients {
			if p.Retain && !af.waiters[id] {
				continue
			}
			if old, ok := targets[id]; !ok || q > old {
				targets[id] = q
			}
		}
	}
	first := true
	for id, q := range targets {
		c := r.clients[id]
		if c == nil {
			continue
		}
		payload := p.Payload // paho allocates it for this packet: the first recipient may own it
		if !first {
			payload = append([]byte(nil), p.Payload...)
		}
		m := Message{Topic: p.Topic, Payload: payload, QoS: min(p.QoS, q), Retain: p.Retain}
		switch {
		case c.attached:
			r.ext.deliverTo(id, m)
			first = false
		case m.QoS == 0:
			r.ext.stats.drop("detached_qos0", 1)
		case len(c.pending) >= r.ext.cfg.MaxDetachedQueued:
			r.ext.stats.drop("detached_full", 1)
		default:
			c.pending = append(c.pending, m)
			first = false
		}
	}
}

func (r *aggRouter) fill(s *Stats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.clients {
		if c.attached {
			s.Clients++
		}
		s.Subscriptions += len(c.subs)
	}
}

func (r *aggRouter) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, c := range r.clients {
		if c.expiry != nil {
			c.expiry.Stop()
			c.expiry = nil
		}
	}
}
