package area_test

import (
	"context"
	"fmt"
	"math/rand/v2"
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

// TestReliabilityRadioJunk: a rogue radio in range of the border router and
// of every node puts malformed frames on the air — random octets, valid
// frames truncated, valid frames with bits flipped (FCS wrong) — before and
// during QoS 1 traffic. No node or
// router fails, the DODAG stays formed, every reading is delivered, and the
// junk is counted (medium and stacks count refused input by reason).
func TestReliabilityRadioJunk(t *testing.T) {
	const perNode = 20
	tap := &frameTap{}
	v := clock.NewVirtual(time.Unix(1_700_000_000, 0))
	ctx := context.Background()
	a, err := area.Start(ctx, area.Config{Mesh: true, MediumConfig: medium.Config{Range: 50, Seed: 3, Capture: tap}, Clock: v})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	var mu sync.Mutex
	got := map[string]bool{}
	a.Broker.Server().Topics.InlineSubscribe(mqtt.InlineSubscription{
		Subscription: packets.Subscription{Filter: "ward/#", Identifier: 78, Qos: 1},
		Handler: func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
			mu.Lock()
			got[string(pk.Payload)] = true
			mu.Unlock()
		},
	})
	var nodes []*stack.Stack
	for i, p := range []medium.Position{{X: 30}, {X: -30}, {X: 60}} {
		mac := ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 1, 0, byte(i + 1)}
		port, err := a.Medium.Attach(ieee802154.Ext(mac), uint16(0x100|(i+1)))
		if err != nil {
			t.Fatal(err)
		}
		a.Medium.SetPosition(ieee802154.Ext(mac), p)
		st, err := stack.New(stack.Config{Addr: mac, Radio: port, Clock: v, Seed: uint64(i + 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		nodes = append(nodes, st)
	}
	rogueMAC := ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0x66, 0, 0x66}
	rogue, err := a.Medium.Attach(ieee802154.Ext(rogueMAC), 0x6666)
	if err != nil {
		t.Fatal(err)
	}
	a.Medium.SetPosition(ieee802154.Ext(rogueMAC), medium.Position{Y: 10})

	clients := make([]*client.Client, len(nodes))
	drv := &vtime.Driver{Clock: v, Step: 10 * time.Millisecond, Activity: func() uint64 {
		g := a.Gateway.Stats()
		return a.Medium.Stats().Frames + g.MessagesIn + g.MessagesOut
	}}
	formed := func() bool {
		routes := map[string]bool{}
		for _, rt := range a.Router.Routes() {
			routes[rt.Target.String()] = true
		}
		for _, n := range nodes {
			g, ok := n.GlobalAddr()
			if st := n.Status(); !st.Joined || st.DODAGID != a.Router.Addr() || !ok || !routes[g.String()] {
				return false
			}
		}
		return true
	}
	if ok, _ := drv.RunUntil(ctx, formed, 5*time.Minute); !ok {
		t.Fatal("DODAG not formed")
	}

	rng := rand.New(rand.NewPCG(1, 2))
	offered, accepted := 0, 0
	junk := func() []byte {
		tap.mu.Lock()
		src := tap.frames[rng.IntN(len(tap.frames))]
		tap.mu.Unlock()
		switch rng.IntN(3) {
		case 0: // random octets
			b := make([]byte, rng.IntN(128))
			for i := range b {
				b[i] = byte(rng.Uint32())
			}
			return b
		case 1: // a valid frame truncated
			return slices.Clone(src[:rng.IntN(len(src))])
		default: // bits flipped, FCS left wrong
			b := slices.Clone(src)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] ^= 1 << rng.IntN(8)
			}
			return b
		}
		// Frames with a valid FCS but altered fields (forgeries) are
		// TestReliabilityRadioForged's.
	}
	spray := func(n int) {
		for range n {
			offered++
			if rogue.Transmit(junk()) == nil {
				accepted++ // passed the medium's checks: reaches the radios in range
			}
		}
	}
	for range 20 {
		spray(50)
		drv.RunFor(ctx, 500*time.Millisecond)
	}
	// During the traffic: a junk frame every 100 ms of virtual time.
	var tick func()
	stopSpray := false
	tick = func() {
		if !stopSpray {
			spray(1)
			v.AfterFunc(100*time.Millisecond, tick)
		}
	}
	v.AfterFunc(100*time.Millisecond, tick)

	gw := &net.UDPAddr{IP: a.Router.GatewayAddr().Addr().AsSlice(), Port: int(a.Router.GatewayAddr().Port())}
	for i, n := range nodes {
		conn, err := n.ListenUDP(uint16(21000 + i))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		clients[i] = client.New(conn, gw, client.Config{ClientID: fmt.Sprintf("junk-%d", i), Clock: v, KeepAlive: 10 * time.Minute, MaxRetries: 5})
		defer clients[i].Close()
	}
	err = drv.Do(ctx, 20*time.Minute, func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make(chan error, len(clients))
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; k < perNode; {
					if c.State() != client.StateActive {
						if err := c.Connect(ctx); err != nil {
							if ctx.Err() != nil {
								errs <- err
								return
							}
							continue
						}
					}
					if c.Publish(ctx, client.Named(fmt.Sprintf("ward/j%d", i)), mqttsn.QoS1, false, fmt.Appendf(nil, "j%d-%d", i, k)) == nil {
						k++
					} else if ctx.Err() != nil {
						errs <- ctx.Err()
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	})
	stopSpray = true
	if err != nil {
		t.Fatalf("publishing among junk frames: %v", err)
	}
	complete := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(nodes)*perNode
	}
	if ok, _ := drv.Await(ctx, complete, time.Minute); !ok {
		t.Fatalf("subscriber got %d of %d readings", len(got), len(nodes)*perNode)
	}
	if !formed() {
		t.Fatal("DODAG broken by junk frames")
	}
	refused := uint64(0)
	for _, n := range append(nodes, a.Router.Stack()) {
		for _, c := range n.Counters().Bad {
			refused += c
		}
	}
	for _, c := range a.Medium.Stats().Bad {
		refused += c
	}
	if refused == 0 {
		t.Fatal("no junk frame counted as refused")
	}
	t.Logf("%d junk frames offered (%d passed the medium to the radios); %d refusals counted by the medium and the stacks; %d readings delivered; DODAG formed throughout",
		offered, accepted, refused, len(got))
}
