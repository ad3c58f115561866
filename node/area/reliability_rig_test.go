package area_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/vtime"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// rigEpoch is where the rig's virtual clock starts.
var rigEpoch = time.Unix(1_700_000_000, 0)

// reliabilityRig is the setting of the reliability tests: an area with a
// mesh on one virtual clock, RPL nodes (rpl/stack) around its border
// router, an MQTT subscriber to ward/# on its broker that counts every
// payload it gets, and a Driver advancing the clock.
type reliabilityRig struct {
	t       *testing.T
	ctx     context.Context
	v       *clock.Virtual
	a       *area.Area
	drv     *vtime.Driver
	nodes   []*stack.Stack
	clients []*client.Client // after dial

	mu  sync.Mutex
	got map[string]int // payload → copies received by the subscriber
}

// newReliabilityRig starts the area on a medium configured by mc and one
// node at each of pos (MAC 02:00:00:00:00:01:00:<i+1>). Everything is
// closed when the test ends.
func newReliabilityRig(t *testing.T, mc medium.Config, pos ...medium.Position) *reliabilityRig {
	t.Helper()
	r := &reliabilityRig{t: t, ctx: context.Background(), v: clock.NewVirtual(rigEpoch), got: map[string]int{}}
	var err error
	r.a, err = area.Start(r.ctx, area.Config{Mesh: true, MediumConfig: mc, Clock: r.v})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.a.Close() })
	r.a.Broker.Server().Topics.InlineSubscribe(mqtt.InlineSubscription{
		Subscription: packets.Subscription{Filter: "ward/#", Identifier: 77, Qos: 1},
		Handler: func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
			r.mu.Lock()
			r.got[string(pk.Payload)]++
			r.mu.Unlock()
		},
	})
	for i, p := range pos {
		mac := ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 1, 0, byte(i + 1)}
		port, err := r.a.Medium.Attach(ieee802154.Ext(mac), uint16(0x100|(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		r.a.Medium.SetPosition(ieee802154.Ext(mac), p)
		st, err := stack.New(stack.Config{Addr: mac, Radio: port, Clock: r.v, Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		r.nodes = append(r.nodes, st)
	}
	r.drv = &vtime.Driver{Clock: r.v, Activity: r.activity, Step: 10 * time.Millisecond}
	return r
}

// activity counts frames on the air, the gateway's messages and the
// clients' datagrams.
func (r *reliabilityRig) activity() uint64 {
	n := r.a.Medium.Stats().Frames
	g := r.a.Gateway.Stats()
	n += g.MessagesIn + g.MessagesOut
	for _, c := range r.clients {
		s := c.Stats()
		n += s.DatagramsSent + s.DatagramsReceived
	}
	return n
}

// formed reports whether every node joined the router's DODAG with a
// global address the router has a route to.
func (r *reliabilityRig) formed() bool {
	root := r.a.Router.Addr()
	routes := map[string]bool{}
	for _, rt := range r.a.Router.Routes() {
		routes[rt.Target.String()] = true
	}
	for _, n := range r.nodes {
		st := n.Status()
		g, ok := n.GlobalAddr()
		if !st.Joined || st.DODAGID != root || !ok || !routes[g.String()] {
			return false
		}
	}
	return true
}

// newRogueRig is the rig of the rogue-radio tests: three nodes, one and
// two hops from the router, a capture of the first frames on the air, and
// a rogue radio in range of the router and of every node (10 m from the
// router, attached to no node), returned once the DODAG formed.
func newRogueRig(t *testing.T) (*reliabilityRig, *frameTap, *medium.Port) {
	t.Helper()
	tap := &frameTap{}
	r := newReliabilityRig(t, medium.Config{Range: 50, Seed: 3, Capture: tap},
		medium.Position{X: 30}, medium.Position{X: -30}, medium.Position{X: 60})
	mac := ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0x66, 0, 0x66}
	rogue, err := r.a.Medium.Attach(ieee802154.Ext(mac), 0x6666)
	if err != nil {
		t.Fatal(err)
	}
	r.a.Medium.SetPosition(ieee802154.Ext(mac), medium.Position{Y: 10})
	if ok, _ := r.drv.RunUntil(r.ctx, r.formed, 5*time.Minute); !ok {
		t.Fatal("DODAG not formed")
	}
	return r, tap, rogue
}

// publishUnderSpray is the traffic of the rogue-radio tests: after the
// DODAG formed, bursts bursts of spray(perBurst) gap apart, then
// spray(1) every 100 ms of virtual time while every node publishes
// perNode QoS 1 readings (client what-<i> on port port0+i, topic
// ward/<w><i>, payload <w><i>-<k>, w what's first letter) within 20
// virtual minutes. It fails the test unless every reading is delivered.
func (r *reliabilityRig) publishUnderSpray(what string, port0 uint16, perNode int, spray func(n int), bursts, perBurst int, gap time.Duration) {
	r.t.Helper()
	for range bursts {
		spray(perBurst)
		r.drv.RunFor(r.ctx, gap)
	}
	// During the traffic: one frame every 100 ms (on the Driver's
	// goroutine, as timers fire).
	stopped := false
	var tick func()
	tick = func() {
		if !stopped {
			spray(1)
			r.v.AfterFunc(100*time.Millisecond, tick)
		}
	}
	r.v.AfterFunc(100*time.Millisecond, tick)

	r.dial(what, port0)
	w := what[:1]
	reading := func(i, k int) (string, string) {
		return fmt.Sprintf("ward/%s%d", w, i), fmt.Sprintf("%s%d-%d", w, i, k)
	}
	_, err := r.publish(20*time.Minute, perNode, reading)
	stopped = true
	if err != nil {
		r.t.Fatalf("publishing among %s frames: %v", what, err)
	}
	if err := r.delivered(r.readings(perNode, reading)); err != nil {
		r.t.Fatal(err)
	}
}

// dial gives each node an MQTT-SN client (ClientID prefix-<i>, UDP port
// port0+i) towards the border router's gateway.
func (r *reliabilityRig) dial(prefix string, port0 uint16) {
	r.t.Helper()
	gw := &net.UDPAddr{IP: r.a.Router.GatewayAddr().Addr().AsSlice(), Port: int(r.a.Router.GatewayAddr().Port())}
	clients := make([]*client.Client, len(r.nodes))
	for i, n := range r.nodes {
		conn, err := n.ListenUDP(port0 + uint16(i))
		if err != nil {
			r.t.Fatal(err)
		}
		r.t.Cleanup(func() { conn.Close() })
		clients[i] = client.New(conn, gw, client.Config{ClientID: fmt.Sprintf("%s-%d", prefix, i), Clock: r.v,
			KeepAlive: 10 * time.Minute, MaxRetries: 5})
		r.t.Cleanup(func() { clients[i].Close() })
	}
	r.clients = clients
}

// published counts what the clients' application did in publish.
type published struct {
	accepted   int // readings acknowledged
	republish  int // publishes that failed and were made again
	reconnects int // connects after the first
}

// publish has every client publish perNode QoS 1 readings (topic and
// payload from reading(i, k)) under the Driver, for at most max of virtual
// time. A reading the client could not get acknowledged is published
// again, after a reconnect when the client lost its connection (as the
// mote's application does). It fails only when max runs out.
func (r *reliabilityRig) publish(max time.Duration, perNode int, reading func(i, k int) (topic, payload string)) (published, error) {
	var (
		p  published
		mu sync.Mutex
	)
	err := r.drv.Do(r.ctx, max, func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make(chan error, len(r.clients))
		for i, c := range r.clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				connected := false
				for k := 0; k < perNode; {
					if c.State() != client.StateActive {
						if err := c.Connect(ctx); err != nil {
							if ctx.Err() != nil {
								errs <- err
								return
							}
							continue
						}
						mu.Lock()
						if connected {
							p.reconnects++
						}
						mu.Unlock()
						connected = true
					}
					topic, payload := reading(i, k)
					err := c.Publish(ctx, client.Named(topic), mqttsn.QoS1, false, []byte(payload))
					if ctx.Err() != nil {
						errs <- ctx.Err()
						return
					}
					mu.Lock()
					if err == nil {
						p.accepted++
						k++
					} else {
						p.republish++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	})
	mu.Lock()
	defer mu.Unlock()
	return p, err
}

// readings lists the payloads reading gives for every client and k <
// perNode.
func (r *reliabilityRig) readings(perNode int, reading func(i, k int) (topic, payload string)) []string {
	var want []string
	for i := range r.nodes {
		for k := range perNode {
			_, p := reading(i, k)
			want = append(want, p)
		}
	}
	return want
}

// delivered waits up to a minute of virtual time (acknowledged means
// published: the broker's inline delivery may still be running) until the
// subscriber got every payload in want; the error says how many it got.
func (r *reliabilityRig) delivered(want []string) error {
	complete := func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, p := range want {
			if r.got[p] == 0 {
				return false
			}
		}
		return true
	}
	if ok, _ := r.drv.Await(r.ctx, complete, time.Minute); !ok {
		r.mu.Lock()
		defer r.mu.Unlock()
		return fmt.Errorf("subscriber got %d distinct readings of %d", len(r.got), len(want))
	}
	return nil
}

// received returns how many distinct payloads the subscriber got and how
// many copies beyond the first.
func (r *reliabilityRig) received() (distinct, dups int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.got {
		dups += n - 1
	}
	return len(r.got), dups
}

// frameTap keeps copies of the first frames put on the air.
type frameTap struct {
	mu     sync.Mutex
	frames [][]byte
}

func (c *frameTap) WriteFrame(_ time.Time, psdu []byte) error {
	c.mu.Lock()
	if len(c.frames) < 300 {
		c.frames = append(c.frames, slices.Clone(psdu))
	}
	c.mu.Unlock()
	return nil
}

// pick returns one of the captured frames (not a copy).
func (c *frameTap) pick(intN func(int) int) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.frames[intN(len(c.frames))]
}
