package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/session"
	"github.com/eclipse/paho.golang/paho/session/state"
)

// pahoConn is one managed MQTT v5 connection to an external broker: autopaho
// reconnects it with backoff; pahoConn adds the bounded outbound queue that
// carries accepted messages across outages, and the subscriptions it restores
// after a reconnect.
//
// Delivery guarantee. A message is accepted when the broker acknowledged it
// (PUBACK/PUBCOMP) or when it entered the queue. A QoS 1/2 publish cut off by
// a lost connection is "in doubt": if the broker still has our session when we
// reconnect (CONNACK Session Present), paho retransmits it from its session
// state with DUP set, which keeps QoS 2 exactly-once; if the broker lost the
// session (a restart without persistence), paho discards its state (MQTT v5
// §3.2.2.1.2) and the message goes back to the head of the queue: delivered at
// least once. Nothing accepted is dropped while the adapter runs.
type pahoConn struct {
	ext      *External
	clientID string
	onMsg    func(*paho.Publish) // on paho's goroutine; must not block
	main     bool                // the shared/control connection: its state is the adapter's
	// onRestore, if set, runs on the sender before subscriptions are restored
	// on a connection without session (the broker will resend retained messages).
	onRestore func()
	cm        *autopaho.ConnectionManager
	cancel    context.CancelFunc
	wake      chan struct{} // cap 1: the sender has work
	done      chan struct{} // sender exited

	mu            sync.Mutex
	state         State
	ups           int                // connections made
	sessionLostAt int                // ups at the last CONNACK without session
	sending       bool               // the sender holds a message taken off the queue
	upCh          chan struct{}      // closed while connected
	upCtx         context.Context    // ends when the current connection goes down
	upCancel      context.CancelFunc //
	restore       bool               // resubscribe everything (session not present)
	queue         []Message          // accepted, not yet sent; FIFO
	inDoubt       []Message          // sent on a connection that died before the ack
	subs          map[string]*connSub
	unsubs        map[string]bool // unsubscribed while down, the broker may still have it
	closed        bool
	drainDone     chan struct{} // closed when the queue empties, for Detach (transparent)
	changed       chan struct{} // closed and replaced when the state or a subscription's changes (publishSync)
}

type connSub struct {
	qos       byte
	confirmed bool // SUBACK received on the current connection
	sending   bool // a SUBSCRIBE for it is in flight
	triedOn   int  // the connection (ups) its last SUBSCRIBE ended on
}

func newPahoConn(ext *External, main bool, clientID string, clean bool, expiry time.Duration, onMsg func(*paho.Publish), onRestore func()) (*pahoConn, error) {
	c := &pahoConn{
		main:      main,
		ext:       ext,
		clientID:  clientID,
		onMsg:     onMsg,
		onRestore: onRestore,
		wake:      make(chan struct{}, 1),
		done:      make(chan struct{}),
		state:     StateConnecting,
		upCh:      make(chan struct{}),
		subs:      make(map[string]*connSub),
		unsubs:    make(map[string]bool),
		changed:   make(chan struct{}),
	}
	c.upCtx, c.upCancel = context.WithCancel(context.Background())
	c.upCancel() // not up yet
	cfg := ext.cfg
	u := ext.url
	pcfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		TlsCfg:                        cfg.TLS,
		KeepAlive:                     uint16(cfg.KeepAlive / time.Second),
		CleanStartOnInitialConnection: clean,
		SessionExpiryInterval:         uint32(expiry / time.Second),
		ReconnectBackoff:              backoff(cfg.MinBackoff, cfg.MaxBackoff),
		ConnectTimeout:                cfg.ConnectTimeout,
		OnConnectionUp:                c.up,
		OnConnectionDown:              c.down,
		OnConnectError: func(err error) {
			ext.log.Debug("broker connect failed", "client", clientID, "err", err)
		},
		Debug:  pahoLog{ext.log, "autopaho"},
		Errors: pahoLog{ext.log, "autopaho"},
		ClientConfig: paho.ClientConfig{
			ClientID:      clientID,
			Session:       state.NewInMemory(), // survives reconnects: in-doubt messages are retransmitted from it
			PacketTimeout: cfg.AckTimeout,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					c.onMsg(pr.Packet)
					return true, nil
				},
			},
		},
	}
	if u.User != nil {
		pcfg.ConnectUsername = u.User.Username()
		if p, ok := u.User.Password(); ok {
			pcfg.ConnectPassword = []byte(p)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cm, err := autopaho.NewConnection(ctx, pcfg)
	if err != nil {
		cancel()
		return nil, err
	}
	c.cm, c.cancel = cm, cancel
	go c.sender()
	return c, nil
}

// up runs on autopaho's goroutine after each CONNACK; it must not block.
func (c *pahoConn) up(_ *autopaho.ConnectionManager, ca *paho.Connack) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state = StateConnected
	close(c.upCh)
	c.ups++
	if c.ups > 1 {
		c.ext.stats.reconnects.Add(1)
	}
	c.upCtx, c.upCancel = context.WithCancel(context.Background())
	if ca.SessionPresent {
		// paho retransmitted the in-doubt messages from its session state.
		c.ext.dequeued(len(c.inDoubt))
		c.inDoubt = nil
		c.checkDrainedLocked()
	} else {
		c.queue = append(c.inDoubt, c.queue...)
		c.inDoubt = nil
		c.sessionLostAt = c.ups
		c.restore = true
		for _, s := range c.subs {
			s.confirmed = false
		}
		clear(c.unsubs)
	}
	c.notifyLocked()
	c.ext.log.Info("broker connected", "client", c.clientID, "session_present", ca.SessionPresent, "queued", len(c.queue))
	c.kick()
	if c.main {
		c.ext.stateChanged(StateConnected)
	}
}

// down runs on autopaho's goroutine when the connection is lost.
func (c *pahoConn) down() bool {
	c.mu.Lock()
	c.upCancel()
	closed := c.closed
	if !closed {
		c.state = StateConnecting
	}
	c.upCh = make(chan struct{})
	for _, s := range c.subs {
		s.confirmed = false
	}
	c.notifyLocked()
	c.mu.Unlock()
	if !closed {
		c.ext.log.Warn("broker connection lost; reconnecting", "client", c.clientID)
		if c.main {
			c.ext.stateChanged(StateConnecting)
		}
	}
	return !closed
}

// awaitUp waits until the connection is up (and up has run), or ctx ends.
func (c *pahoConn) awaitUp(ctx context.Context) error {
	c.mu.Lock()
	ch, closed := c.upCh, c.closed
	c.mu.Unlock()
	if closed {
		return ErrClosed
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *pahoConn) kick() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *pahoConn) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// sender restores subscriptions after a reconnect and drains the queue in
// order while connected.
func (c *pahoConn) sender() {
	defer close(c.done)
	for range c.wake {
		for c.step() {
		}
	}
}

// step does one unit of work; false when there is none or the connection is down.
func (c *pahoConn) step() bool {
	c.mu.Lock()
	if c.closed || c.state != StateConnected {
		c.mu.Unlock()
		return false
	}
	upCtx, gen := c.upCtx, c.ups
	var resub map[string]*connSub
	var unsub []string
	for f, s := range c.subs {
		if !s.confirmed && !s.sending {
			if resub == nil {
				resub = make(map[string]*connSub)
			}
			s.sending = true
			resub[f] = s
		}
	}
	for f := range c.unsubs {
		unsub = append(unsub, f)
	}
	restoring := c.restore
	if restoring {
		c.restore = false
		c.notifyLocked()
	}
	if len(resub) > 0 || len(unsub) > 0 {
		c.mu.Unlock()
		if restoring && c.onRestore != nil {
			c.onRestore()
		}
		ok := true
		for f, sub := range resub {
			_, err := c.sendSubscribe(upCtx, f, sub.qos)
			c.mu.Lock()
			sub.sending = false
			sub.triedOn = gen
			c.notifyLocked()
			c.mu.Unlock()
			switch {
			case errors.Is(err, ErrRejected):
				c.ext.log.Warn("broker refused a restored subscription", "client", c.clientID, "filter", f, "err", err)
				c.mu.Lock()
				delete(c.subs, f) // do not retry forever
				c.mu.Unlock()
			case err != nil:
				c.ext.log.Warn("restoring subscription failed", "client", c.clientID, "filter", f, "err", err)
				ok = false // retried at the next reconnect or kick
			}
		}
		for _, f := range unsub {
			_, err := c.cm.Unsubscribe(upCtx, &paho.Unsubscribe{Topics: []string{f}})
			if err == nil || upCtx.Err() == nil {
				c.mu.Lock()
				delete(c.unsubs, f)
				c.mu.Unlock()
			}
		}
		return ok && upCtx.Err() == nil
	}
	if len(c.queue) == 0 {
		c.checkDrainedLocked()
		c.mu.Unlock()
		return false
	}
	m := c.queue[0]
	c.queue = c.queue[1:]
	c.sending = true
	c.mu.Unlock()

	err := c.send(upCtx, m)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sending = false
	switch {
	case c.closed:
		c.ext.dequeued(1)
		if err != nil {
			c.ext.stats.drop("shutdown", 1)
		}
		c.checkDrainedLocked()
		return false
	case err == nil, errors.Is(err, ErrRejected), errors.Is(err, paho.ErrInvalidArguments):
		if err != nil {
			c.ext.stats.drop("rejected", 1)
			c.ext.log.Warn("broker refused a queued message", "client", c.clientID, "topic", m.Topic, "err", err)
		}
		c.ext.dequeued(1)
		return true
	case inSession(err) && m.QoS > 0:
		c.settleInDoubtLocked(m, gen)
		return upCtx.Err() == nil
	default: // not sent: first again, after reconnecting (or after a timeout on a live connection)
		c.queue = append([]Message{m}, c.queue...)
		return upCtx.Err() == nil
	}
}

// settleInDoubtLocked decides the fate of m, whose publish on connection
// number gen entered paho's session state but was not acknowledged. m holds a
// reserved queue slot.
func (c *pahoConn) settleInDoubtLocked(m Message, gen int) {
	switch {
	case c.ups == gen:
		c.inDoubt = append(c.inDoubt, m) // resolved by the next CONNACK
	case c.sessionLostAt > gen:
		c.queue = append([]Message{m}, c.queue...) // paho discarded it: send again
		c.kick()
	default:
		c.ext.dequeued(1) // paho retransmitted it on the new connection
	}
}

func (c *pahoConn) checkDrainedLocked() {
	if c.drainDone != nil && (c.closed || len(c.queue) == 0 && len(c.inDoubt) == 0 && !c.sending) {
		close(c.drainDone)
		c.drainDone = nil
	}
}

// inSession reports whether a failed QoS 1/2 publish had entered paho's
// session state (so paho may retransmit it).
func inSession(err error) bool {
	return !errors.Is(err, autopaho.ConnectionDownError) && !errors.Is(err, session.ErrNoConnection)
}

// send publishes m and waits for its acknowledgement, for at most AckTimeout
// and never beyond the connection it started on.
func (c *pahoConn) send(upCtx context.Context, m Message) error {
	ctx, cancel := context.WithCancel(upCtx)
	defer cancel()
	pr, err := c.cm.Publish(ctx, &paho.Publish{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Retain: m.Retain})
	if pr != nil && pr.ReasonCode >= 0x80 {
		return fmt.Errorf("%w: PUBACK reason 0x%02x", ErrRejected, pr.ReasonCode)
	}
	return err
}

// sendOutcome classifies what became of one sendWhileUp.
type sendOutcome int

const (
	sendAcked     sendOutcome = iota // the broker acknowledged m (QoS 0: paho sent it)
	sendRefused                      // the broker or paho refused m; sending it again will not help
	sendAbandoned                    // the caller's ctx ended first; m may or may not arrive
	sendTimedOut                     // no acknowledgement within AckTimeout; the connection is still up
	sendFailedUp                     // another failure while the connection is still up
	sendConnLost                     // the connection m was sent on went down before the acknowledgement
)

// sendWhileUp sends m on the connection whose life is upCtx, giving up when
// ctx ends or the connection dies, and classifies the result. The error is
// the one to return for sendRefused and sendAbandoned (ctx.Err()) and the
// cause for the others; nil for sendAcked.
func (c *pahoConn) sendWhileUp(ctx, upCtx context.Context, m Message) (sendOutcome, error) {
	pctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(upCtx, cancel) // give up when the connection dies
	err := c.send(pctx, m)
	stop()
	cancel()
	return classifySend(ctx, upCtx, err)
}

// classifySend is sendWhileUp's verdict on err, the result of a send under
// the caller's ctx on the connection whose life is upCtx.
func classifySend(ctx, upCtx context.Context, err error) (sendOutcome, error) {
	switch {
	case err == nil:
		return sendAcked, nil
	case errors.Is(err, ErrRejected), errors.Is(err, paho.ErrInvalidArguments):
		return sendRefused, err
	case ctx.Err() != nil:
		return sendAbandoned, ctx.Err()
	case upCtx.Err() != nil:
		return sendConnLost, err
	case errors.Is(err, context.DeadlineExceeded):
		return sendTimedOut, err
	default:
		return sendFailedUp, err
	}
}

// publish is Broker.Publish for this connection.
func (c *pahoConn) publish(ctx context.Context, m Message) error {
	if c.ext.cfg.SyncPublish && m.QoS > 0 {
		return c.publishSync(ctx, m)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.state != StateConnected || len(c.queue) > 0 || c.restore {
		err := c.enqueueLocked(m)
		c.mu.Unlock()
		return err
	}
	upCtx, gen := c.upCtx, c.ups
	c.mu.Unlock()

	out, err := c.sendWhileUp(ctx, upCtx, m)
	switch out {
	case sendAcked:
		c.ext.stats.published.Add(1)
		return nil
	case sendRefused, sendAbandoned: // abandoned: the message may or may not arrive
		return err
	case sendTimedOut:
		return fmt.Errorf("broker: publish %q not acknowledged: %w", m.Topic, err)
	case sendFailedUp, sendConnLost:
		// The connection went down under us, or failed otherwise while still
		// up (which publishSync treats as final): the message is ours to keep.
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return ErrClosed
	}
	if inSession(err) && m.QoS > 0 {
		if !c.ext.reserve() {
			c.ext.stats.busy.Add(1)
			return ErrBusy
		}
		m.Payload = append([]byte(nil), m.Payload...)
		c.settleInDoubtLocked(m, gen)
		c.ext.stats.published.Add(1)
		return nil
	}
	return c.enqueueLocked(m)
}

// notifyLocked wakes the publishSync calls waiting for readyLocked.
func (c *pahoConn) notifyLocked() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// readyLocked reports whether a publishSync may send now: the connection is
// up and every subscription has been made on it, or tried (a message the
// broker routes to this session must not overtake the SUBSCRIBE that
// restores the route: the outage queue keeps the same order).
func (c *pahoConn) readyLocked() bool {
	if c.state != StateConnected || c.restore {
		return false
	}
	for _, s := range c.subs {
		if !s.confirmed && (s.sending || s.triedOn != c.ups) {
			return false
		}
	}
	return true
}

// publishSync is publish with ExternalConfig.SyncPublish: it returns nil
// only once the broker acknowledged m. It waits for the connection while it
// is down, and sends m again on the next connection when the one it was sent
// on dies before the acknowledgement (paho may retransmit it too: at least
// once).
func (c *pahoConn) publishSync(ctx context.Context, m Message) error {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		ready, changed, upCtx := c.readyLocked(), c.changed, c.upCtx
		c.mu.Unlock()
		if !ready {
			select {
			case <-changed:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		switch out, err := c.sendWhileUp(ctx, upCtx, m); out {
		case sendAcked:
			c.ext.stats.published.Add(1)
			return nil
		case sendRefused, sendAbandoned:
			return err
		case sendTimedOut, sendFailedUp:
			// Unlike publish, any failure on a live connection is final here.
			return fmt.Errorf("broker: publish %q not acknowledged: %w", m.Topic, err)
		case sendConnLost:
			// The connection went down under us: again on the next one.
		}
	}
}

func (c *pahoConn) enqueueLocked(m Message) error {
	if !c.ext.reserve() {
		c.ext.stats.busy.Add(1)
		return ErrBusy
	}
	m.Payload = append([]byte(nil), m.Payload...)
	c.queue = append(c.queue, m)
	c.ext.stats.published.Add(1)
	c.kick()
	return nil
}

// subscribe records filter for restoring and, when connected, subscribes now.
// While disconnected the requested QoS is granted provisionally.
func (c *pahoConn) subscribe(ctx context.Context, filter string, qos byte) (byte, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, ErrClosed
	}
	up, upCtx, gen := c.state == StateConnected, c.upCtx, c.ups
	s := &connSub{qos: qos, sending: up} // the sender leaves it to us
	c.subs[filter] = s
	delete(c.unsubs, filter)
	c.mu.Unlock()
	if !up {
		return qos, nil
	}
	sctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(upCtx, cancel)
	granted, err := c.sendSubscribe(sctx, filter, qos)
	stop()
	cancel()
	c.mu.Lock()
	s.sending = false
	s.triedOn = gen
	c.notifyLocked()
	if err != nil && !errors.Is(err, ErrRejected) {
		c.kick() // the sender restores it on the next connection
	}
	c.mu.Unlock()
	switch {
	case err == nil:
		return granted, nil
	case errors.Is(err, ErrRejected):
		c.mu.Lock()
		if c.subs[filter] == s {
			delete(c.subs, filter)
		}
		c.mu.Unlock()
		return 0, err
	case ctx.Err() != nil:
		return 0, ctx.Err()
	}
	return qos, nil // connection lost: restored with the others after reconnecting
}

func (c *pahoConn) sendSubscribe(ctx context.Context, filter string, qos byte) (byte, error) {
	sa, err := c.cm.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos}}})
	if sa != nil && len(sa.Reasons) == 1 {
		if sa.Reasons[0] >= 0x80 {
			return 0, fmt.Errorf("%w: SUBACK reason 0x%02x for %q", ErrRejected, sa.Reasons[0], filter)
		}
		if err == nil {
			c.mu.Lock()
			if s := c.subs[filter]; s != nil {
				s.confirmed = true
			}
			c.mu.Unlock()
			return sa.Reasons[0], nil
		}
	}
	if errors.Is(err, paho.ErrInvalidArguments) {
		return 0, fmt.Errorf("%w: %v", ErrRejected, err)
	}
	if err == nil {
		err = errors.New("broker: malformed SUBACK")
	}
	return 0, err
}

func (c *pahoConn) unsubscribe(ctx context.Context, filter string) error {
	c.mu.Lock()
	if _, ok := c.subs[filter]; !ok {
		c.mu.Unlock()
		return nil
	}
	delete(c.subs, filter)
	up, upCtx := c.state == StateConnected, c.upCtx
	if !up {
		c.unsubs[filter] = true
	}
	c.mu.Unlock()
	if !up {
		return nil
	}
	uctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(upCtx, cancel)
	_, err := c.cm.Unsubscribe(uctx, &paho.Unsubscribe{Topics: []string{filter}})
	stop()
	cancel()
	if err != nil && upCtx.Err() != nil {
		c.mu.Lock()
		c.unsubs[filter] = true
		c.mu.Unlock()
		return nil
	}
	return err
}

// drained returns a channel closed once the queue is empty.
func (c *pahoConn) drained() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan struct{})
	if c.closed || len(c.queue) == 0 && len(c.inDoubt) == 0 && !c.sending {
		close(ch)
		return ch
	}
	if c.drainDone != nil {
		return c.drainDone
	}
	c.drainDone = ch
	return ch
}

// close disconnects (DISCONNECT when up) and stops the connection's
// goroutines. Messages still queued are dropped and counted.
func (c *pahoConn) close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.state = StateDisconnected
	c.notifyLocked()
	n := len(c.queue) + len(c.inDoubt)
	c.queue, c.inDoubt = nil, nil
	if c.drainDone != nil {
		close(c.drainDone)
		c.drainDone = nil
	}
	c.mu.Unlock()
	if n > 0 {
		c.ext.dequeued(n)
		c.ext.stats.drop("shutdown", n)
	}
	err := c.cm.Disconnect(ctx)
	c.cancel()
	close(c.wake)
	<-c.done
	return err
}

// backoff waits nothing before the first attempt, then doubles from min up to
// max, with ±20% jitter so that many gateways do not reconnect in step.
func backoff(minD, maxD time.Duration) autopaho.Backoff {
	return func(attempt int) time.Duration {
		if attempt <= 0 {
			return 0
		}
		d := minD
		for i := 1; i < attempt && d < maxD; i++ {
			d *= 2
		}
		d = min(d, maxD)
		return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
	}
}

// pahoLog adapts paho's Println/Printf loggers to slog at debug level.
type pahoLog struct {
	l    *slog.Logger
	name string
}

func (p pahoLog) Println(v ...any) { p.l.Debug(fmt.Sprint(v...), "lib", p.name) }
func (p pahoLog) Printf(format string, v ...any) {
	p.l.Debug(fmt.Sprintf(format, v...), "lib", p.name)
}
