package mote_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/vtime"
	"github.com/lsmqtt/lsmqtt/rpl/border"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
	"github.com/lsmqtt/lsmqtt/trust/registry"
	"github.com/lsmqtt/lsmqtt/trust/ts"
	"github.com/lsmqtt/lsmqtt/trust/tsclient"
)

// hoWorld is two areas (gateway with peering, embedded broker, and a
// border router on one shared radio medium, or a UDP socket), one Trusted
// System, and a caregiver subscribed on both brokers, on a virtual clock.
type hoWorld struct {
	t   testing.TB
	ctx context.Context
	clk *clock.Virtual
	drv *vtime.Driver
	md  *medium.Medium // nil over UDP
	// mobile: meshMote starts motes with MeshConfig.Mobile; moteStack is
	// their stack config.
	mobile    bool
	moteStack stack.Config
	routers   []*border.Router // started by the world (hoOpts.routerStack)
	backhaul  time.Duration    // delay of the gateway's datagrams to those routers (hoOpts.backhaul)
	serving   sync.WaitGroup
	reg       *registry.Registry
	svc       *ts.Service
	areas     [2]*area.Area
	peers     [2]*peerConn
	cg        *tsclient.Reader

	deliveries atomic.Uint64
	mu         sync.Mutex
	got        []delivery
	motes      []*mote.Mote
	macs       []ieee802154.Address
}

// delivery is one message the caregiver got, from area (0 or 1) at (the
// virtual clock).
type delivery struct {
	area  int
	at    time.Time
	topic string
	env   []byte
}

// peerConn is a gateway's peer socket in memory: the gateways' peer
// datagrams go from one to the other through a channel, never through the
// kernel (whose wake-ups, on a loaded machine, would be read as emulated
// time by the driver), and are counted so the driver sees them in flight.
type peerConn struct {
	addr  *net.UDPAddr
	peers *peerNet
	ch    chan peerDatagram

	in, out atomic.Uint64

	mu       sync.Mutex
	deadline chan struct{} // closed while a past read deadline is set
	closed   chan struct{}
	once     sync.Once
}

type peerDatagram struct {
	b    []byte
	from net.Addr
}

// peerNet routes datagrams between peerConns by address.
type peerNet struct {
	mu    sync.Mutex
	conns map[string]*peerConn
}

func (n *peerNet) listen(port int) *peerConn {
	c := &peerConn{addr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port}, peers: n,
		ch: make(chan peerDatagram, 256), deadline: make(chan struct{}), closed: make(chan struct{})}
	n.mu.Lock()
	if n.conns == nil {
		n.conns = map[string]*peerConn{}
	}
	n.conns[c.addr.String()] = c
	n.mu.Unlock()
	return c
}

func (c *peerConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.mu.Lock()
	dl := c.deadline
	c.mu.Unlock()
	select {
	case d := <-c.ch:
		c.in.Add(1)
		return copy(b, d.b), d.from, nil
	case <-dl:
		return 0, nil, os.ErrDeadlineExceeded
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *peerConn) WriteTo(b []byte, a net.Addr) (int, error) {
	c.peers.mu.Lock()
	to := c.peers.conns[a.String()]
	c.peers.mu.Unlock()
	if to == nil {
		return len(b), nil // nobody there: lost, as over UDP
	}
	select {
	case to.ch <- peerDatagram{append([]byte(nil), b...), c.addr}:
		c.out.Add(1)
	default: // the receiver's buffer is full: lost
	}
	return len(b), nil
}

func (c *peerConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *peerConn) LocalAddr() net.Addr { return c.addr }

func (c *peerConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *peerConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	past := !t.IsZero() && !t.After(time.Now())
	select {
	case <-c.deadline:
		if !past {
			c.deadline = make(chan struct{})
		}
	default:
		if past {
			close(c.deadline)
		}
	}
	return nil
}

func (c *peerConn) SetWriteDeadline(time.Time) error { return nil }

// The areas' border routers (mesh) are 1000 m apart, far out of range.
var routerPos = [2]medium.Position{{X: 0}, {X: 1000}}

// newHOWorld starts the world; tune, when given, adjusts area i's config.
func newHOWorld(t testing.TB, mesh bool, tune ...func(i int, c *area.Config)) *hoWorld {
	t.Helper()
	return newHOWorldWith(t, hoOpts{mesh: mesh}, tune...)
}

// hoOpts: mesh puts the areas on a radio medium; routerStack, when set
// (mesh only), runs each area's border router with that stack config (the
// world starts the routers itself, since area.Config has no stack config
// for its router: RPL comes from the area's config).
type hoOpts struct {
	mesh        bool
	routerStack *stack.Config
	// backhaul delays the gateway's datagrams to the world's routers
	// (delayedConn).
	backhaul time.Duration
}

func newHOWorldWith(t testing.TB, opts hoOpts, tune ...func(i int, c *area.Config)) *hoWorld {
	t.Helper()
	mesh := opts.mesh
	w := &hoWorld{t: t, ctx: context.Background(), clk: clock.NewVirtual(epoch), backhaul: opts.backhaul}
	var err error
	if w.reg, err = registry.Open(filepath.Join(memTempDir(t), "ts.db"), registry.Options{Clock: w.clk}); err != nil {
		t.Fatal(err)
	}
	if w.svc, err = ts.NewService(ts.Config{Registry: w.reg, Clock: w.clk}); err != nil {
		w.reg.Close()
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	if mesh {
		w.md = medium.New(medium.Config{Range: 50, Seed: 7, Clock: w.clk})
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	var pn peerNet
	for i := range w.peers {
		w.peers[i] = pn.listen(40001 + i)
	}
	verify := gateway.VerifyProofFunc(func(ctx context.Context, gw, id string, ch, proof []byte) error {
		v, err := w.svc.Verifier().VerifyAdmission(ctx, gw, id, ch, proof)
		if err != nil {
			return err
		}
		if !v.Admitted() {
			return fmt.Errorf("%w: %v", gateway.ErrNotAdmitted, v.Status)
		}
		return nil
	})
	for i := range w.areas {
		j := 1 - i
		cfg := area.Config{Number: i + 1, Clock: w.clk, TS: true, SharedTS: w.svc, SharedRegistry: w.reg,
			PeerConn: w.peers[i], UDP: !mesh, Mesh: mesh, Medium: w.md, RouterPosition: routerPos[i],
			Gateway: gateway.Config{Peering: &gateway.PeeringConfig{Name: areaName(i), Verifier: verify,
				Peers: []gateway.Peer{{Name: areaName(j), Addr: w.peers[j].LocalAddr().String(), Key: key}}}}}
		for _, f := range tune {
			f(i, &cfg)
		}
		own := mesh && opts.routerStack != nil
		if own {
			cfg.Mesh, cfg.UDP = false, true // the world adds the router below
		}
		a, err := area.Start(w.ctx, cfg)
		if err != nil {
			w.peers[i].Close()
			t.Fatal(err)
		}
		w.areas[i] = a
		if own {
			w.startRouter(i, cfg, *opts.routerStack)
		}
		if mesh {
			w.macs = append(w.macs, ieee802154.Ext(area.RouterMAC(i+1)))
		}
	}
	// The caregivers' station, on both brokers.
	p, err := w.reg.RegisterCaregiver("station")
	if err != nil {
		t.Fatal(err)
	}
	creds := &tsclient.Credentials{Name: p.Name, Kind: string(p.Kind), PSS: append([]byte(nil), p.PSS...)}
	p.Wipe()
	if w.cg, err = tsclient.NewReader(tsclient.ReaderConfig{Creds: creds, Exchanger: area.LocalExchanger{Service: w.svc}, Clock: w.clk}); err != nil {
		t.Fatal(err)
	}
	creds.Wipe()
	for i, a := range w.areas {
		a.Broker.Server().Topics.InlineSubscribe(mqtt.InlineSubscription{
			Subscription: packets.Subscription{Filter: "ward/+/patient/+/#", Identifier: 1 << 20, Qos: 1},
			Handler: func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
				w.mu.Lock()
				w.got = append(w.got, delivery{area: i, at: w.clk.Now(), topic: pk.TopicName, env: append([]byte(nil), pk.Payload...)})
				w.mu.Unlock()
				w.deliveries.Add(1)
			},
		})
	}
	// The gateways' work (peer exchanges over loopback, the TS, the
	// brokers) runs outside the clock: while a mote waits on it, time
	// moves in 100 µs steps for up to a second of silence before the
	// driver takes it for a wait on a timer (the 50 ms default would jump
	// to the peers' 500 ms retransmission on a loaded machine).
	w.drv = &vtime.Driver{Clock: w.clk, Busy: w.busy, Activity: w.activity, BusyWindow: 100 * time.Millisecond, Settle: 32}
	return w
}

// memTempDir is a temporary directory in memory (/dev/shm) where there is
// one, else t.TempDir: the TS commits its key counter to its registry
// (bbolt, fsync) before it answers a key request, and that work runs
// outside the virtual clock, so a disk's fsync time would be read as
// emulated time by the driver (tens of ms per key request on a loaded
// host).
func memTempDir(t testing.TB) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if d, err := os.MkdirTemp("/dev/shm", "lsmqtt-mote-test-"); err == nil {
			t.Cleanup(func() { os.RemoveAll(d) })
			return d
		}
	}
	return t.TempDir()
}

// startRouter starts area i's border router as area.Start would (same
// MAC, prefix, seed and position) but with the stack config sc, and
// serves the area's gateway on it.
func (w *hoWorld) startRouter(i int, cfg area.Config, sc stack.Config) {
	w.t.Helper()
	n := i + 1
	mac := area.RouterMAC(n)
	port, err := w.md.Attach(ieee802154.Ext(mac), uint16(n)<<8)
	if err != nil {
		w.t.Fatal(err)
	}
	w.md.SetPosition(ieee802154.Ext(mac), cfg.RouterPosition)
	r, err := border.New(border.Config{Prefix: area.Prefix(n), Addr: mac, Radio: port, Clock: w.clk,
		Seed: uint64(n) * 7919, RPL: cfg.RPL, Stack: sc})
	if err != nil {
		port.Close()
		w.t.Fatal(err)
	}
	w.routers = append(w.routers, r)
	var pc net.PacketConn = r.PacketConn()
	if w.backhaul > 0 {
		pc = &delayedConn{PacketConn: pc, clk: w.clk, d: w.backhaul}
	}
	w.serving.Add(1)
	go func() {
		defer w.serving.Done()
		_ = w.areas[i].Gateway.Serve(w.ctx, pc)
	}()
}

// delayedConn hands the gateway's datagrams to the border router d later
// on the virtual clock: the wired hop and the gateway's own time, which
// the driver otherwise stamps at about zero. Without it a gateway's answer
// to a mote leaves the router at the very instant the router's ACK of the
// request ends, while a duty-cycled mote's radio is still on, and never
// waits for the mote's next channel check, as a real one would.
type delayedConn struct {
	net.PacketConn
	clk clock.Clock
	d   time.Duration
}

func (c *delayedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	cp := append([]byte(nil), b...)
	c.clk.AfterFunc(c.d, func() { _, _ = c.PacketConn.WriteTo(cp, addr) })
	return len(b), nil
}

func areaName(i int) string { return fmt.Sprintf("gw-area%d", i+1) }

func (w *hoWorld) close() {
	w.mu.Lock()
	ms := w.motes
	w.mu.Unlock()
	for _, m := range ms {
		m.Close()
	}
	for i, a := range w.areas {
		if a != nil {
			a.Close() // ends Serve on the world's routers too
		} else if w.peers[i] != nil {
			w.peers[i].Close()
		}
	}
	w.serving.Wait()
	for _, r := range w.routers {
		r.Close()
	}
	if w.md != nil {
		w.md.Close()
	}
	if w.cg != nil {
		w.cg.Close()
	}
	w.svc.Close()
	w.reg.Close()
}

// busy: a mote is working, or datagrams are on their way outside the
// clock (between the motes' sockets and the gateways, between the gateways).
func (w *hoWorld) busy() bool {
	w.mu.Lock()
	ms := w.motes
	w.mu.Unlock()
	var sent, recv uint64
	for _, m := range ms {
		if m.Busy() {
			return true
		}
		s, r := m.Datagrams()
		sent += s
		recv += r
	}
	if w.md == nil { // over the mesh, the medium's frames are on the clock
		var in, out uint64
		for _, a := range w.areas {
			g := a.Gateway.Stats()
			in += g.MessagesIn
			out += g.MessagesOut
		}
		if sent > in || out > recv {
			return true
		}
	}
	return w.peers[0].out.Load()+w.peers[1].out.Load() > w.peers[0].in.Load()+w.peers[1].in.Load()
}

func (w *hoWorld) activity() uint64 {
	// Cheap counters only: the driver asks after every yield.
	var n uint64
	if w.md != nil {
		for _, a := range w.radios() {
			n += w.md.Node(a).TxFrames
		}
	} else {
		for _, a := range w.areas {
			g := a.Gateway.Stats()
			n += g.MessagesIn + g.MessagesOut
		}
	}
	for _, p := range w.peers {
		n += p.in.Load() + p.out.Load()
	}
	return n + w.deliveries.Load()
}

// radios lists the link addresses on the medium: the border routers and
// the motes.
func (w *hoWorld) radios() []ieee802154.Address {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.macs
}

func (w *hoWorld) add(m *mote.Mote) {
	w.mu.Lock()
	w.motes = append(w.motes, m)
	w.mu.Unlock()
}

func (w *hoWorld) register(name, group string) *tsclient.Credentials {
	w.t.Helper()
	p, err := w.reg.RegisterNode(name, group)
	if err != nil {
		w.t.Fatal(err)
	}
	defer p.Wipe()
	if err := w.reg.Grant("station", group); err != nil {
		w.t.Fatal(err)
	}
	return &tsclient.Credentials{Name: p.Name, Kind: string(p.Kind), PSS: append([]byte(nil), p.PSS...),
		Sender: p.Sender, Group: p.Group}
}

// deliveredSince returns the deliveries from index i on.
func (w *hoWorld) deliveredSince(i int) []delivery {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]delivery(nil), w.got[min(i, len(w.got)):]...)
}

func (w *hoWorld) delivered() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.got)
}

// do runs f while driving the clock, failing the test on error.
func (w *hoWorld) do(what string, max time.Duration, f func(ctx context.Context) error) {
	w.t.Helper()
	if err := w.drv.Do(w.ctx, max, f); err != nil {
		w.t.Fatalf("%s: %v", what, err)
	}
}

// meshMote attaches a mote's radio at pos and starts its stack.
func (w *hoWorld) meshMote(i int, pos medium.Position, cfg mote.Config) (*mote.Mote, *mote.MeshTransport, ieee802154.Address) {
	w.t.Helper()
	mac := ieee802154.ExtAddr{0x02, 0, 0, 0x01, 0, 0, 0, byte(i)}
	port, err := w.md.Attach(ieee802154.Ext(mac), uint16(0x100+i))
	if err != nil {
		w.t.Fatal(err)
	}
	w.md.SetPosition(ieee802154.Ext(mac), pos)
	tr, err := mote.NewMeshTransport(mote.MeshConfig{Addr: mac, Radio: port, Clock: w.clk, Seed: uint64(i), Mobile: w.mobile, Stack: w.moteStack})
	if err != nil {
		w.t.Fatal(err)
	}
	cfg.Transport, cfg.Clock = tr, w.clk
	m, err := mote.New(cfg)
	if err != nil {
		tr.Close()
		w.t.Fatal(err)
	}
	w.add(m)
	w.mu.Lock()
	w.macs = append(w.macs, ieee802154.Ext(mac))
	w.mu.Unlock()
	return m, tr, ieee802154.Ext(mac)
}
