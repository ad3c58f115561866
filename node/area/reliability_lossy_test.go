package area_test

import (
	"context"
	"errors"
	"fmt"
	"net"
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

// TestReliabilityLossyRadio is docs/reliability.md's "lossy radio" promise:
// with 30% of frame deliveries dropped by the medium (on top of nothing
// else), QoS 1 MQTT-SN traffic from one- and two-hop nodes over the RPL mesh
// (rpl/stack UDP → border router → gateway → embedded broker) is delivered
// completely, and the DODAG forms and stays formed. Every layer with retries
// takes part: 802.15.4 frame retries, RPL DIO/DAO retries, MQTT-SN Tretry,
// and the application publishing again what the client could not get
// acknowledged. Everything runs on one virtual clock.
func TestReliabilityLossyRadio(t *testing.T) {
	const (
		loss    = 0.30
		perNode = 50
	)
	v := clock.NewVirtual(time.Unix(1_700_000_000, 0))
	ctx := context.Background()
	a, err := area.Start(ctx, area.Config{Mesh: true, MediumConfig: medium.Config{Range: 50, Seed: 10, Loss: loss}, Clock: v})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()

	var mu sync.Mutex
	got := map[string]int{} // payload → copies received by the subscriber
	a.Broker.Server().Topics.InlineSubscribe(mqtt.InlineSubscription{
		Subscription: packets.Subscription{Filter: "ward/#", Identifier: 77, Qos: 1},
		Handler: func(_ *mqtt.Client, _ packets.Subscription, pk packets.Packet) {
			mu.Lock()
			got[string(pk.Payload)]++
			mu.Unlock()
		},
	})

	// Two nodes one hop from the router, two more two hops away (range 50 m).
	pos := []medium.Position{{X: 30}, {Y: 30}, {X: 70}, {Y: 70}}
	var nodes []*stack.Stack
	for i, p := range pos {
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
	var activity func() uint64
	clients := make([]*client.Client, len(nodes))
	activity = func() uint64 {
		n := a.Medium.Stats().Frames
		g := a.Gateway.Stats()
		n += g.MessagesIn + g.MessagesOut
		for _, c := range clients {
			if c != nil {
				s := c.Stats()
				n += s.DatagramsSent + s.DatagramsReceived
			}
		}
		return n
	}
	drv := &vtime.Driver{Clock: v, Activity: activity, Step: 10 * time.Millisecond}

	formed := func() bool {
		root := a.Router.Addr()
		routes := map[string]bool{}
		for _, rt := range a.Router.Routes() {
			routes[rt.Target.String()] = true
		}
		for _, n := range nodes {
			st := n.Status()
			g, ok := n.GlobalAddr()
			if !st.Joined || st.DODAGID != root || !ok || !routes[g.String()] {
				return false
			}
		}
		return true
	}
	if ok, err := drv.RunUntil(ctx, formed, 10*time.Minute); err != nil || !ok {
		t.Fatalf("DODAG not formed under %.0f%% loss after 10 virtual minutes (err %v)", loss*100, err)
	}
	formedAt := v.Now()

	gw := &net.UDPAddr{IP: a.Router.GatewayAddr().Addr().AsSlice(), Port: int(a.Router.GatewayAddr().Port())}
	for i, n := range nodes {
		conn, err := n.ListenUDP(uint16(20000 + i))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		clients[i] = client.New(conn, gw, client.Config{ClientID: fmt.Sprintf("lossy-%d", i), Clock: v,
			KeepAlive: 10 * time.Minute, MaxRetries: 5})
		defer clients[i].Close()
	}

	// Each node publishes perNode QoS 1 readings; a reading the client could
	// not get acknowledged (Nretry exhausted) is published again after a
	// reconnect, as the mote's application does.
	var accepted, retriedByApp, reconnects int
	var amu sync.Mutex
	err = drv.Do(ctx, 2*time.Hour, func(ctx context.Context) error {
		var wg sync.WaitGroup
		errs := make(chan error, len(clients))
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				connected := false
				for k := 0; k < perNode; {
					if !connected {
						if err := c.Connect(ctx); err != nil {
							if ctx.Err() != nil {
								errs <- err
								return
							}
							continue
						}
						connected = true
					}
					payload := fmt.Sprintf("n%d-%03d", i, k)
					err := c.Publish(ctx, client.Named(fmt.Sprintf("ward/%d", i)), mqttsn.QoS1, false, []byte(payload))
					if ctx.Err() != nil {
						errs <- ctx.Err()
						return
					}
					amu.Lock()
					if err == nil {
						accepted++
						k++
					} else {
						retriedByApp++
						if errors.Is(err, client.ErrTimeout) || errors.Is(err, client.ErrNotConnected) || errors.Is(err, client.ErrDisconnected) {
							connected = false
							reconnects++
						}
					}
					amu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		return <-errs
	})
	if err != nil {
		t.Fatalf("publishing under loss: %v (accepted %d)", err, accepted)
	}
	// Acknowledged means published: let the broker's inline delivery finish.
	complete := func() bool {
		mu.Lock()
		defer mu.Unlock()
		for i := range clients {
			for k := 0; k < perNode; k++ {
				if got[fmt.Sprintf("n%d-%03d", i, k)] == 0 {
					return false
				}
			}
		}
		return true
	}
	if ok, _ := drv.Await(ctx, complete, time.Minute); !ok {
		mu.Lock()
		t.Errorf("subscriber got %d distinct readings of %d", len(got), len(clients)*perNode)
		mu.Unlock()
	}
	if !formed() {
		t.Errorf("DODAG no longer formed after the traffic")
	}
	ms := a.Medium.Stats()
	var retrans, timeouts, macRetries, macFailed uint64
	for _, n := range append(nodes, a.Router.Stack()) {
		c := n.Counters()
		macRetries += c.MACRetries
		macFailed += c.MACTxFailed
	}
	if macRetries == 0 {
		t.Errorf("no MAC retries: the medium's loss was not applied")
	}
	for _, c := range clients {
		s := c.Stats()
		retrans += s.Retransmissions
		timeouts += s.Timeouts
	}
	mu.Lock()
	dups := 0
	for _, n := range got {
		dups += n - 1
	}
	mu.Unlock()
	t.Logf("loss %.0f%%: DODAG formed after %v; %d readings accepted of %d, %d distinct at the subscriber (%d duplicates); "+
		"MAC retries %d, MAC give-ups %d, MQTT-SN retransmissions %d, timeouts %d, app re-publishes %d, reconnects %d; %d frames on the air; virtual time %v",
		loss*100, formedAt.Sub(time.Unix(1_700_000_000, 0)), accepted, len(clients)*perNode, len(got), dups,
		macRetries, macFailed, retrans, timeouts, retriedByApp, reconnects, ms.Frames, v.Now().Sub(time.Unix(1_700_000_000, 0)))
}
