package border

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// echo serves the gateway side: every datagram goes back to its sender
// as respond makes it (with "echo:" in front by default), and is recorded.
type echo struct {
	mu   sync.Mutex
	from map[netip.Addr]int
	done chan struct{}
}

func echoPrefix(b []byte) []byte { return append([]byte("echo:"), b...) }

func startEcho(t testing.TB, pc net.PacketConn) *echo { return startResponder(t, pc, echoPrefix) }

func startResponder(t testing.TB, pc net.PacketConn, respond func([]byte) []byte) *echo {
	e := &echo{from: map[netip.Addr]int{}, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		buf := make([]byte, 1500)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			ua := addr.(*net.UDPAddr)
			e.mu.Lock()
			e.from[ua.AddrPort().Addr()]++
			e.mu.Unlock()
			if _, err := pc.WriteTo(respond(buf[:n]), addr); err != nil {
				if !errors.Is(err, net.ErrClosed) { // closed by the test while replying to a late resend
					t.Errorf("gateway WriteTo %v: %v", addr, err)
				}
				return
			}
		}
	}()
	return e
}

// exchange has every node send payload(i) to the router's gateway port and
// waits, advancing virtual time, until each got its echo back. Datagrams
// are resent every resend of virtual time, as an MQTT-SN client retries.
func (w *mesh) exchange(r *Router, nodes []*stack.Stack, payload func(i int) []byte, max, resend time.Duration) (time.Duration, error) {
	return w.exchangeWith(r, nodes, payload, echoPrefix, max, resend)
}

// exchangeWith is exchange with the reply each node expects given by reply.
func (w *mesh) exchangeWith(r *Router, nodes []*stack.Stack, payload func(i int) []byte, reply func([]byte) []byte, max, resend time.Duration) (time.Duration, error) {
	w.t.Helper()
	type result struct {
		i   int
		err error
	}
	res := make(chan result, len(nodes))
	conns := make([]*stack.UDPConn, len(nodes))
	for i, n := range nodes {
		c, err := n.ListenUDP(0)
		if err != nil {
			return 0, err
		}
		conns[i] = c
		want := reply(payload(i))
		go func() {
			buf := make([]byte, 1500)
			for {
				k, from, err := c.ReadFrom(buf)
				if err != nil {
					res <- result{i, err}
					return
				}
				if from.(*net.UDPAddr).AddrPort() != r.GatewayAddr() {
					res <- result{i, fmt.Errorf("reply from %v, want %v", from, r.GatewayAddr())}
					return
				}
				if bytes.Equal(buf[:k], want) {
					res <- result{i, nil}
					return
				}
			}
		}()
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	gw := net.UDPAddrFromAddrPort(r.GatewayAddr())
	got := make([]bool, len(nodes))
	left := len(nodes)
	start := w.clk.Now()
	lastSend := time.Time{}
	for left > 0 {
		if w.clk.Since(start) > max {
			// Virtual time moves here a Gosched apart, so on a loaded host
			// the readers may not have run for the last of the budget:
			// with the clock standing still, let them take the echoes
			// already delivered before calling any node missing.
			grace := time.NewTimer(5 * time.Second)
		drain:
			for left > 0 {
				select {
				case r := <-res:
					if r.err != nil {
						grace.Stop()
						return 0, fmt.Errorf("node %d: %w", r.i, r.err)
					}
					if !got[r.i] {
						got[r.i] = true
						left--
					}
				case <-grace.C:
					break drain
				}
			}
			grace.Stop()
			if left == 0 {
				break
			}
			var missing []int
			for i, g := range got {
				if !g {
					missing = append(missing, i)
				}
			}
			return w.clk.Since(start), fmt.Errorf("%d nodes got no echo within %v: %v", left, max, missing)
		}
		if lastSend.IsZero() || w.clk.Since(lastSend) >= resend {
			lastSend = w.clk.Now()
			for i, c := range conns {
				if !got[i] {
					if _, err := c.WriteTo(payload(i), gw); err != nil {
						return 0, err
					}
				}
			}
		}
		select {
		case r := <-res:
			if r.err != nil {
				return 0, fmt.Errorf("node %d: %w", r.i, r.err)
			}
			if !got[r.i] {
				got[r.i] = true
				left--
			}
			continue
		default:
		}
		runtime.Gosched()
		w.clk.Advance(5 * time.Millisecond)
	}
	return w.clk.Since(start), nil
}

func mqttsnLike(i int) []byte {
	// An MQTT-SN PUBLISH-shaped datagram: length, type 0x0C, flags, topic
	// id, message id, then a payload that grows with i so some need
	// fragmentation.
	p := []byte{0, 0x0c, 0x20, 0x00, 0x01, 0x00, byte(i)}
	p = append(p, bytes.Repeat([]byte{byte('a' + i%26)}, 10+i*4)...)
	p[0] = byte(len(p))
	return p
}

type topo struct {
	name string
	pos  []medium.Position // pos[0] is the border router
}

func lineTopo(n int) topo {
	t := topo{name: fmt.Sprintf("line-%d", n)}
	for i := 0; i <= n; i++ {
		t.pos = append(t.pos, medium.Position{X: float64(35 * i)})
	}
	return t
}

func gridTopo(side int) topo {
	t := topo{name: fmt.Sprintf("grid-%dx%d", side, side)}
	for i := 0; i < side*side; i++ {
		t.pos = append(t.pos, medium.Position{X: float64(30 * (i % side)), Y: float64(30 * (i / side))})
	}
	return t
}

// randomTopo scatters n nodes over a square, redrawing (deterministically)
// until the unit-disk graph is connected.
func randomTopo(n int, side, rng float64, seed uint64) topo {
	r := rand.New(rand.NewPCG(seed, 1))
	for {
		t := topo{name: fmt.Sprintf("random-%d", n)}
		for i := 0; i <= n; i++ {
			t.pos = append(t.pos, medium.Position{X: r.Float64() * side, Y: r.Float64() * side})
		}
		if connected(t.pos, rng) {
			return t
		}
	}
}

func connected(pos []medium.Position, rng float64) bool {
	seen := make([]bool, len(pos))
	stack := []int{0}
	seen[0] = true
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for j := range pos {
			if !seen[j] && pos[i].Distance(pos[j]) <= rng*0.9 {
				seen[j] = true
				stack = append(stack, j)
			}
		}
	}
	for _, s := range seen {
		if !s {
			return false
		}
	}
	return true
}

// build starts the border router at pos[0] and a node at every other position.
func (w *mesh) build(tp topo, rpl dodag.Config, sc stack.Config) *Router {
	r := w.addArea(1, tp.pos[0], rpl)
	for i := 1; i < len(tp.pos); i++ {
		w.addNode(1, i, tp.pos[i], sc)
	}
	return r
}

func TestTopologiesConvergeAndExchange(t *testing.T) {
	for _, tc := range []struct {
		tp   topo
		loss float64
		max  time.Duration
	}{
		{lineTopo(20), 0, 5 * time.Minute},
		{gridTopo(5), 0, 2 * time.Minute},
		{randomTopo(30, 150, 50, 7), 0, 2 * time.Minute},
		{gridTopo(5), 0.2, 5 * time.Minute},
		{randomTopo(30, 150, 50, 7), 0.2, 5 * time.Minute},
	} {
		t.Run(fmt.Sprintf("%s-loss%.0f", tc.tp.name, tc.loss*100), func(t *testing.T) {
			w := newMesh(t, medium.Config{Range: 50, Loss: tc.loss, Seed: 42})
			r := w.build(tc.tp, dodag.Config{}, stack.Config{})
			d, ok := w.runUntil(func() bool { return joinedTo(r, w.nodes) }, tc.max, 100*time.Millisecond)
			if !ok {
				t.Logf("root %+v", r.Status())
				routes := map[netip.Addr]dodag.Route{}
				for _, rt := range r.Routes() {
					routes[rt.Target] = rt
				}
				for i, n := range w.nodes {
					st := n.Status()
					g, _ := n.GlobalAddr()
					rt := routes[g]
					if st.Joined && rt.Hops > 0 && st.Stats.LocalRepairs == 0 {
						continue
					}
					t.Logf("node %d %v joined=%v rank=%d parent=%v route=%+v stats=%+v", i+1, g, st.Joined, st.Rank, st.Parent, rt, st.Stats)
					t.Logf("   counters %+v", n.Counters())
				}
				t.Fatalf("%d nodes did not converge into one DODAG within %v", len(w.nodes), tc.max)
			}
			maxHops := 0
			for _, rt := range r.Routes() {
				maxHops = max(maxHops, rt.Hops)
			}
			t.Logf("%s loss %.0f%%: %d nodes converged in %v, max hops %d", tc.tp.name, tc.loss*100, len(w.nodes), d, maxHops)
			if maxHops < 3 {
				t.Fatalf("max hop count %d: the topology should need several hops", maxHops)
			}
			e := startEcho(t, r.PacketConn())
			rt, err := w.exchange(r, w.nodes, mqttsnLike, 2*time.Minute, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("every node exchanged a datagram with the gateway within %v", rt)
			e.mu.Lock()
			for _, n := range w.nodes {
				g, _ := n.GlobalAddr()
				if e.from[g] == 0 {
					t.Errorf("gateway never saw %v as a peer address", g)
				}
			}
			e.mu.Unlock()
			r.PacketConn().Close()
			<-e.done
		})
	}
}
