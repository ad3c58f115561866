package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
)

// Gateway is an MQTT-SN v1.2 gateway in front of an MQTT broker. Create it
// with New, serve one or more PacketConns with Serve, and stop it with Close.
type Gateway struct {
	cfg          Config
	broker       broker.Broker
	log          *slog.Logger
	clk          clock.Clock
	m            *metrics
	predefByName map[string]uint16
	open         bool // the Authenticator is Open
	inlinePub    bool // the broker's Publish never blocks (broker.NonBlocking)

	ctx    context.Context // ends at Close; parent of every broker call
	cancel context.CancelFunc
	wg     sync.WaitGroup // Serve loops and async broker calls
	ops    atomic.Int64   // async broker calls in progress
	pool   brokerPool     // workers for async broker calls (pool.go)

	lifeMu    sync.Mutex               // guards lifecycle (taken after mu, or alone)
	lifecycle map[string]chan struct{} // last Attach/Detach per client id, to keep them in order

	mu         sync.Mutex // guards everything below and every session
	closed     bool
	conns      []*servedConn
	byAddr     map[peerKey]*session
	byID       map[string]*session
	connecting map[peerKey]*pendingConnect
	nLive      int    // sessions holding a client slot
	wbuf       []byte // encode buffer for sends
	advTimer   clock.Timer
	anonReady  bool // AnonymousClientID is attached

	st             storeState                    // Config.Store's state (store.go)
	connectBuckets map[netip.Addr]*connectBucket // ConnectRate's buckets (connect_limit.go)

	ho *handover // Config.Peering's state (handover.go); nil without peering
}

// New returns a gateway that bridges MQTT-SN clients to b. Messages the broker
// routes to a client must be handed to the gateway's Deliver method: build the
// broker adapter with a DeliverFunc that calls it.
func New(cfg Config, b broker.Broker) (*Gateway, error) {
	if b == nil {
		return nil, errors.New("gateway: nil broker")
	}
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer, b)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	g := &Gateway{
		cfg:          cfg,
		broker:       b,
		log:          cfg.Logger,
		clk:          cfg.Clock,
		m:            m,
		predefByName: make(map[string]uint16, len(cfg.PredefinedTopics)),
		ctx:          ctx,
		cancel:       cancel,
		byAddr:       make(map[peerKey]*session),
		byID:         make(map[string]*session),
		connecting:   make(map[peerKey]*pendingConnect),
		lifecycle:    make(map[string]chan struct{}),
		wbuf:         make([]byte, 0, cfg.MaxDatagram+256),
	}
	_, g.open = cfg.Authenticator.(Open)
	g.inlinePub = broker.PublishNeverBlocks(b)
	for id, name := range cfg.PredefinedTopics {
		g.predefByName[name] = id
	}
	if err := g.storeInit(); err != nil {
		cancel()
		return nil, err
	}
	if cfg.Peering != nil {
		if g.ho, err = newHandover(g, *cfg.Peering); err != nil {
			cancel()
			return nil, err
		}
	}
	return g, nil
}

// Serve reads MQTT-SN datagrams from pc and answers on it until ctx ends or
// the gateway is closed; then it returns nil. Several PacketConns may be
// served at once (IPv4 and IPv6 sockets, a border router's conn); a client
// is answered on the conn it wrote to. Serve does not close pc, but it sets
// pc's read deadline to stop reading.
func (g *Gateway) Serve(ctx context.Context, pc net.PacketConn) error {
	c := &servedConn{pc: pc}
	c.udp, _ = pc.(*net.UDPConn)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errClosed
	}
	g.conns = append(g.conns, c)
	g.storeRestore(c)
	g.wg.Add(1)
	g.startAdvertising()
	g.mu.Unlock()
	defer g.wg.Done()
	defer g.removeConn(c)

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-ctx.Done():
		case <-g.ctx.Done():
		case <-stop:
			return
		}
		_ = pc.SetReadDeadline(time.Unix(1, 0))
	}()

	if f := g.cfg.NotifyStarted; f != nil {
		f(pc)
	}
	if c.udp != nil {
		if ok, err := g.serveBatched(ctx, c); ok {
			return err // batchio.go: recvmmsg
		}
	}
	buf := make([]byte, g.cfg.MaxDatagram+1)
	for {
		var err error
		var n int
		if c.udp != nil {
			var ap netip.AddrPort
			n, ap, err = c.udp.ReadFromUDPAddrPort(buf)
			if err == nil {
				g.handleDatagram(buf[:n], peerKey{conn: c, ap: ap}, nil)
				continue
			}
		} else {
			var addr net.Addr
			n, addr, err = pc.ReadFrom(buf)
			if err == nil {
				g.handleDatagram(buf[:n], peerKey{conn: c, addr: addr.String()}, addr)
				continue
			}
		}
		if ctx.Err() != nil || g.ctx.Err() != nil {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue // a deadline someone else set; keep serving
		}
		return err
	}
}

func (g *Gateway) removeConn(c *servedConn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for i, x := range g.conns {
		if x == c {
			g.conns = append(g.conns[:i], g.conns[i+1:]...)
			break
		}
	}
}

// Close stops every Serve loop and timer and waits for broker calls in
// progress to end (they are cancelled). It does not close the broker or the
// PacketConns. Close is idempotent.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	if g.advTimer != nil {
		g.advTimer.Stop()
	}
	for _, s := range g.byID {
		stopTimer(s.supervise)
		stopTimer(s.retry)
	}
	for _, pc := range g.connecting {
		pc.abort()
	}
	g.cancel()
	for _, c := range g.conns {
		_ = c.pc.SetReadDeadline(time.Unix(1, 0))
	}
	g.mu.Unlock()
	g.wg.Wait()
	if g.st.done != nil {
		<-g.st.done // the store writer's last group commit
	}
	return nil
}

func stopTimer(t clock.Timer) {
	if t != nil {
		t.Stop()
	}
}

// goBroker runs f on a pooled goroutine with a context bounded by
// BrokerTimeout; it reports false (and runs nothing) when MaxBrokerOps calls
// are already in progress or the gateway is closed. Call with g.mu held.
func (g *Gateway) goBroker(f func(ctx context.Context)) bool {
	return g.goPooled(brokerCall{f: f})
}
