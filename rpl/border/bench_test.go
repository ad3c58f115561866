package border

import (
	"fmt"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/dodag"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// meshMetrics are what docs/BENCHMARKS.md "Radio mesh" records.
type meshMetrics struct {
	formation      time.Duration // until every node joined and the root routes to all
	dis, dio, dao  uint64        // control messages sent during formation, all nodes and root
	daoack         uint64
	maxHops        int
	meanHops       float64
	linkDelivery   float64 // delivered/offered over all directed links
	macRetries     uint64
	frames, octets uint64 // on the air during formation
}

func formMesh(tb testing.TB, tp topo, loss float64) (*mesh, *Router, meshMetrics) {
	w := newMesh(tb, medium.Config{Range: 50, Loss: loss, Seed: 42})
	r := w.build(tp, dodag.Config{}, stack.Config{})
	d, ok := w.runUntil(func() bool { return joinedTo(r, w.nodes) }, 10*time.Minute, 100*time.Millisecond)
	if !ok {
		tb.Fatalf("%s did not converge", tp.name)
	}
	var mm meshMetrics
	mm.formation = d
	add := func(s dodag.Stats) {
		mm.dis += s.Tx.DIS
		mm.dio += s.Tx.DIO
		mm.dao += s.Tx.DAO
		mm.daoack += s.Tx.DAOACK
	}
	add(r.Status().Stats)
	for _, n := range w.nodes {
		add(n.Status().Stats)
		mm.macRetries += n.Counters().MACRetries
	}
	sum := 0
	routes := r.Routes()
	for _, rt := range routes {
		sum += rt.Hops
		mm.maxHops = max(mm.maxHops, rt.Hops)
	}
	mm.meanHops = float64(sum) / float64(len(routes))
	ms := w.m.Stats()
	var off, del uint64
	for _, l := range ms.Links {
		off += l.Offered
		del += l.Delivered
	}
	mm.linkDelivery = float64(del) / float64(off)
	mm.frames, mm.octets = ms.Frames, ms.Octets
	return w, r, mm
}

// BenchmarkMeshFormation forms the test topologies on the virtual clock
// and reports formation time, control messages by type, hop counts and
// link delivery as custom metrics (deterministic under the fixed seed):
//
//	go test -run '^$' -bench MeshFormation -benchtime 1x ./rpl/border
func BenchmarkMeshFormation(b *testing.B) {
	for _, tc := range []struct {
		tp   topo
		loss float64
	}{
		{lineTopo(20), 0}, {gridTopo(5), 0}, {randomTopo(30, 150, 50, 7), 0},
		{lineTopo(20), 0.2}, {gridTopo(5), 0.2}, {randomTopo(30, 150, 50, 7), 0.2},
	} {
		b.Run(fmt.Sprintf("%s/loss=%.0f%%", tc.tp.name, tc.loss*100), func(b *testing.B) {
			var mm meshMetrics
			for i := 0; i < b.N; i++ {
				_, _, mm = formMesh(b, tc.tp, tc.loss)
			}
			b.ReportMetric(mm.formation.Seconds(), "formation-s")
			b.ReportMetric(float64(mm.dis), "DIS")
			b.ReportMetric(float64(mm.dio), "DIO")
			b.ReportMetric(float64(mm.dao), "DAO")
			b.ReportMetric(float64(mm.daoack), "DAO-ACK")
			b.ReportMetric(float64(mm.maxHops), "max-hops")
			b.ReportMetric(mm.meanHops, "mean-hops")
			b.ReportMetric(mm.linkDelivery, "link-delivery")
			b.ReportMetric(float64(mm.macRetries), "mac-retries")
			b.ReportMetric(float64(mm.octets), "air-octets")
		})
	}
}

// BenchmarkMobilityRejoin moves an idle node from area A to area B and
// reports the virtual time until it has joined B's DODAG and B routes to it.
func BenchmarkMobilityRejoin(b *testing.B) {
	for _, loss := range []float64{0, 0.2} {
		b.Run(fmt.Sprintf("loss=%.0f%%", loss*100), func(b *testing.B) {
			var took time.Duration
			for i := 0; i < b.N; i++ {
				w, _, br, mobile, mac := twoAreasTB(b, loss)
				w.m.SetPosition(mac, medium.Position{X: 1000 - 35*5})
				var ok bool
				took, ok = w.runUntil(func() bool {
					st := mobile.Status()
					g, _ := mobile.GlobalAddr()
					return st.Joined && st.DODAGID == br.Addr() && hasRoute(br, g)
				}, time.Minute, 50*time.Millisecond)
				if !ok {
					b.Fatal("no rejoin")
				}
			}
			b.ReportMetric(took.Seconds(), "rejoin-s")
		})
	}
}

// BenchmarkMeshRealTime measures how much faster than real time a 100-node
// mesh (random placement, 20 % loss) runs on the virtual clock: ns/op is
// the wall time for one simulated minute after formation.
func BenchmarkMeshRealTime(b *testing.B) {
	w, r, _ := formMesh(b, randomTopo(100, 300, 50, 11), 0.2)
	_ = r
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.clk.Advance(time.Minute)
	}
	b.ReportMetric(float64(time.Minute)*float64(b.N)/float64(b.Elapsed()), "x-realtime")
}

// BenchmarkTenAreas1000Nodes is the hospital scale of issue 8's target: ten
// areas of 100 nodes each (random placement) on one medium. After the
// meshes form, ns/op is the wall time of one simulated minute of RPL
// upkeep (no application traffic); x-realtime is how much faster than real
// time that runs.
func BenchmarkTenAreas1000Nodes(b *testing.B) {
	w := newMesh(b, medium.Config{Range: 50, Seed: 1})
	for a := 0; a < 10; a++ {
		ox := float64(a) * 400
		w.addArea(a+1, medium.Position{X: ox + 100, Y: 100}, dodag.Config{})
		tp := randomTopo(100, 200, 50, uint64(a))
		for i := 1; i < len(tp.pos); i++ {
			w.addNode(a+1, i, medium.Position{X: tp.pos[i].X + ox, Y: tp.pos[i].Y}, stack.Config{})
		}
	}
	w.clk.Advance(time.Minute)
	joined := 0
	for _, n := range w.nodes {
		if n.Status().Joined {
			joined++
		}
	}
	if joined != len(w.nodes) {
		b.Fatalf("%d of %d joined within a minute", joined, len(w.nodes))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w.clk.Advance(time.Minute)
	}
	b.ReportMetric(float64(time.Minute)*float64(b.N)/float64(b.Elapsed()), "x-realtime")
}
