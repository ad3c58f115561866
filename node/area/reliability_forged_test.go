package area_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/node/vtime"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// forge returns a copy of a captured frame with one bit of its MAC header
// flipped and the FCS recomputed: a frame no receiver can tell from a real
// one (no link-layer security).
func forge(rng *rand.Rand, src []byte) []byte {
	b := slices.Clone(src[:len(src)-ieee802154.FCSLen])
	hdr := len(b)
	if f, _, err := ieee802154.Decode(src); err == nil {
		hdr = len(b) - len(f.Payload)
	}
	b[rng.IntN(hdr)] ^= 1 << rng.IntN(8)
	return ieee802154.AppendFCS(b)
}

func TestReliabilityRadioForgedDebug(t *testing.T) {
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
		Subscription: packets.Subscription{Filter: "ward/#", Identifier: 79, Qos: 1},
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
	for range 100 {
		for range 10 {
			tap.mu.Lock()
			src := tap.frames[rng.IntN(len(tap.frames))]
			tap.mu.Unlock()
			rogue.Transmit(forge(rng, src))
		}
		drv.RunFor(ctx, 100*time.Millisecond)
	}
	for i, n := range nodes {
		t.Logf("node %d after spray: %+v", i, n.Status())
	}
	drv.RunFor(ctx, 30*time.Second)
	for i, n := range nodes {
		t.Logf("node %d after quiet: %+v counters %+v", i, n.Status(), n.Counters())
	}
	t.Logf("router %+v", a.Router.Stack().Counters())
	fmt.Println(formed())
}
