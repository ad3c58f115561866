package border

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

func hasRoute(r *Router, a netip.Addr) bool {
	for _, rt := range r.Routes() {
		if rt.Target == a {
			return true
		}
	}
	return false
}

// twoAreas builds area A (root at x=0, 4 nodes eastwards) and area B (root
// at x=1000, 4 nodes westwards), out of each other's range, plus the
// mobile node at the east end of A.
func twoAreas(t *testing.T, loss float64) (w *mesh, a, b *Router, mobile *stack.Stack, mobileMAC ieee802154.Address) {
	return twoAreasTB(t, loss)
}

// joinEvents records the mobile node's OnJoin calls (tests run one mesh at a time).
var joinEvents []netip.Addr

func twoAreasTB(t testing.TB, loss float64) (w *mesh, a, b *Router, mobile *stack.Stack, mobileMAC ieee802154.Address) {
	joinEvents = nil
	w = newMesh(t, medium.Config{Range: 50, Loss: loss, Seed: 9})
	a = w.addArea(1, medium.Position{X: 0}, dodag.Config{})
	b = w.addArea(2, medium.Position{X: 1000}, dodag.Config{})
	for i := 1; i <= 4; i++ {
		w.addNode(1, i, medium.Position{X: float64(35 * i)}, stack.Config{})
		w.addNode(2, i, medium.Position{X: 1000 - float64(35*i)}, stack.Config{})
	}
	mobile = w.addNode(1, 9, medium.Position{X: 35 * 5}, stack.Config{
		OnJoin: func(root, addr netip.Addr) { joinEvents = append(joinEvents, root) },
	})
	mobileMAC = w.macs[len(w.macs)-1]
	var inA, inB []*stack.Stack
	for i, n := range w.nodes {
		if w.macs[i].Ext[5] == 1 {
			inA = append(inA, n)
		} else {
			inB = append(inB, n)
		}
	}
	if _, ok := w.runUntil(func() bool { return joinedTo(a, inA) && joinedTo(b, inB) }, 2*time.Minute, 100*time.Millisecond); !ok {
		t.Fatal("areas did not form")
	}
	return w, a, b, mobile, mobileMAC
}

func TestMobileNodeRejoinsOtherArea(t *testing.T) {
	for _, loss := range []float64{0, 0.2} {
		t.Run(map[float64]string{0: "lossless", 0.2: "loss20"}[loss], func(t *testing.T) {
			w, a, b, mobile, mac := twoAreas(t, loss)
			oldAddr, _ := mobile.GlobalAddr()
			if !hasRoute(a, oldAddr) {
				t.Fatal("area A has no route to the mobile node before the move")
			}
			// The patient walks to area B: beside B's last node.
			w.m.SetPosition(mac, medium.Position{X: 1000 - 35*5})
			took, ok := w.runUntil(func() bool {
				st := mobile.Status()
				g, _ := mobile.GlobalAddr()
				return st.Joined && st.DODAGID == b.Addr() && hasRoute(b, g)
			}, time.Minute, 50*time.Millisecond)
			if !ok {
				t.Fatalf("mobile node not in area B after %v: %+v", took, mobile.Status())
			}
			st := mobile.Status()
			t.Logf("rejoined area B %v after the move (parent lost: %d unreachable, %d local repairs)",
				took, st.Stats.ParentUnreachable, st.Stats.LocalRepairs)
			if len(joinEvents) != 2 || joinEvents[0] != a.Addr() || joinEvents[1] != b.Addr() {
				t.Fatalf("OnJoin told of roots %v, want A then B", joinEvents)
			}
			newAddr, _ := mobile.GlobalAddr()
			if newAddr == oldAddr || !b.Prefix().Contains(newAddr) {
				t.Fatalf("address after the move %v (before %v), want one in %v", newAddr, oldAddr, b.Prefix())
			}
			// The node talks to B's gateway from its new address.
			e := startEcho(t, b.PacketConn())
			if _, err := w.exchange(b, []*stack.Stack{mobile}, mqttsnLike, time.Minute, 5*time.Second); err != nil {
				t.Fatal(err)
			}
			b.PacketConn().Close()
			<-e.done
			// A's gateway still writes to the old address, retransmitting
			// as an MQTT-SN gateway does: the failed deliveries are
			// reported and A drops the stale route.
			gw := a.PacketConn()
			sends := 0
			took, ok = w.runUntil(func() bool {
				if !hasRoute(a, oldAddr) {
					return true
				}
				sends++
				gw.WriteTo([]byte("stale?"), net.UDPAddrFromAddrPort(netip.AddrPortFrom(oldAddr, 5000)))
				return false
			}, time.Minute, 2*time.Second)
			if !ok {
				t.Fatalf("area A still routes to %v after %v", oldAddr, took)
			}
			t.Logf("area A dropped the stale route after %d gateway datagrams (%v)", sends, took)
			if s := a.Status().Stats; s.RoutesDropped == 0 {
				t.Fatalf("root stats %+v: want a route dropped by an error report", s)
			}
		})
	}
}

func TestStaleRouteExpiresWithoutTraffic(t *testing.T) {
	w, a, b, mobile, mac := twoAreas(t, 0)
	oldAddr, _ := mobile.GlobalAddr()
	w.m.SetPosition(mac, medium.Position{X: 1000 - 35*5})
	if _, ok := w.runUntil(func() bool { return mobile.Status().DODAGID == b.Addr() }, time.Minute, 100*time.Millisecond); !ok {
		t.Fatal("mobile node did not join B")
	}
	// No traffic toward the old address: the route lives out its DAO
	// lifetime (DefaultLifetime × LifetimeUnit = 5 min) and no longer.
	life := 5 * time.Minute
	lastDAO := time.Time{}
	for _, rt := range a.Routes() {
		if rt.Target == oldAddr {
			lastDAO = rt.Learned
		}
	}
	if lastDAO.IsZero() {
		t.Fatal("route vanished before its lifetime with no traffic")
	}
	w.clk.AdvanceTo(lastDAO.Add(life - time.Second))
	if !hasRoute(a, oldAddr) {
		t.Fatal("route dropped before its lifetime ended")
	}
	w.clk.AdvanceTo(lastDAO.Add(life + 2*time.Minute))
	if hasRoute(a, oldAddr) {
		t.Fatal("stale route outlived its lifetime")
	}
	if a.Status().Stats.RoutesExpired == 0 {
		t.Fatal("expiry not counted")
	}
}

func TestGlobalRepair(t *testing.T) {
	w := newMesh(t, medium.Config{Range: 50, Seed: 3})
	r := w.build(gridTopo(4), dodag.Config{}, stack.Config{})
	if _, ok := w.runUntil(func() bool { return joinedTo(r, w.nodes) }, time.Minute, 100*time.Millisecond); !ok {
		t.Fatal("did not converge")
	}
	v0 := r.Status().Version
	r.GlobalRepair()
	v1 := r.Status().Version
	if v1 == v0 {
		t.Fatal("version did not change")
	}
	before := map[netip.Addr]time.Time{}
	for _, rt := range r.Routes() {
		before[rt.Target] = rt.Learned
	}
	took, ok := w.runUntil(func() bool {
		for _, n := range w.nodes {
			if n.Status().Version != v1 {
				return false
			}
		}
		for _, rt := range r.Routes() {
			if !rt.Learned.After(before[rt.Target]) {
				return false // no fresh DAO yet
			}
		}
		return true
	}, time.Minute, 100*time.Millisecond)
	if !ok {
		t.Fatal("nodes did not all move to the new version with fresh DAOs")
	}
	t.Logf("global repair: every node on version %d with a fresh DAO after %v", v1, took)
	for _, n := range w.nodes {
		if n.Status().Stats.GlobalRepairs != 1 {
			t.Fatalf("node stats %+v", n.Status().Stats)
		}
	}
	if !joinedTo(r, w.nodes) {
		t.Fatal("DODAG not whole after the repair")
	}
}
