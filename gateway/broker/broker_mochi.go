package broker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// DefaultTCPAddr is the MQTT TCP listener of the embedded broker that
// `lsmqtt gateway` opens unless told otherwise.
const DefaultTCPAddr = ":1883"

// listenerID names, inside mochi, the "listener" MQTT-SN clients arrive on.
const listenerID = "mqttsn"

// EmbeddedConfig configures NewEmbedded. The zero value is usable: no TCP
// listener, no DeliverFunc yet (SetDeliver), defaults below.
type EmbeddedConfig struct {
	// TCPAddr is the address of the MQTT TCP listener for ordinary MQTT clients
	// (mosquitto_sub, dashboards). Empty: no TCP listener. Use "127.0.0.1:0" in
	// tests and read the bound address from TCPAddr().
	TCPAddr string
	// Deliver receives the messages routed to MQTT-SN clients (see DeliverFunc).
	// May also be installed later with SetDeliver, before the first Attach.
	Deliver DeliverFunc
	// MaxQueued bounds the QoS 1/2 messages kept for a detached client whose
	// session persists (clean=false). Default 1000. Beyond it messages are
	// dropped and counted ("detached_full").
	MaxQueued int
	// SessionExpiry is how long a detached persistent session (subscriptions and
	// queued messages) is kept. 0: until Close.
	SessionExpiry time.Duration
	// MaxPendingWrites is, per TCP client (a subscriber on the MQTT listener),
	// how many outbound packets mochi buffers (its MaximumClientWritesPending);
	// beyond it mochi drops QoS 0 messages to that client. Default 8192, mochi's
	// own default: a dashboard subscribed to a busy area's "#" must absorb a
	// burst of tens of thousands of messages a second. MQTT-SN clients do not
	// get this buffer (see newSNClient), so it costs 64 KiB per TCP client only.
	MaxPendingWrites int
	// MaxInflight is, per TCP client, how many QoS 1/2 messages mochi keeps
	// sent but not yet acknowledged (its MaximumInflight). A publish that
	// finds the bound full is dropped for that client, silently to the
	// publisher, and counted only in mochi's Info.InflightDropped: for a QoS
	// 1 subscriber this bound, not MaxPendingWrites, is what a burst hits
	// first (every queued write of a QoS 1 delivery is also in flight).
	// Default 65535, the most MQTT packet identifiers allow (MQTT v5
	// §2.2.1); mochi's own default of 8192 is ~1 s of a 10,000-client
	// soak (docs/reliability.md, "Load and soak at 10,000 clients").
	MaxInflight int
	// Clock times session expiry. Default clock.Real.
	Clock clock.Clock
	// Logger receives the broker's logs. Default: discard.
	Logger *slog.Logger
}

// Embedded is an in-process MQTT broker (github.com/mochi-mqtt/server/v2) for
// one hospital area. Each MQTT-SN client appears in it as its own MQTT client
// id: it is registered in mochi's client list, and its publishes are injected
// as that client (mochi hooks and ordinary MQTT subscribers see the origin
// client id, retained messages are stored by the broker). Its subscriptions are
// mochi inline subscriptions whose handlers call the DeliverFunc.
//
// Authentication: the TCP listener accepts every MQTT client and allows every
// topic (mochi's allow-all auth hook). Bind it to loopback or a trusted network,
// or put the area's MQTT-SN security (the Trusted System) in front; the MQTT-SN
// side is authenticated by the gateway, not here.
type Embedded struct {
	cfg     EmbeddedConfig
	srv     *mqtt.Server
	snSrv   *mqtt.Server // never served: makes the MQTT-SN clients (newSNClient)
	tcp     *listeners.TCP
	deliver atomic.Pointer[DeliverFunc]
	subID   atomic.Int64
	stats   counters

	mu      sync.Mutex
	clients map[string]*embClient
	closed  bool
}

type embClient struct {
	id string

	mu        sync.Mutex
	mc        *mqtt.Client // the client as mochi knows it
	attached  bool
	clean     bool
	forgotten bool // removed from Embedded.clients
	subs      map[string]*embSub
	pending   []Message   // for a detached persistent session
	expiry    clock.Timer // of a detached persistent session
}

type embSub struct {
	id     int
	filter string
	qos    byte
	gone   bool // unsubscribed; the handler may still be running
}

var (
	_ Broker      = (*Embedded)(nil)
	_ NonBlocking = (*Embedded)(nil)
)

// NewEmbedded starts an embedded broker. Close stops it.
func NewEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 1000
	}
	if cfg.MaxPendingWrites <= 0 {
		cfg.MaxPendingWrites = 8192
	}
	if cfg.MaxInflight <= 0 || cfg.MaxInflight > 65535 {
		cfg.MaxInflight = 65535
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.Real{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumClientWritesPending = int32(cfg.MaxPendingWrites)
	caps.MaximumInflight = uint16(cfg.MaxInflight)
	srv := mqtt.New(&mqtt.Options{
		Capabilities: caps,
		Logger:       cfg.Logger,
	})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	e := &Embedded{cfg: cfg, srv: srv, snSrv: newSNClientFactory(srv, cfg.Logger), clients: make(map[string]*embClient)}
	if cfg.Deliver != nil {
		e.SetDeliver(cfg.Deliver)
	}
	if cfg.TCPAddr != "" {
		e.tcp = listeners.NewTCP(listeners.Config{ID: "tcp", Address: cfg.TCPAddr})
		if err := srv.AddListener(e.tcp); err != nil { // binds now
			return nil, fmt.Errorf("embedded broker: listen %s: %w", cfg.TCPAddr, err)
		}
	}
	if err := srv.Serve(); err != nil { // returns at once; listeners run in goroutines
		srv.Close()
		return nil, fmt.Errorf("embedded broker: %w", err)
	}
	return e, nil
}

// SetDeliver installs the callback for messages routed to MQTT-SN clients.
// Call it before the first Attach (the gateway is usually built after its
// broker). Messages routed while none is installed are dropped ("no_deliver").
func (e *Embedded) SetDeliver(f DeliverFunc) { e.deliver.Store(&f) }

// TCPAddr is the bound address of the MQTT TCP listener, or "" without one.
func (e *Embedded) TCPAddr() string {
	if e.tcp == nil {
		return ""
	}
	return e.tcp.Address()
}

// Server exposes the mochi server, for adding hooks or listeners.
func (e *Embedded) Server() *mqtt.Server { return e.srv }

// State is always StateConnected until Close: the broker is in-process.
func (e *Embedded) State() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return StateDisconnected
	}
	return StateConnected
}

// Attach registers clientID with the broker. Attaching an attached client again
// (an MQTT-SN client reconnecting) is allowed. With clean=true any earlier
// session of clientID is discarded; with clean=false its subscriptions are kept
// and the QoS 1/2 messages queued while it was detached are delivered now.
func (e *Embedded) Attach(ctx context.Context, clientID string, clean bool) error {
	if clientID == "" {
		return fmt.Errorf("%w: empty client id", ErrUnknownClient)
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return ErrClosed
	}
	c, ok := e.clients[clientID]
	if !ok {
		c = &embClient{id: clientID, subs: make(map[string]*embSub)}
		e.clients[clientID] = c
	}
	e.mu.Unlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.forgotten { // a concurrent Detach or expiry removed it: start over
		c.mu.Unlock()
		err := e.Attach(ctx, clientID, clean)
		c.mu.Lock()
		return err
	}
	if c.expiry != nil {
		c.expiry.Stop()
		c.expiry = nil
	}
	if clean {
		e.dropSubsLocked(c)
		c.pending = nil
	}
	c.clean = clean
	if c.mc == nil || c.mc.Closed() { // first attach, or a TCP client took the id over
		c.mc = e.newSNClient(clientID)
		c.mc.Properties.Clean = clean
		c.mc.Properties.ProtocolVersion = 4
	}
	e.srv.Clients.Add(c.mc)
	if !c.attached {
		atomic.AddInt64(&e.srv.Info.ClientsConnected, 1)
		c.attached = true
	}
	for _, m := range c.pending {
		e.deliverLocked(c, m)
	}
	c.pending = nil
	return nil
}

// Detach ends clientID's presence. A clean session is forgotten; a persistent
// one keeps its subscriptions and queues QoS 1/2 messages (up to MaxQueued)
// until the next Attach or until SessionExpiry.
func (e *Embedded) Detach(ctx context.Context, clientID string) error {
	c := e.client(clientID)
	if c == nil {
		return ErrUnknownClient
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attached {
		c.attached = false
		atomic.AddInt64(&e.srv.Info.ClientsConnected, -1)
	}
	if c.clean {
		e.forgetLocked(c)
		return nil
	}
	if e.cfg.SessionExpiry > 0 && c.expiry == nil {
		c.expiry = e.cfg.Clock.AfterFunc(e.cfg.SessionExpiry, func() { e.expire(c) })
	}
	return nil
}

func (e *Embedded) expire(c *embClient) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attached || c.expiry == nil {
		return // re-attached meanwhile
	}
	c.expiry = nil
	e.forgetLocked(c)
}

// forgetLocked removes c's session entirely. c.mu is held.
func (e *Embedded) forgetLocked(c *embClient) {
	e.dropSubsLocked(c)
	if n := len(c.pending); n > 0 {
		e.stats.drop("session_ended", n)
	}
	c.pending = nil
	if cur, ok := e.srv.Clients.Get(c.id); ok && cur == c.mc {
		e.srv.Clients.Delete(c.id)
	}
	c.forgotten = true
	e.mu.Lock()
	if e.clients[c.id] == c {
		delete(e.clients, c.id)
	}
	e.mu.Unlock()
}

func (e *Embedded) dropSubsLocked(c *embClient) {
	for f, s := range c.subs {
		s.gone = true
		e.srv.Topics.InlineUnsubscribe(s.id, f)
		delete(c.subs, f)
	}
}

func (e *Embedded) client(id string) *embClient {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clients[id]
}

// attachedClient returns the attached client id or an error.
func (e *Embedded) attachedClient(id string) (*embClient, error) {
	e.mu.Lock()
	closed := e.closed
	c := e.clients[id]
	e.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if c == nil {
		return nil, ErrUnknownClient
	}
	return c, nil
}

// Publish injects m into the broker as a publish from clientID. It returns once
// the broker has routed the message (to subscribers and, if m.Retain, to its
// retained store); m.Payload is copied, the caller keeps it.
// Topics starting with $SYS are refused (MQTT v3.1.1 §4.7.2).
func (e *Embedded) Publish(ctx context.Context, clientID string, m Message) error {
	if !ValidTopicName(m.Topic) || strings.HasPrefix(m.Topic, "$SYS") {
		return fmt.Errorf("%w: %q", ErrInvalidTopic, m.Topic)
	}
	if m.QoS > 2 {
		return fmt.Errorf("broker: QoS %d", m.QoS)
	}
	c, err := e.attachedClient(clientID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	mc, attached := c.mc, c.attached
	c.mu.Unlock()
	if !attached {
		return ErrUnknownClient
	}
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: m.QoS, Retain: m.Retain},
		TopicName:   m.Topic,
		Payload:     append([]byte(nil), m.Payload...),
	}
	if m.QoS > 0 {
		pk.PacketID = 1 // inline publishes complete at once; the id only satisfies validation
	}
	if err := e.srv.InjectPacket(mc, pk); err != nil {
		return fmt.Errorf("broker: publish %q: %w", m.Topic, err)
	}
	e.stats.published.Add(1)
	return nil
}

// PublishNeverBlocks is true: Publish routes the message in memory, calls
// the DeliverFunc (which must not block) for MQTT-SN subscribers and queues it
// for TCP subscribers without waiting (mochi drops what a full queue cannot
// take, and counts it).
func (e *Embedded) PublishNeverBlocks() bool { return true }

// Subscribe subscribes clientID to filter. The granted QoS is qos (capped at 2).
// Retained messages matching filter are delivered before Subscribe returns
// (MQTT v3.1.1 §3.8.4), with Retain set.
func (e *Embedded) Subscribe(ctx context.Context, clientID, filter string, qos byte) (byte, error) {
	if !ValidFilter(filter) || !mqtt.IsValidFilter(filter, false) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidTopic, filter)
	}
	qos = min(qos, 2)
	c, err := e.attachedClient(clientID)
	if err != nil {
		return 0, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.attached {
		return 0, ErrUnknownClient
	}
	if old, ok := c.subs[filter]; ok { // MQTT v3.1.1 §3.8.4: replace, and resend retained
		old.gone = true
		e.srv.Topics.InlineUnsubscribe(old.id, filter)
	}
	s := &embSub{id: int(e.subID.Add(1)), filter: filter, qos: qos}
	c.subs[filter] = s
	e.srv.Topics.InlineSubscribe(mqtt.InlineSubscription{
		Subscription: packets.Subscription{Filter: filter, Identifier: s.id, Qos: qos},
		Handler: func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
			e.route(c, s, pk, false)
		},
	})
	// Not Topics.Messages: in mochi v2.7.9 it reads the topic tree without its
	// lock and races with concurrent retained publishes (go test -race).
	for topic, pk := range e.srv.Topics.Retained.GetAll() {
		if MatchFilter(filter, topic) {
			e.routeLocked(c, s, pk, true)
		}
	}
	return qos, nil
}

// Unsubscribe removes clientID's subscription to filter (no error if absent).
func (e *Embedded) Unsubscribe(ctx context.Context, clientID, filter string) error {
	c, err := e.attachedClient(clientID)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.subs[filter]; ok {
		s.gone = true
		e.srv.Topics.InlineUnsubscribe(s.id, filter)
		delete(c.subs, filter)
	}
	return nil
}

// route runs on the publisher's goroutine inside mochi.
func (e *Embedded) route(c *embClient, s *embSub, pk packets.Packet, retained bool) {
	c.mu.Lock()
	e.routeLocked(c, s, pk, retained)
	c.mu.Unlock()
}

func (e *Embedded) routeLocked(c *embClient, s *embSub, pk packets.Packet, retained bool) {
	if s.gone {
		return
	}
	m := Message{
		Topic:   pk.TopicName,
		Payload: append([]byte(nil), pk.Payload...),
		QoS:     min(pk.FixedHeader.Qos, s.qos),
		Retain:  retained, // MQTT v3.1.1 §3.3.1.3: set only for retained messages sent on subscribing
	}
	switch {
	case c.attached:
		e.deliverLocked(c, m)
	case m.QoS == 0:
		e.stats.drop("detached_qos0", 1)
	case len(c.pending) >= e.cfg.MaxQueued:
		e.stats.drop("detached_full", 1)
	default:
		c.pending = append(c.pending, m)
	}
}

func (e *Embedded) deliverLocked(c *embClient, m Message) {
	f := e.deliver.Load()
	if f == nil || *f == nil {
		e.stats.drop("no_deliver", 1)
		return
	}
	(*f)(c.id, m)
	e.stats.delivered.Add(1)
}

// Stats returns the adapter's counters.
func (e *Embedded) Stats() Stats {
	s := Stats{State: e.State()}
	e.mu.Lock()
	cl := make([]*embClient, 0, len(e.clients))
	for _, c := range e.clients {
		cl = append(cl, c)
	}
	e.mu.Unlock()
	for _, c := range cl {
		c.mu.Lock()
		if c.attached {
			s.Clients++
		}
		s.Subscriptions += len(c.subs)
		s.Queued += len(c.pending)
		c.mu.Unlock()
	}
	e.stats.fill(&s)
	return s
}

// Close stops the broker: the TCP listener and its clients, session timers.
// It is idempotent.
func (e *Embedded) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	cl := e.clients
	e.clients = map[string]*embClient{}
	e.mu.Unlock()
	for _, c := range cl {
		c.mu.Lock()
		if c.expiry != nil {
			c.expiry.Stop()
			c.expiry = nil
		}
		c.mu.Unlock()
	}
	if e.tcp != nil {
		// mochi v2.7.9's Server.Close disconnects a listener's clients
		// through Clients.GetByListener, which takes the client list's read
		// lock twice (it calls Len inside); a TCP client attaching or
		// leaving at that moment waits for the write lock between the two,
		// and all three wait for ever (seen in a benchmark's cleanup). The
		// TCP listener is closed here first with a closer that takes the
		// read lock once; mochi's Close then finds it closed already and
		// does not call its own.
		e.srv.Listeners.Close(e.tcp.ID(), e.closeListenerClients)
	}
	return e.srv.Close()
}

// closeListenerClients disconnects the clients of the listener id.
func (e *Embedded) closeListenerClients(id string) {
	for _, cl := range e.srv.Clients.GetAll() {
		if cl.Net.Listener == id && !cl.Closed() {
			_ = e.srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
	}
}
