package client

import (
	"context"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Client is an MQTT-SN client. It is safe for concurrent use; requests of
// one kind (REGISTER, QoS 1/2 PUBLISH, SUBSCRIBE/UNSUBSCRIBE) are serialized,
// since a client may have only one outstanding at a time (§6.5, §6.6, §6.9).
type Client struct {
	conn net.PacketConn
	cfg  Config
	clk  clock.Clock
	log  *slog.Logger

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc

	mu          sync.Mutex
	gw          net.Addr
	state       State
	waiters     []*waiter
	topicByName map[string]uint16 // normal topics registered in this connection
	topicByID   map[uint16]string
	msgID       uint16
	qos2In      map[uint16]struct{} // incoming QoS 2 PUBLISH awaiting PUBREL
	recentQoS1  [32]uint16          // msg ids of recent incoming QoS 1 PUBLISH
	recentN     int
	recentPos   int
	gateways    map[uint8]Gateway
	kaTimer     clock.Timer
	// wakeTimer is Tretry of a pending Wake: every datagram from the
	// gateway restarts it (§6.14).
	wakeTimer    clock.Timer
	wakeInterval time.Duration

	regSem, pubSem, subSem, pingSem, willSem chan struct{}
	kaTick                                   chan struct{}

	queue      *queue
	readerDone chan struct{}
	kaDone     chan struct{}
	closeOnce  sync.Once

	stats counters
}

// New starts a client that talks to the gateway at gw over conn (gw may be
// nil when the gateway is found with SearchGW). The client reads conn until
// Close; the caller keeps ownership of conn and closes it after Close.
func New(conn net.PacketConn, gw net.Addr, cfg Config) *Client {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		conn: conn, cfg: cfg.withDefaults(), gw: gw,
		ctx: ctx, cancel: cancel,
		topicByName: map[string]uint16{}, topicByID: map[uint16]string{},
		qos2In: map[uint16]struct{}{}, gateways: map[uint8]Gateway{},
		regSem: make(chan struct{}, 1), pubSem: make(chan struct{}, 1), subSem: make(chan struct{}, 1),
		pingSem: make(chan struct{}, 1), willSem: make(chan struct{}, 1),
		kaTick:     make(chan struct{}, 1),
		readerDone: make(chan struct{}), kaDone: make(chan struct{}),
	}
	c.clk, c.log = c.cfg.Clock, c.cfg.Logger
	c.queue = newQueue()
	go c.readLoop()
	go c.keepAliveLoop()
	return c
}

// Close stops the client's goroutines and timers. It does not send
// DISCONNECT (call Disconnect first for a clean end) and does not close conn:
// it unblocks the reader by setting a read deadline in the past, or closes
// conn if conn refuses deadlines. Close must not be called from a callback.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.cancel()
		c.mu.Lock()
		if c.kaTimer != nil {
			c.kaTimer.Stop()
		}
		c.mu.Unlock()
		if err := c.conn.SetReadDeadline(time.Unix(1, 0)); err != nil {
			c.conn.Close()
		}
		<-c.readerDone
		<-c.kaDone
		c.queue.close()
	})
	return nil
}

// State returns the connection state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

// Gateway returns the address of the gateway the client talks to.
func (c *Client) Gateway() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gw
}

// SetGateway changes the gateway address (e.g. to one found by SearchGW or
// Gateways). Connect to it afterwards.
func (c *Client) SetGateway(addr net.Addr) {
	c.mu.Lock()
	c.gw = addr
	c.mu.Unlock()
}

// ClientID returns the configured client id.
func (c *Client) ClientID() string { return c.cfg.ClientID }

// send encodes m and writes it to the gateway.
func (c *Client) send(m mqttsn.Message) error {
	gw := c.Gateway()
	if gw == nil {
		return ErrNoGateway
	}
	return c.sendTo(m, gw)
}

func (c *Client) sendTo(m mqttsn.Message, to net.Addr) error {
	b, err := mqttsn.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := c.conn.WriteTo(b, to); err != nil {
		return err
	}
	c.stats.bytesSent.Add(uint64(len(b)))
	c.stats.datagramsSent.Add(1)
	c.log.Debug("mqttsn send", "type", m.Type().String(), "len", len(b), "to", to.String())
	c.mu.Lock()
	if c.state == StateActive && c.kaTimer != nil && c.cfg.KeepAlive > 0 && sameAddr(to, c.gw) {
		c.kaTimer.Reset(c.cfg.KeepAlive)
	}
	c.mu.Unlock()
	return nil
}

func sameAddr(a, b net.Addr) bool {
	if a == nil || b == nil {
		return false
	}
	return a.Network() == b.Network() && a.String() == b.String()
}

// nextMsgID returns the next non-zero message id (§5.3.7).
func (c *Client) nextMsgID() uint16 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.msgID++
	if c.msgID == 0 {
		c.msgID = 1
	}
	return c.msgID
}

// acquire takes a one-slot semaphore, honouring ctx and Close.
func (c *Client) acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		return ErrClosed
	}
}

func release(sem chan struct{}) { <-sem }

// lost ends a connection the gateway no longer serves (§6.13) and tells the user.
func (c *Client) lost(err error) {
	c.mu.Lock()
	if c.state != StateActive && c.state != StateConnecting {
		c.mu.Unlock()
		return
	}
	c.state = StateLost
	if c.kaTimer != nil {
		c.kaTimer.Stop()
	}
	c.mu.Unlock()
	c.log.Debug("mqttsn connection lost", "err", err)
	if f := c.cfg.OnDisconnect; f != nil {
		c.queue.push(func() { f(err) })
	}
}
