package broker

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// Mode is how an External adapter maps MQTT-SN clients onto broker connections.
type Mode int

const (
	// Aggregating shares one broker connection among all MQTT-SN clients.
	// Subscriptions are reference-counted per filter (the broker sees the
	// highest QoS asked for) and incoming messages are fanned out to the clients
	// whose filters match. Cheapest on the broker; the broker sees one client id.
	Aggregating Mode = iota
	// Transparent opens one broker connection per MQTT-SN client, with the
	// client's own client id and session: the broker sees every sensor.
	Transparent
)

func (m Mode) String() string {
	if m == Transparent {
		return "transparent"
	}
	return "aggregating"
}

// ParseMode parses "aggregating" or "transparent".
func ParseMode(s string) (Mode, error) {
	switch strings.ToLower(s) {
	case "aggregating", "":
		return Aggregating, nil
	case "transparent":
		return Transparent, nil
	}
	return 0, fmt.Errorf("broker mode %q: want aggregating or transparent", s)
}

// ExternalConfig configures NewExternal. Zero durations and sizes take the
// defaults given.
type ExternalConfig struct {
	// URL of the broker: mqtt://host[:1883] or mqtts://host[:8883] (TLS).
	// user:password@ in the URL authenticates the connections.
	URL string
	// Mode: Aggregating (default) or Transparent.
	Mode Mode
	// ClientID of the shared connection (aggregating) or of the control
	// connection that watches the broker's health (transparent).
	// Default "lsmqtt-gw-" and 8 random hex digits.
	ClientID string
	// TLS configures mqtts:// connections; nil uses the system roots.
	TLS *tls.Config
	// Deliver receives messages routed to MQTT-SN clients; or use SetDeliver.
	Deliver DeliverFunc
	// MaxQueued bounds the messages accepted but not yet acknowledged by the
	// broker, across all connections (the outage queue). Publish returns
	// ErrBusy at the bound. Default 10000.
	MaxQueued int
	// MaxDetachedQueued bounds the QoS 1/2 messages kept for one detached
	// persistent client (aggregating mode; in transparent mode the broker keeps
	// them). Default 1000.
	MaxDetachedQueued int
	// SessionExpiry is how long the session of a detached persistent client
	// (clean=false) lives: in the adapter (aggregating) or at the broker
	// (transparent, the MQTT v5 Session Expiry Interval). Default 1h.
	SessionExpiry time.Duration
	// BrokerSessionExpiry is the MQTT v5 Session Expiry Interval of the shared
	// connection, so that a network blip loses nothing. Default 1h.
	BrokerSessionExpiry time.Duration
	// KeepAlive of every broker connection. Default 30s.
	KeepAlive time.Duration
	// ConnectTimeout bounds one connection attempt. Default 10s.
	ConnectTimeout time.Duration
	// AckTimeout bounds the wait for a PUBACK/PUBCOMP/SUBACK. Default 10s.
	AckTimeout time.Duration
	// MinBackoff and MaxBackoff bound the exponential reconnect backoff.
	// Defaults 250ms and 30s.
	MinBackoff, MaxBackoff time.Duration
	// OnStateChange, if set, is told of broker connection state changes. It
	// runs on the adapter's goroutine and must not block.
	OnStateChange func(State)
	// Clock times session expiry. Default clock.Real.
	Clock clock.Clock
	// Logger; default discard.
	Logger *slog.Logger

	// ResumeSession makes the shared (aggregating) or control (transparent)
	// connection resume the broker session of ClientID on its first connect
	// (Clean Start 0, MQTT v5 §3.1.2.4) instead of starting a new one, so that
	// what the broker kept for a gateway that was killed (its subscriptions,
	// the QoS 1/2 messages queued or unacknowledged meanwhile) arrives after
	// the restart. For a gateway with a durable session store. In aggregating
	// mode the messages of the shared connection are then held (not
	// acknowledged to the broker) until Release: the gateway restores its
	// clients' subscriptions first, so nothing the broker resends is routed to
	// nobody.
	ResumeSession bool
	// SyncPublish makes a QoS 1/2 Publish return only once the broker
	// acknowledged the message (PUBACK/PUBCOMP): during an outage it waits
	// for the connection (within its ctx) instead of accepting the message
	// into the in-memory outage queue, which a kill -9 would lose. For a
	// gateway with a durable session store: its PUBACK to the MQTT-SN client
	// then means the broker has the message. A QoS 1/2 publish cut off by a
	// lost connection is sent again on the next one (at least once). QoS 0
	// still uses the queue.
	SyncPublish bool
}

// External connects the gateway to any MQTT v5 broker (mosquitto, EMQX,
// HiveMQ, a cluster) through eclipse/paho.golang. Broker outages are survived:
// connections come back with exponential backoff, subscriptions are restored,
// and messages accepted meanwhile wait in a bounded queue (see pahoConn for the
// delivery guarantee). MQTT 3.1.1-only brokers are not supported: paho.golang
// speaks MQTT v5.
type External struct {
	cfg     ExternalConfig
	url     *url.URL
	log     *slog.Logger
	deliver atomic.Pointer[DeliverFunc]
	stats   counters
	queued  atomic.Int64
	main    *pahoConn // aggregating: the shared connection; transparent: the control connection
	router  *aggRouter

	mu       sync.Mutex
	conns    map[string]*pahoConn // transparent: per client
	draining sync.WaitGroup       // transparent: detached connections emptying their queues
	drainSet map[string]*pahoConn // transparent: detached, still emptying their queues
	closed   bool
	last     State

	held     chan struct{} // ResumeSession, aggregating: closed by Release or Close
	heldOnce sync.Once
}

var _ Broker = (*External)(nil)

// ParseBrokerURL checks an external broker URL and fills in the default port.
func ParseBrokerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("broker URL %q: %w", s, err)
	}
	port := ""
	switch strings.ToLower(u.Scheme) {
	case "mqtt", "tcp":
		port = "1883"
	case "mqtts", "ssl", "tls":
		port = "8883"
	default:
		return nil, fmt.Errorf("broker URL %q: scheme must be mqtt:// or mqtts://", s)
	}
	if u.Hostname() == "" {
		return nil, fmt.Errorf("broker URL %q: no host", s)
	}
	if u.Port() == "" {
		u.Host = net.JoinHostPort(u.Hostname(), port)
	}
	return u, nil
}

// NewExternal starts connecting to the broker and returns at once; State tells
// when the connection is up. Close stops it.
func NewExternal(cfg ExternalConfig) (*External, error) {
	u, err := ParseBrokerURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	if cfg.Mode != Aggregating && cfg.Mode != Transparent {
		return nil, fmt.Errorf("broker mode %d", cfg.Mode)
	}
	if cfg.ClientID == "" {
		var b [4]byte
		rand.Read(b[:])
		cfg.ClientID = "lsmqtt-gw-" + hex.EncodeToString(b[:])
	}
	setDefault(&cfg.MaxQueued, 10000)
	setDefault(&cfg.MaxDetachedQueued, 1000)
	setDefault(&cfg.SessionExpiry, time.Hour)
	setDefault(&cfg.BrokerSessionExpiry, time.Hour)
	setDefault(&cfg.KeepAlive, 30*time.Second)
	setDefault(&cfg.ConnectTimeout, 10*time.Second)
	setDefault(&cfg.AckTimeout, 10*time.Second)
	setDefault(&cfg.MinBackoff, 250*time.Millisecond)
	setDefault(&cfg.MaxBackoff, 30*time.Second)
	cfg.MaxBackoff = max(cfg.MaxBackoff, cfg.MinBackoff)
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &External{
		cfg:      cfg,
		url:      u,
		log:      cfg.Logger,
		conns:    make(map[string]*pahoConn),
		drainSet: make(map[string]*pahoConn),
		last:     StateConnecting,
	}
	if cfg.Deliver != nil {
		e.SetDeliver(cfg.Deliver)
	}
	e.held = make(chan struct{})
	if !cfg.ResumeSession || cfg.Mode != Aggregating {
		e.Release()
	}
	onMsg := func(*paho.Publish) {} // the control connection subscribes to nothing
	var onRestore func()
	if cfg.Mode == Aggregating {
		e.router = newAggRouter(e)
		onMsg, onRestore = e.router.route, e.router.restoring
	}
	e.main, err = newPahoConn(e, true, cfg.ClientID, !cfg.ResumeSession, cfg.BrokerSessionExpiry, onMsg, onRestore)
	if err != nil {
		return nil, err
	}
	return e, nil
}

func setDefault[T int | time.Duration](p *T, v T) {
	if *p <= 0 {
		*p = v
	}
}

// Release lets the messages of a resumed shared connection (ResumeSession,
// aggregating) be routed, once the clients' subscriptions are restored
// (Attach and Subscribe made for every restored session). Until then they
// wait, unacknowledged, in paho's receive queue. Idempotent; a no-op
// without ResumeSession.
func (e *External) Release() { e.heldOnce.Do(func() { close(e.held) }) }

// SetDeliver installs the callback for messages routed to MQTT-SN clients.
// Call it before the first Attach.
func (e *External) SetDeliver(f DeliverFunc) { e.deliver.Store(&f) }

func (e *External) deliverTo(clientID string, m Message) {
	f := e.deliver.Load()
	if f == nil || *f == nil {
		e.stats.drop("no_deliver", 1)
		return
	}
	(*f)(clientID, m)
	e.stats.delivered.Add(1)
}

// Mode reports the adapter's mode.
func (e *External) Mode() Mode { return e.cfg.Mode }

// ClientID is the client id of the shared (aggregating) or control
// (transparent) connection.
func (e *External) ClientID() string { return e.cfg.ClientID }

// State is the state of the shared (aggregating) or control (transparent)
// connection.
func (e *External) State() State {
	e.mu.Lock()
	closed := e.closed
	e.mu.Unlock()
	if closed {
		return StateDisconnected
	}
	return e.main.State()
}

func (e *External) stateChanged(s State) {
	e.mu.Lock()
	changed := s != e.last && !e.closed
	e.last = s
	e.mu.Unlock()
	if changed && e.cfg.OnStateChange != nil {
		e.cfg.OnStateChange(s)
	}
}

// reserve takes a slot of the outbound queue bound.
func (e *External) reserve() bool {
	for {
		n := e.queued.Load()
		if n >= int64(e.cfg.MaxQueued) {
			return false
		}
		if e.queued.CompareAndSwap(n, n+1) {
			return true
		}
	}
}

func (e *External) dequeued(n int) { e.queued.Add(-int64(n)) }

// AwaitConnected waits until the shared/control connection is up, or ctx ends.
func (e *External) AwaitConnected(ctx context.Context) error {
	return e.main.awaitUp(ctx)
}

// AwaitDrained waits until every message accepted so far has been
// acknowledged by the broker (the outbound queues are empty), or ctx ends.
// Useful before a planned shutdown.
func (e *External) AwaitDrained(ctx context.Context) error {
	e.mu.Lock()
	conns := []*pahoConn{e.main}
	for _, c := range e.conns {
		conns = append(conns, c)
	}
	for _, c := range e.drainSet {
		conns = append(conns, c)
	}
	e.mu.Unlock()
	for _, c := range conns {
		select {
		case <-c.drained():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Attach makes clientID known. Transparent mode opens its connection (waiting
// for it, within ctx, only while the broker is reachable; during an outage it
// returns at once and the connection keeps trying).
func (e *External) Attach(ctx context.Context, clientID string, clean bool) error {
	if clientID == "" {
		return fmt.Errorf("%w: empty client id", ErrUnknownClient)
	}
	if e.isClosed() {
		return ErrClosed
	}
	if e.router != nil {
		return e.router.attach(ctx, clientID, clean)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	old := e.conns[clientID]
	if old == nil {
		old = e.drainSet[clientID] // detached, still emptying its queue
		delete(e.drainSet, clientID)
	}
	if old != nil && !clean {
		e.conns[clientID] = old
		e.mu.Unlock()
		return nil // the same session goes on
	}
	delete(e.conns, clientID)
	e.mu.Unlock()
	if old != nil {
		old.close(ctx) // a clean start needs a new connection
	}
	expiry := e.cfg.SessionExpiry
	if clean {
		expiry = 0
	}
	id := clientID
	c, err := newPahoConn(e, false, clientID, clean, expiry, func(p *paho.Publish) {
		e.deliverTo(id, Message{Topic: p.Topic, Payload: p.Payload, QoS: p.QoS, Retain: p.Retain})
	}, nil)
	if err != nil {
		return err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		c.close(ctx)
		return ErrClosed
	}
	if prev := e.conns[clientID]; prev != nil { // a concurrent Attach won
		e.mu.Unlock()
		c.close(ctx)
		return nil
	}
	e.conns[clientID] = c
	e.mu.Unlock()
	if e.main.State() == StateConnected {
		wctx, cancel := context.WithTimeout(ctx, e.cfg.ConnectTimeout)
		defer cancel()
		_ = c.awaitUp(wctx)
	}
	return nil
}

// Detach ends clientID's presence. In transparent mode its connection first
// delivers what it has queued (in the background), then disconnects; a
// persistent session stays at the broker for SessionExpiry.
func (e *External) Detach(ctx context.Context, clientID string) error {
	if e.router != nil {
		return e.router.detach(ctx, clientID)
	}
	e.mu.Lock()
	c := e.conns[clientID]
	if c == nil {
		e.mu.Unlock()
		return ErrUnknownClient
	}
	delete(e.conns, clientID)
	e.drainSet[clientID] = c
	e.draining.Add(1)
	e.mu.Unlock()
	go func() {
		defer e.draining.Done()
		<-c.drained()
		e.mu.Lock()
		mine := e.drainSet[clientID] == c
		if mine {
			delete(e.drainSet, clientID)
		}
		e.mu.Unlock()
		if mine {
			c.close(context.Background())
		}
	}()
	return nil
}

func (e *External) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

func (e *External) conn(clientID string) (*pahoConn, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	c := e.conns[clientID]
	if c == nil {
		return nil, ErrUnknownClient
	}
	return c, nil
}

// Publish sends m from clientID. It returns nil once the broker acknowledged m
// (QoS 1/2; QoS 0 once written), or once m is queued because the broker is
// unreachable; ErrBusy when the queue is full.
func (e *External) Publish(ctx context.Context, clientID string, m Message) error {
	if !ValidTopicName(m.Topic) {
		return fmt.Errorf("%w: %q", ErrInvalidTopic, m.Topic)
	}
	if m.QoS > 2 {
		return fmt.Errorf("broker: QoS %d", m.QoS)
	}
	if e.router != nil {
		if err := e.router.check(clientID); err != nil {
			return err
		}
		return e.main.publish(ctx, m)
	}
	c, err := e.conn(clientID)
	if err != nil {
		return err
	}
	return c.publish(ctx, m)
}

// Subscribe subscribes clientID to filter and returns the granted QoS. During
// an outage the requested QoS is granted provisionally and the subscription is
// made on reconnecting.
func (e *External) Subscribe(ctx context.Context, clientID, filter string, qos byte) (byte, error) {
	if !ValidFilter(filter) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidTopic, filter)
	}
	qos = min(qos, 2)
	if e.router != nil {
		return e.router.subscribe(ctx, clientID, filter, qos)
	}
	c, err := e.conn(clientID)
	if err != nil {
		return 0, err
	}
	return c.subscribe(ctx, filter, qos)
}

// Unsubscribe removes clientID's subscription to filter.
func (e *External) Unsubscribe(ctx context.Context, clientID, filter string) error {
	if e.router != nil {
		return e.router.unsubscribe(ctx, clientID, filter)
	}
	c, err := e.conn(clientID)
	if err != nil {
		return err
	}
	return c.unsubscribe(ctx, filter)
}

// Stats returns the adapter's counters.
func (e *External) Stats() Stats {
	s := Stats{State: e.State(), Queued: int(e.queued.Load()), QueueLimit: e.cfg.MaxQueued}
	if e.router != nil {
		e.router.fill(&s)
	} else {
		e.mu.Lock()
		s.Clients = len(e.conns)
		for _, c := range e.conns {
			c.mu.Lock()
			s.Subscriptions += len(c.subs)
			c.mu.Unlock()
		}
		e.mu.Unlock()
	}
	e.stats.fill(&s)
	return s
}

// Close disconnects every connection (sending DISCONNECT where up). Messages
// still queued are dropped and counted ("shutdown"). Idempotent.
func (e *External) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	e.Release() // a held route returns
	conns := make([]*pahoConn, 0, len(e.conns)+len(e.drainSet)+1)
	for _, c := range e.conns {
		conns = append(conns, c)
	}
	for _, c := range e.drainSet {
		conns = append(conns, c)
	}
	e.conns = map[string]*pahoConn{}
	e.drainSet = map[string]*pahoConn{}
	e.mu.Unlock()
	if e.router != nil {
		e.router.close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.cfg.ConnectTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range append(conns, e.main) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.close(ctx)
		}()
	}
	wg.Wait()
	e.draining.Wait()
	return nil
}
