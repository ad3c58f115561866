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

// forge returns a frame no receiver can tell from a real one (the mesh
// uses no 802.15.4 link-layer security): a captured frame replayed as it
// was, or with one bit of its MAC header flipped (another sequence number,
// source, destination, PAN or frame-control bit) and the FCS recomputed.
func forge(rng *rand.Rand, src []byte) []byte {
	if rng.IntN(2) == 0 {
		return slices.Clone(src)
	}
	b := slices.Clone(src[:len(src)-ieee802154.FCSLen])
	hdr := len(b)
	if f, _, err := ieee802154.Decode(src); err == nil {
		hdr = len(b) - len(f.Payload)
	}
	b[rng.IntN(hdr)] ^= 1 << rng.IntN(8)
	return ieee802154.AppendFCS(b)
}

// TestReliabilityRadioForged: a rogue radio in range of the border router
// and of every node sprays forged frames — captured frames replayed, or
// with one MAC header bit flipped and a valid FCS — 1,000 in 10 s of
// virtual time after the DODAG formed, then one every 100 ms during QoS 1
// traffic. Every reading is delivered and the DODAG is formed at the end.
// (Before the fix, the medium let a frame carrying a node's source address
// take that node's place: the spray detached every radio it imitated, and
// no node could connect in 20 virtual minutes.)
func TestReliabilityRadioForged(t *testing.T) {
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
	got := map[string]int{}
	a.Broker.Server().Topics.InlineSubscribe(mqtt.InlineSubscription{
		Subscription: packets.Subscription{Filter: "ward/#", Identifier: 79, Qos: 1},
		Handler: func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
			mu.Lock()
			got[string(pk.Payload)]++
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

	rng := rand.New(rand.NewPCG(7, 8))
	offered := 0
	spray := func(n int) {
		for range n {
			tap.mu.Lock()
			src := tap.frames[rng.IntN(len(tap.frames))]
			tap.mu.Unlock()
			offered++
			_ = rogue.Transmit(forge(rng, src))
		}
	}
	for range 100 {
		spray(10)
		drv.RunFor(ctx, 100*time.Millisecond)
	}
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
	clients := make([]*client.Client, len(nodes))
	for i, n := range nodes {
		conn, err := n.ListenUDP(uint16(21100 + i))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		clients[i] = client.New(conn, gw, client.Config{ClientID: fmt.Sprintf("forged-%d", i), Clock: v, KeepAlive: 10 * time.Minute, MaxRetries: 5})
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
					if c.Publish(ctx, client.Named(fmt.Sprintf("ward/f%d", i)), mqttsn.QoS1, false, fmt.Appendf(nil, "f%d-%d", i, k)) == nil {
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
		t.Fatalf("publishing among forged frames: %v", err)
	}
	complete := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == len(nodes)*perNode
	}
	if ok, _ := drv.Await(ctx, complete, time.Minute); !ok {
		t.Fatalf("subscriber got %d of %d readings", len(got), len(nodes)*perNode)
	}
	// The mesh is formed at the end (re-formed, if the forgeries made a
	// node change parent or repair: that is allowed, staying detached not).
	if ok, _ := drv.RunUntil(ctx, formed, 2*time.Minute); !ok {
		for i, n := range nodes {
			t.Logf("node %d: %+v", i, n.Status())
		}
		t.Fatal("DODAG not formed after the forged frames")
	}
	claimed := a.Medium.Stats().Bad[medium.BadForeignSource]
	if claimed == 0 {
		t.Fatal("no forged frame carried another radio's address: the spray tested nothing")
	}
	var changes, repairs, dups uint64
	for _, n := range nodes {
		st := n.Status().Stats
		changes += st.ParentChanges
		repairs += st.LocalRepairs
		dups += n.Counters().MACDuplicates
	}
	mu.Lock()
	dupReadings := 0
	for _, c := range got {
		dupReadings += c - 1
	}
	mu.Unlock()
	t.Logf("%d forged frames offered (%d with another radio's source address); %d readings delivered (%d duplicates); parent changes %d, local repairs %d, MAC duplicates dropped %d; DODAG formed at the end",
		offered, claimed, len(got), dupReadings, changes, repairs, dups)
}
