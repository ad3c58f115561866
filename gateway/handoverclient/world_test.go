package handoverclient_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/trust/gatewayauth"
	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// waitFor bounds every wait for something that should happen promptly; it
// only turns a hang into a failure.
const waitFor = 20 * time.Second

var epoch0 = time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)

// area is one hospital area: an MQTT-SN gateway with peering in front of
// its own embedded broker, a UDP socket for the nodes and one for the peers.
type area struct {
	name   string
	g      *gateway.Gateway
	e      *broker.Embedded
	sn     net.PacketConn
	peer   *gatedConn
	events chan gateway.HandoverEvent
	// delivered gets the topic of every message the broker hands the
	// gateway, once the gateway took it.
	delivered chan string
}

func (a *area) addr() net.Addr { return a.sn.LocalAddr() }

// world is a set of areas whose gateways are each other's peers, all on one
// clock, optionally with a Trusted System that admits the nodes.
type world struct {
	clk   clock.Clock
	areas map[string]*area
	reg   *registry.Registry
	ts    *ts.Service
}

type worldOpts struct {
	clk     clock.Clock
	withTS  bool
	peering func(name string, c *gateway.PeeringConfig)
}

// verifier adapts the TS's admission verdicts to gateway.ProofVerifier.
type verifier struct{ v tsclient.Verifier }

func (v verifier) VerifyProof(ctx context.Context, gw, id string, ch, proof []byte) error {
	verdict, err := v.v.VerifyAdmission(ctx, gw, id, ch, proof)
	if err != nil {
		return err
	}
	if !verdict.Admitted() {
		return fmt.Errorf("%w: %v", gateway.ErrNotAdmitted, verdict.Status)
	}
	return nil
}

func newWorld(t testing.TB, o worldOpts, names ...string) *world {
	t.Helper()
	w := &world{clk: o.clk, areas: map[string]*area{}}
	if w.clk == nil {
		w.clk = clock.Real{}
	}
	if o.withTS {
		var err error
		w.reg, err = registry.Open(filepath.Join(t.TempDir(), "ts.db"), registry.Options{Clock: w.clk})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { w.reg.Close() })
		w.ts, err = ts.NewService(ts.Config{Registry: w.reg, Clock: w.clk})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.ts.Close)
	}
	// Peer sockets first: every gateway's config names the others'.
	peerPCs := map[string]*gatedConn{}
	for _, n := range names {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pc.Close() })
		peerPCs[n] = newGatedConn(pc)
	}
	keys := map[[2]string][]byte{}
	key := func(a, b string) []byte {
		if a > b {
			a, b = b, a
		}
		k := keys[[2]string{a, b}]
		if k == nil {
			k = make([]byte, 32)
			_, _ = rand.Read(k)
			keys[[2]string{a, b}] = k
		}
		return k
	}
	for _, n := range names {
		a := &area{name: n, peer: peerPCs[n], events: make(chan gateway.HandoverEvent, 1000),
			delivered: make(chan string, 1000)}
		pcfg := &gateway.PeeringConfig{Name: n, OnEvent: func(ev gateway.HandoverEvent) {
			select {
			case a.events <- ev:
			default:
			}
		}}
		for _, m := range names {
			if m != n {
				pcfg.Peers = append(pcfg.Peers, gateway.Peer{Name: m, Addr: peerPCs[m].LocalAddr().String(), Key: key(n, m)})
			}
		}
		cfg := gateway.Config{Clock: w.clk, Registerer: prometheus.NewRegistry(), Peering: pcfg}
		if w.ts != nil {
			pcfg.Verifier = verifier{w.ts.Verifier()}
			cfg.Authenticator = &gatewayauth.Authenticator{Gateway: n, Verifier: w.ts.Verifier()}
		}
		if o.peering != nil {
			o.peering(n, pcfg)
		}
		var g *gateway.Gateway
		e, err := broker.NewEmbedded(broker.EmbeddedConfig{TCPAddr: "127.0.0.1:0",
			Deliver: func(id string, m broker.Message) {
				g.Deliver(id, m)
				select {
				case a.delivered <- m.Topic:
				default:
				}
			}})
		if err != nil {
			t.Fatal(err)
		}
		if g, err = gateway.New(cfg, e); err != nil {
			t.Fatal(err)
		}
		a.g, a.e = g, e
		a.sn, err = net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); _ = g.Serve(ctx, a.sn) }()
		go func() { defer wg.Done(); _ = g.ServePeers(ctx, a.peer) }()
		t.Cleanup(func() {
			cancel()
			g.Close()
			wg.Wait()
			e.Close()
			a.sn.Close()
		})
		t.Cleanup(a.peer.Release) // runs first: a failed test may leave it holding
		w.areas[n] = a
	}
	return w
}

// expectEvent waits for the next event of kind k at a (skipping others).
func (a *area) expectEvent(t testing.TB, k gateway.EventKind) gateway.HandoverEvent {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		select {
		case ev := <-a.events:
			if ev.Kind == k {
				return ev
			}
		case <-timeout:
			t.Fatalf("%s: no %v event", a.name, k)
			return gateway.HandoverEvent{}
		}
	}
}

// gatedConn is a peer socket whose incoming datagrams a test can hold back.
type gatedConn struct {
	net.PacketConn
	mu     sync.Mutex
	hold   bool
	only   mqttsn.MsgType // hold only this type (0: all)
	held   chan struct{}  // closed to release
	onHeld chan struct{}  // a datagram is being held
}

func newGatedConn(pc net.PacketConn) *gatedConn {
	return &gatedConn{PacketConn: pc, onHeld: make(chan struct{}, 100)}
}

// Hold makes the next incoming datagrams wait until Release.
func (c *gatedConn) Hold() { c.HoldType(0) }

// HoldType makes the next incoming datagram of type t (0: any) wait until
// Release; the read loop waits with it.
func (c *gatedConn) HoldType(t mqttsn.MsgType) {
	c.mu.Lock()
	c.hold, c.only, c.held = true, t, make(chan struct{})
	c.mu.Unlock()
}

func (c *gatedConn) Release() {
	c.mu.Lock()
	if c.hold {
		c.hold = false
		close(c.held)
	}
	c.mu.Unlock()
}

func (c *gatedConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, a, err := c.PacketConn.ReadFrom(b)
	c.mu.Lock()
	hold, ch := c.hold, c.held
	if h, herr := mqttsn.ReadHeader(b[:n]); c.only != 0 && (herr != nil || h.Type != c.only) {
		hold = false
	}
	c.mu.Unlock()
	if err == nil && hold {
		c.onHeld <- struct{}{}
		<-ch
	}
	return n, a, err
}

// radio is the node's socket as the patient walks: it reaches only the
// gateway of the area the node is in; datagrams to others are lost in the
// air and theirs are not heard. It counts what the node sends and receives.
type radio struct {
	net.PacketConn
	mu      sync.Mutex
	in      string // the address in range
	dropped chan []byte
	trace   []hop // every datagram carried, in order
}

// hop is one datagram the radio carried.
type hop struct {
	tx  bool
	n   int
	typ mqttsn.MsgType
}

func msgType(b []byte) mqttsn.MsgType {
	h, err := mqttsn.ReadHeader(b)
	if err != nil {
		return 0
	}
	return h.Type
}

func newRadio(t testing.TB) *radio {
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return &radio{PacketConn: pc, dropped: make(chan []byte, 100)}
}

func (r *radio) enter(a *area) {
	r.mu.Lock()
	r.in = a.addr().String()
	r.mu.Unlock()
}

func (r *radio) inRange(addr net.Addr) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return addr.String() == r.in
}

func (r *radio) WriteTo(b []byte, addr net.Addr) (int, error) {
	if !r.inRange(addr) {
		select {
		case r.dropped <- append([]byte(nil), b...):
		default:
		}
		return len(b), nil // lost in the air
	}
	r.mu.Lock()
	r.trace = append(r.trace, hop{tx: true, n: len(b), typ: msgType(b)})
	r.mu.Unlock()
	return r.PacketConn.WriteTo(b, addr)
}

func (r *radio) ReadFrom(b []byte) (int, net.Addr, error) {
	for {
		n, a, err := r.PacketConn.ReadFrom(b)
		if err != nil || r.inRange(a) {
			if err == nil {
				r.mu.Lock()
				r.trace = append(r.trace, hop{n: n, typ: msgType(b[:n])})
				r.mu.Unlock()
			}
			return n, a, err
		}
	}
}

// caregiver subscribes on every area's broker and records what arrives.
type caregiver struct {
	mu   sync.Mutex
	got  []received
	more chan struct{}
}

type received struct {
	area    string
	topic   string
	payload string
	at      time.Time // on the world clock
}

func newCaregiver(t testing.TB, w *world, filter string) *caregiver {
	t.Helper()
	cg := &caregiver{more: make(chan struct{}, 1)}
	names := make([]string, 0, len(w.areas))
	for n := range w.areas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		a := w.areas[n]
		conn, err := net.DialTimeout("tcp", a.e.TCPAddr(), waitFor)
		if err != nil {
			t.Fatal(err)
		}
		name := n
		c := paho.NewClient(paho.ClientConfig{Conn: conn,
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(pr paho.PublishReceived) (bool, error) {
				cg.mu.Lock()
				cg.got = append(cg.got, received{area: name, topic: pr.Packet.Topic, payload: string(pr.Packet.Payload), at: w.clk.Now()})
				cg.mu.Unlock()
				select {
				case cg.more <- struct{}{}:
				default:
				}
				return true, nil
			}}})
		ctx, cancel := context.WithTimeout(context.Background(), waitFor)
		if _, err := c.Connect(ctx, &paho.Connect{ClientID: "caregiver-" + n, CleanStart: true, KeepAlive: 600}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 1}}}); err != nil {
			t.Fatal(err)
		}
		cancel()
		t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}); <-c.Done() })
	}
	return cg
}

// waitCount waits until at least n messages arrived.
func (cg *caregiver) waitCount(t testing.TB, n int) []received {
	t.Helper()
	timeout := time.After(waitFor)
	for {
		cg.mu.Lock()
		if len(cg.got) >= n {
			got := append([]received(nil), cg.got...)
			cg.mu.Unlock()
			return got
		}
		have := len(cg.got)
		cg.mu.Unlock()
		select {
		case <-cg.more:
		case <-timeout:
			t.Fatalf("caregiver got %d messages, want %d", have, n)
		}
	}
}

// publisher is an MQTT client on one area's broker (a caregiver sending a
// command to a node).
func publishMQTT(t testing.TB, a *area, topic, payload string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", a.e.TCPAddr(), waitFor)
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	if _, err := c.Connect(ctx, &paho.Connect{ClientID: "cmd-" + a.name, CleanStart: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, &paho.Publish{Topic: topic, Payload: []byte(payload), QoS: 1}); err != nil {
		t.Fatal(err)
	}
	_ = c.Disconnect(&paho.Disconnect{})
	<-c.Done()
}

// traceLen and traceSince cut the radio's trace.
func (r *radio) traceLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.trace)
}

func (r *radio) traceSince(i int) []hop {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hop(nil), r.trace[i:]...)
}
