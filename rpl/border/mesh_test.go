package border

import (
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

var epoch = time.Unix(1_700_000_000, 0)

// mesh is an in-process test network on a virtual clock: one medium, one
// or more border routers, and nodes.
type mesh struct {
	t     testing.TB
	clk   *clock.Virtual
	m     *medium.Medium
	areas []*Router
	nodes []*stack.Stack
	macs  []ieee802154.Address
	start time.Time
}

func nodeMAC(area, i int) ieee802154.ExtAddr {
	return ieee802154.ExtAddr{0x02, 0, 0, 0, 0, byte(area), byte(i >> 8), byte(i)}
}

func newMesh(t testing.TB, mcfg medium.Config) *mesh {
	t.Helper()
	v := clock.NewVirtual(epoch)
	mcfg.Clock = v
	w := &mesh{t: t, clk: v, m: medium.New(mcfg), start: epoch}
	t.Cleanup(func() {
		for _, n := range w.nodes {
			n.Close()
		}
		for _, a := range w.areas {
			a.Close()
		}
		w.m.Close()
	})
	return w
}

// addArea starts a border router for prefix fd00:<area>::/64 at p.
func (w *mesh) addArea(area int, p medium.Position, rpl dodag.Config) *Router {
	w.t.Helper()
	mac := nodeMAC(area, 0)
	port, err := w.m.Attach(ieee802154.Ext(mac), uint16(area<<8))
	if err != nil {
		w.t.Fatal(err)
	}
	w.m.SetPosition(ieee802154.Ext(mac), p)
	r, err := New(Config{
		Prefix: netip.MustParsePrefix(fmt.Sprintf("fd00:%x::/64", area)),
		Addr:   mac, Radio: port, Clock: w.clk, Seed: uint64(area) * 7919, RPL: rpl,
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.areas = append(w.areas, r)
	return r
}

// addNode starts a node at p.
func (w *mesh) addNode(area, i int, p medium.Position, cfg stack.Config) *stack.Stack {
	w.t.Helper()
	mac := nodeMAC(area, i)
	port, err := w.m.Attach(ieee802154.Ext(mac), uint16(area<<8|i))
	if err != nil {
		w.t.Fatal(err)
	}
	w.m.SetPosition(ieee802154.Ext(mac), p)
	cfg.Addr, cfg.Radio, cfg.Clock = mac, port, w.clk
	cfg.Seed = uint64(area)<<16 | uint64(i)
	s, err := stack.New(cfg)
	if err != nil {
		w.t.Fatal(err)
	}
	w.nodes = append(w.nodes, s)
	w.macs = append(w.macs, ieee802154.Ext(mac))
	return s
}

// runUntil advances virtual time in steps until cond holds or max passes;
// it returns the virtual time taken.
func (w *mesh) runUntil(cond func() bool, max time.Duration, step time.Duration) (time.Duration, bool) {
	start := w.clk.Now()
	for {
		if cond() {
			return w.clk.Since(start), true
		}
		if w.clk.Since(start) >= max {
			return w.clk.Since(start), false
		}
		w.clk.Advance(step)
	}
}

// joinedTo reports whether every node in nodes has joined the DODAG of r
// and r has a source route to each of them.
func joinedTo(r *Router, nodes []*stack.Stack) bool {
	root := r.Addr()
	routes := map[netip.Addr]int{}
	for _, rt := range r.Routes() {
		routes[rt.Target] = rt.Hops
	}
	for _, n := range nodes {
		st := n.Status()
		if !st.Joined || st.DODAGID != root {
			return false
		}
		g, _ := n.GlobalAddr()
		if routes[g] == 0 {
			return false
		}
	}
	return true
}

func TestThreeNodeLine(t *testing.T) {
	w := newMesh(t, medium.Config{Range: 50, Seed: 1})
	r := w.addArea(1, medium.Position{}, dodag.Config{})
	for i := 1; i <= 3; i++ {
		w.addNode(1, i, medium.Position{X: float64(40 * i)}, stack.Config{})
	}
	d, ok := w.runUntil(func() bool { return joinedTo(r, w.nodes) }, 2*time.Minute, 100*time.Millisecond)
	if !ok {
		for i, n := range w.nodes {
			t.Logf("node %d: %+v", i+1, n.Status())
			t.Logf("node %d counters: %+v", i+1, n.Counters())
		}
		t.Logf("root: %+v routes %+v", r.Status(), r.Routes())
		t.Fatalf("line of 3 did not converge in %v", d)
	}
	t.Logf("converged in %v", d)
	for i, rt := range r.Routes() {
		if rt.Hops != i+1 {
			t.Errorf("route %v: %d hops, want %d", rt.Target, rt.Hops, i+1)
		}
	}
}
