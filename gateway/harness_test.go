package gateway

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitFor bounds every wait for an event in these tests; it is a failure
// timeout, never a pacing delay.
const waitFor = 10 * time.Second

// fakeBroker is an in-memory broker.Broker: it records publishes, routes them
// to subscribers synchronously through deliver, and can be made busy, failing
// or blocking.
type fakeBroker struct {
	mu       sync.Mutex
	deliver  func(string, broker.Message)
	attached map[string]bool
	subs     map[string]map[string]byte // client → filter → qos
	calls    []string

	pubs  chan fakePub
	busy  atomic.Bool
	fail  atomic.Bool
	state atomic.Int32
	gate  chan struct{} // when non-nil, QoS 1/2 publishes wait for it to close
}

type fakePub struct {
	client string
	m      broker.Message
}

func newFakeBroker() *fakeBroker {
	b := &fakeBroker{attached: map[string]bool{}, subs: map[string]map[string]byte{}, pubs: make(chan fakePub, 10000)}
	b.state.Store(int32(broker.StateConnected))
	return b
}

func (b *fakeBroker) Attach(ctx context.Context, id string, clean bool) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.attached[id] = true
	if clean {
		delete(b.subs, id)
	}
	b.calls = append(b.calls, "attach "+id)
	return nil
}

func (b *fakeBroker) Detach(ctx context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.attached, id)
	b.calls = append(b.calls, "detach "+id)
	return nil
}

func (b *fakeBroker) Publish(ctx context.Context, id string, m broker.Message) error {
	if b.busy.Load() {
		return broker.ErrBusy
	}
	if b.fail.Load() {
		return errors.New("fake: broker down")
	}
	b.mu.Lock()
	gate := b.gate
	b.mu.Unlock()
	if gate != nil && m.QoS > 0 {
		select {
		case <-gate:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	select {
	case b.pubs <- fakePub{id, m}:
	default: // nobody is reading (fuzzing): do not block the gateway
	}
	b.route(m)
	return nil
}

// inject publishes m as if an MQTT client outside the gateway had.
func (b *fakeBroker) route(m broker.Message) {
	type target struct {
		id  string
		qos byte
	}
	var ts []target
	b.mu.Lock()
	for id, fs := range b.subs {
		best, ok := byte(0), false
		for f, q := range fs {
			if broker.MatchFilter(f, m.Topic) && (!ok || q > best) {
				best, ok = q, true
			}
		}
		if ok && b.attached[id] {
			ts = append(ts, target{id, min(best, m.QoS)})
		}
	}
	d := b.deliver
	b.mu.Unlock()
	for _, t := range ts {
		mm := m
		mm.QoS = t.qos
		mm.Payload = append([]byte(nil), m.Payload...)
		d(t.id, mm)
	}
}

func (b *fakeBroker) Subscribe(ctx context.Context, id, filter string, qos byte) (byte, error) {
	if b.fail.Load() {
		return 0, errors.New("fake: broker down")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs[id] == nil {
		b.subs[id] = map[string]byte{}
	}
	b.subs[id][filter] = qos
	b.calls = append(b.calls, "subscribe "+id+" "+filter)
	return qos, nil
}

func (b *fakeBroker) Unsubscribe(ctx context.Context, id, filter string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs[id], filter)
	b.calls = append(b.calls, "unsubscribe "+id+" "+filter)
	return nil
}

func (b *fakeBroker) State() broker.State { return broker.State(b.state.Load()) }
func (b *fakeBroker) Close() error        { return nil }

func (b *fakeBroker) isAttached(id string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.attached[id]
}

func (b *fakeBroker) hasSub(id, filter string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.subs[id][filter]
	return ok
}

// nextPub waits for the next message published to the broker.
func (b *fakeBroker) nextPub(t testing.TB) fakePub {
	t.Helper()
	select {
	case p := <-b.pubs:
		return p
	case <-time.After(waitFor):
		t.Fatal("no publish reached the broker")
	}
	return fakePub{}
}

// noPubs asserts nothing was published so far (the caller first synchronised
// with the gateway, e.g. by a PINGREQ round trip).
func (b *fakeBroker) noPubs(t testing.TB) {
	t.Helper()
	select {
	case p := <-b.pubs:
		t.Fatalf("unexpected publish to the broker: %+v", p)
	default:
	}
}

// harness is a gateway on a loopback UDP socket with a fake broker and a
// virtual clock.
type harness struct {
	t    testing.TB
	g    *Gateway
	b    *fakeBroker
	clk  *clock.Virtual
	reg  *prometheus.Registry
	addr *net.UDPAddr
}

var epoch0 = time.Unix(1_700_000_000, 0)

func newHarness(t testing.TB, mod func(*Config)) *harness {
	t.Helper()
	return newHarnessOn(t, "udp4", "127.0.0.1:0", mod)
}

func newHarnessOn(t testing.TB, network, laddr string, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{t: t, b: newFakeBroker(), clk: clock.NewVirtual(epoch0), reg: prometheus.NewRegistry()}
	cfg := Config{
		Clock:            h.clk,
		Registerer:       h.reg,
		PredefinedTopics: map[uint16]string{1: "ward/1/alarm", 2: "ward/1/status"},
	}
	if mod != nil {
		mod(&cfg)
	}
	g, err := New(cfg, h.b)
	if err != nil {
		t.Fatal(err)
	}
	h.g = g
	h.b.mu.Lock()
	h.b.deliver = g.Deliver
	h.b.mu.Unlock()
	h.addr = h.serve(network, laddr)
	t.Cleanup(func() { g.Close() })
	return h
}

// serve starts serving a new socket and returns its address once Serve runs.
func (h *harness) serve(network, laddr string) *net.UDPAddr {
	h.t.Helper()
	pc, err := net.ListenPacket(network, laddr)
	if err != nil {
		h.t.Skipf("cannot listen on %s %s: %v", network, laddr, err)
	}
	started := make(chan struct{})
	done := make(chan error, 1)
	h.g.cfg.NotifyStarted = func(net.PacketConn) { close(started) }
	go func() { done <- h.g.Serve(context.Background(), pc) }()
	select {
	case <-started:
	case err := <-done:
		h.t.Fatalf("Serve returned at once: %v", err)
	}
	h.g.mu.Lock()
	h.g.cfg.NotifyStarted = nil
	h.g.mu.Unlock()
	h.t.Cleanup(func() {
		h.g.Close()
		if err := <-done; err != nil {
			h.t.Errorf("Serve: %v", err)
		}
		pc.Close()
	})
	return pc.LocalAddr().(*net.UDPAddr)
}

// client is a raw MQTT-SN client on its own loopback socket.
type client struct {
	t    testing.TB
	conn *net.UDPConn
	gw   *net.UDPAddr
	buf  []byte
}

func (h *harness) client() *client { return newClient(h.t, h.addr) }

func newClient(t testing.TB, gw *net.UDPAddr) *client {
	t.Helper()
	network := "udp4"
	if gw.IP.To4() == nil {
		network = "udp6"
	}
	conn, err := net.ListenUDP(network, &net.UDPAddr{IP: gw.IP})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, gw: gw, buf: make([]byte, 70000)}
}

func (c *client) send(m mqttsn.Message) {
	c.t.Helper()
	b, err := mqttsn.Marshal(m)
	if err != nil {
		c.t.Fatalf("marshal %T: %v", m, err)
	}
	c.sendRaw(b)
}

func (c *client) sendRaw(b []byte) {
	c.t.Helper()
	if _, err := c.conn.WriteToUDP(b, c.gw); err != nil {
		c.t.Fatal(err)
	}
}

// recvRaw returns the next datagram from the gateway.
func (c *client) recvRaw() []byte {
	c.t.Helper()
	c.conn.SetReadDeadline(time.Now().Add(waitFor))
	for {
		n, from, err := c.conn.ReadFromUDP(c.buf)
		if err != nil {
			c.t.Fatalf("waiting for the gateway: %v", err)
		}
		if from.Port != c.gw.Port {
			continue
		}
		return append([]byte(nil), c.buf[:n]...)
	}
}

func (c *client) recv() mqttsn.Message {
	c.t.Helper()
	b := c.recvRaw()
	m, err := mqttsn.DecodeDatagram(b)
	if err != nil {
		c.t.Fatalf("gateway sent an undecodable datagram % x: %v", b, err)
	}
	return m
}

// expect receives the next message and requires it to be a T.
func expect[T mqttsn.Message](c *client) T {
	c.t.Helper()
	m := c.recv()
	v, ok := m.(T)
	if !ok {
		var want T
		c.t.Fatalf("got %T %+v, want %T", m, m, want)
	}
	return v
}

// sync does a PINGREQ round trip: everything the gateway sent this client
// before is read first, so the caller can assert nothing else arrived.
func (c *client) sync() {
	c.t.Helper()
	c.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Pingresp](c)
}

func (c *client) connect(id string, clean bool, keepAlive uint16) {
	c.t.Helper()
	c.send(&mqttsn.Connect{ClientID: []byte(id), CleanSession: clean, Duration: keepAlive})
	if ack := expect[*mqttsn.Connack](c); ack.ReturnCode != mqttsn.Accepted {
		c.t.Fatalf("CONNACK %v", ack.ReturnCode)
	}
}

func (c *client) register(topic string, msgID uint16) uint16 {
	c.t.Helper()
	c.send(&mqttsn.Register{MsgID: msgID, TopicName: []byte(topic)})
	ack := expect[*mqttsn.Regack](c)
	if ack.ReturnCode != mqttsn.Accepted || ack.MsgID != msgID || ack.TopicID == 0 {
		c.t.Fatalf("REGACK %+v", ack)
	}
	return ack.TopicID
}

func (c *client) subscribe(topic string, qos mqttsn.QoS, msgID uint16) *mqttsn.Suback {
	c.t.Helper()
	c.send(&mqttsn.Subscribe{QoS: qos, MsgID: msgID, TopicName: []byte(topic)})
	ack := expect[*mqttsn.Suback](c)
	if ack.ReturnCode != mqttsn.Accepted || ack.MsgID != msgID {
		c.t.Fatalf("SUBACK %+v", ack)
	}
	return ack
}

// drops returns the gateway's drop count for reason.
func (h *harness) drops(reason string) uint64 { return h.g.Stats().Drops[reason] }
