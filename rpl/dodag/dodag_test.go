package dodag

import (
	"encoding/hex"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/objective"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

var epoch = time.Unix(1_700_000_000, 0)

// Vector 04 (testdata/04-smoltcp-rpl-dio-contiki-defaults.txt, from
// smoltcp src/wire/rpl.rs): a DIO with Contiki-NG RPL-Lite's defaults and a
// PIO, as the Cooja root fd00::201:1:1:1 sends it.
const vector04 = "9b010000" + "00f00080" + "08f00000" + "fd000000000000000201000100010001" +
	"040e00080c0004000080000100" + "1e003c" +
	"081e4040ffffffffffffffff00000000fd000000000000000000000000000000"

// Vector 05 (testdata/05-smoltcp-rpl-dao-daoack.txt): node fd00::202:2:2:2
// tells the root its parent is fd00::201:1:1:1.
const vector05 = "9b020000" + "008000f1" + "05120080fd000000000000000202000200020002" +
	"06140000001efd000000000000000201000100010001"

func decodeHex(t *testing.T, s string) rplmsg.Message {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := rplmsg.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type sent struct {
	dst netip.Addr
	m   rplmsg.Message
}

// fakeHost records what the DODAG asks of its stack.
type fakeHost struct {
	sent   []sent
	joined []netip.Prefix
	left   int
}

func (h *fakeHost) SendRPL(dst netip.Addr, m rplmsg.Message) { h.sent = append(h.sent, sent{dst, m}) }
func (h *fakeHost) Joined(p netip.Prefix, _ netip.Addr)      { h.joined = append(h.joined, p) }
func (h *fakeHost) Left()                                    { h.left++ }

func (h *fakeHost) count(pred func(sent) bool) int {
	n := 0
	for _, s := range h.sent {
		if pred(s) {
			n++
		}
	}
	return n
}

type rig struct {
	clk  *clock.Virtual
	mu   *sync.Mutex
	host *fakeHost
	d    *DODAG
}

func newRig(t *testing.T, cfg Config, mac ieee802154.Address) *rig {
	t.Helper()
	r := &rig{clk: clock.NewVirtual(epoch), mu: &sync.Mutex{}, host: &fakeHost{}}
	cfg.Clock, cfg.Locker = r.clk, r.mu
	d, err := New(cfg, r.host, mac)
	if err != nil {
		t.Fatal(err)
	}
	r.d = d
	r.mu.Lock()
	d.Start()
	r.mu.Unlock()
	t.Cleanup(func() { r.mu.Lock(); d.Stop(); r.mu.Unlock() })
	return r
}

func (r *rig) input(m rplmsg.Message, src, dst netip.Addr, from ieee802154.Address) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.d.Input(m, src, dst, from)
}

func (r *rig) status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.d.Status()
}

var (
	cooja1    = ieee802154.Ext(ieee802154.ExtAddr{0, 1, 0, 1, 0, 1, 0, 1})
	cooja1LL  = netip.MustParseAddr("fe80::201:1:1:1")
	cooja1G   = netip.MustParseAddr("fd00::201:1:1:1")
	nodeMAC   = ieee802154.Ext(ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0, 0, 7})
	contikiPf = netip.MustParsePrefix("fd00::/64")
)

func TestLollipop(t *testing.T) {
	if lollipopNext(255) != 0 || lollipopNext(127) != 0 || lollipopNext(240) != 241 {
		t.Fatal("lollipopNext")
	}
	for _, c := range []struct {
		a, b uint8
		want bool
	}{
		{241, 240, true}, {240, 241, false}, {240, 240, false},
		{0, 250, true},  // just wrapped into the circular region (RFC 6550 §7.2 rule 1)
		{0, 200, false}, // 200 is newer: too far back to be a wrap
		{5, 120, true},  // circular wrap, within the window
		{120, 5, false},
		{100, 10, false}, // desynchronised: not comparable
		{10, 100, false},
	} {
		if got := lollipopGreater(c.a, c.b); got != c.want {
			t.Errorf("lollipopGreater(%d, %d) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestNodeJoinsContikiDIO(t *testing.T) {
	r := newRig(t, Config{Seed: 1}, nodeMAC)
	r.input(decodeHex(t, vector04), cooja1LL, netip.MustParseAddr("ff02::1a"), cooja1)
	st := r.status()
	if !st.Joined || st.DODAGID != cooja1G || st.Version != 240 || st.OCP != objective.OCPMRHOF || st.Prefix != contikiPf {
		t.Fatalf("status after vector 04: %+v", st)
	}
	// MRHOF over a fresh link (ETX 2): path cost 128 + 256 = 384.
	if st.Rank != 384 || st.Parent != cooja1LL || st.ParentMAC != cooja1 {
		t.Fatalf("rank %d parent %v", st.Rank, st.Parent)
	}
	if len(r.host.joined) != 1 || r.host.joined[0] != contikiPf {
		t.Fatalf("host told %v", r.host.joined)
	}
	r.clk.Advance(10 * time.Second)
	me := lowpan.AddrFromPrefix(contikiPf, nodeMAC)
	var dao *rplmsg.DAO
	var dio *rplmsg.DIO
	for _, s := range r.host.sent {
		switch m := s.m.(type) {
		case *rplmsg.DAO:
			if s.dst != cooja1G {
				t.Fatalf("DAO sent to %v, want the DODAGID", s.dst)
			}
			dao = m
		case *rplmsg.DIO:
			if s.dst.IsMulticast() {
				dio = m
			}
		}
	}
	if dao == nil || dio == nil {
		t.Fatalf("sent %v: want a DAO and a multicast DIO", r.host.sent)
	}
	tr, ok := dao.Transit()
	if tg := dao.Targets(); !ok || len(tg) != 1 || tg[0].Prefix != me || tr.Parent != cooja1G || tr.PathLifetime != 30 || !dao.AckRequest {
		t.Fatalf("DAO %+v transit %+v", dao, tr)
	}
	c, ok := dio.Config()
	pio, okp := dio.PrefixInfo()
	if !ok || !okp || c.DIOIntMin != 12 || c.MaxRankIncrease != 1024 || c.LifetimeUnit != 60 || !pio.Autonomous || pio.Net() != contikiPf {
		t.Fatalf("our DIO does not carry the root's configuration: %+v %+v", c, pio)
	}
	if dio.Rank != 384 || dio.DODAGID != cooja1G {
		t.Fatalf("our DIO: %+v", dio)
	}
	// DAO-ACK with the DAO's sequence number completes the exchange.
	r.input(&rplmsg.DAOACK{Seq: dao.Seq}, cooja1G, me, cooja1)
	if s := r.status().Stats; s.DAOAcked != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestRootHandlesContikiDAO(t *testing.T) {
	r := newRig(t, Config{Root: true, Prefix: contikiPf}, cooja1)
	st := r.status()
	if !st.Root || st.DODAGID != cooja1G || st.Rank != 128 || st.Version != 240 {
		t.Fatalf("root status %+v", st)
	}
	node2 := netip.MustParseAddr("fd00::202:2:2:2")
	r.input(decodeHex(t, vector05), node2, cooja1G, ieee802154.Ext(ieee802154.ExtAddr{0, 2, 0, 2, 0, 2, 0, 2}))
	r.mu.Lock()
	hops, ok := r.d.SourceRoute(node2)
	routes := r.d.Routes()
	r.mu.Unlock()
	if !ok || len(hops) != 1 || hops[0] != node2 || len(routes) != 1 || routes[0].Parent != cooja1G {
		t.Fatalf("route %v %v %+v", hops, ok, routes)
	}
	if want := epoch.Add(30 * time.Minute); !routes[0].Expires.Equal(want) {
		t.Fatalf("expires %v, want lifetime 30 × 60 s", routes[0].Expires)
	}
	ack := r.host.sent[len(r.host.sent)-1]
	if a, ok := ack.m.(*rplmsg.DAOACK); !ok || ack.dst != node2 || a.Seq != 0xf1 || !a.Accepted() {
		t.Fatalf("DAO-ACK %+v to %v", ack.m, ack.dst)
	}
	// A child of node 2: a two-hop source route.
	node3 := netip.MustParseAddr("fd00::203:3:3:3")
	r.input(&rplmsg.DAO{Seq: 1, Options: []rplmsg.Option{
		rplmsg.Target{PrefixLen: 128, Prefix: node3},
		rplmsg.Transit{PathLifetime: 30, Parent: node2},
	}}, node3, cooja1G, ieee802154.Ext(ieee802154.ExtAddr{0, 2, 0, 2, 0, 2, 0, 2}))
	r.mu.Lock()
	hops, ok = r.d.SourceRoute(node3)
	r.mu.Unlock()
	if !ok || len(hops) != 2 || hops[0] != node2 || hops[1] != node3 {
		t.Fatalf("route to node 3: %v", hops)
	}
	// The next hop reports node 3 unreachable: one report may be a lossy
	// hop, a second within the window removes the route.
	r.mu.Lock()
	r.d.RouteError(node2, node3)
	_, ok1 := r.d.SourceRoute(node3)
	r.d.RouteError(netip.MustParseAddr("fd00::99"), node3) // not node 3's parent: ignored
	r.d.RouteError(node2, node3)
	_, ok2 := r.d.SourceRoute(node3)
	r.mu.Unlock()
	if !ok1 || ok2 {
		t.Fatalf("route after one error %v, after two %v; want kept, then dropped", ok1, ok2)
	}
	// A No-Path DAO withdraws node 2.
	r.input(&rplmsg.DAO{Seq: 2, Options: []rplmsg.Option{
		rplmsg.Target{PrefixLen: 128, Prefix: node2},
		rplmsg.Transit{PathLifetime: 0, Parent: cooja1G},
	}}, node2, cooja1G, cooja1)
	if st := r.status(); st.Routes != 0 || st.Stats.NoPathDAOs != 1 || st.Stats.RoutesDropped != 1 {
		t.Fatalf("after No-Path DAO: %+v", st)
	}
}

func TestRouteLoopRejected(t *testing.T) {
	r := newRig(t, Config{Root: true, Prefix: contikiPf}, cooja1)
	a, b := netip.MustParseAddr("fd00::a"), netip.MustParseAddr("fd00::b")
	for _, x := range [][2]netip.Addr{{a, b}, {b, a}} {
		r.input(&rplmsg.DAO{Options: []rplmsg.Option{rplmsg.Target{PrefixLen: 128, Prefix: x[0]},
			rplmsg.Transit{PathLifetime: 5, Parent: x[1]}}}, x[0], cooja1G, cooja1)
	}
	r.mu.Lock()
	_, ok := r.d.SourceRoute(a)
	r.mu.Unlock()
	if ok || r.status().Stats.RouteLoops == 0 {
		t.Fatal("a looping source route was returned")
	}
}

// joinVia makes a fresh node join through cooja1 with the vector-04 DIO.
func joinVia(t *testing.T, cfg Config) *rig {
	r := newRig(t, cfg, nodeMAC)
	r.input(decodeHex(t, vector04), cooja1LL, netip.MustParseAddr("ff02::1a"), cooja1)
	if !r.status().Joined {
		t.Fatal("did not join")
	}
	return r
}

func TestParentLossByLinkFailures(t *testing.T) {
	r := joinVia(t, Config{Seed: 2})
	before := len(r.host.sent)
	r.mu.Lock()
	r.d.LinkResult(cooja1, 8, false)
	r.mu.Unlock()
	probe := r.host.sent[before:]
	if len(probe) != 1 || probe[0].dst != cooja1LL {
		t.Fatalf("after one failure sent %+v, want an urgent unicast DIS to the parent", probe)
	}
	if _, ok := probe[0].m.(*rplmsg.DIS); !ok || !r.status().Joined {
		t.Fatal("first failure should only probe")
	}
	r.mu.Lock()
	r.d.LinkResult(cooja1, 8, false)
	r.mu.Unlock()
	st := r.status()
	if st.Joined || st.Stats.ParentUnreachable != 1 || st.Stats.LocalRepairs != 1 || r.host.left != 1 {
		t.Fatalf("after the second failure: %+v left=%d", st, r.host.left)
	}
	var poison, dis bool
	for _, s := range r.host.sent[before+1:] {
		switch m := s.m.(type) {
		case *rplmsg.DIO:
			poison = poison || (m.Rank == objective.InfiniteRank && s.dst.IsMulticast())
		case *rplmsg.DIS:
			dis = dis || s.dst.IsMulticast()
		}
	}
	if !poison || !dis {
		t.Fatalf("local repair sent %+v: want a poisoning DIO and a multicast DIS", r.host.sent[before+1:])
	}
	// A success in between resets the count.
	r2 := joinVia(t, Config{Seed: 3})
	r2.mu.Lock()
	r2.d.LinkResult(cooja1, 8, false)
	r2.d.LinkResult(cooja1, 1, true)
	r2.d.LinkResult(cooja1, 8, false)
	r2.mu.Unlock()
	if !r2.status().Joined {
		t.Fatal("non-consecutive failures dropped the parent")
	}
}

func TestSilentParentIsProbed(t *testing.T) {
	r := joinVia(t, Config{Seed: 4, ProbeInterval: 2 * time.Second})
	count := func() int {
		return r.host.count(func(s sent) bool { _, ok := s.m.(*rplmsg.DIS); return ok && s.dst == cooja1LL })
	}
	r.clk.Advance(1900 * time.Millisecond)
	if count() != 0 {
		t.Fatal("probed a parent heard from recently")
	}
	r.clk.Advance(300 * time.Millisecond)
	if count() != 1 {
		t.Fatalf("%d probes after the parent was silent for ProbeInterval", count())
	}
	// The probe's link-layer acknowledgment shows the parent alive.
	r.mu.Lock()
	r.d.LinkResult(cooja1, 1, true)
	r.mu.Unlock()
	r.clk.Advance(1900 * time.Millisecond)
	if count() != 1 {
		t.Fatal("probed a parent whose probe was just acknowledged")
	}
	r.mu.Lock()
	r.d.Heard(cooja1) // or any frame from it
	r.mu.Unlock()
	r.clk.Advance(1900 * time.Millisecond)
	if count() != 1 {
		t.Fatal("probed a parent that was just heard")
	}
}

func TestPoisonedParentIsLeft(t *testing.T) {
	r := joinVia(t, Config{Seed: 5})
	dio := decodeHex(t, vector04).(*rplmsg.DIO)
	dio.Rank = objective.InfiniteRank
	r.input(dio, cooja1LL, netip.MustParseAddr("ff02::1a"), cooja1)
	if st := r.status(); st.Joined || st.Stats.LocalRepairs != 1 {
		t.Fatalf("after the parent's poison: %+v", st)
	}
	// Hold-down: the same DODAG is not rejoined through a node at our old
	// depth or deeper, but is through a shallower one.
	deep := decodeHex(t, vector04).(*rplmsg.DIO)
	deep.Rank = 384
	other := ieee802154.Ext(ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0, 0, 9})
	r.input(deep, lowpan.LinkLocal(other), netip.MustParseAddr("ff02::1a"), other)
	if r.status().Joined {
		t.Fatal("rejoined through a possible descendant during the hold-down")
	}
	r.clk.Advance(2 * time.Second)
	r.input(deep, lowpan.LinkLocal(other), netip.MustParseAddr("ff02::1a"), other)
	if !r.status().Joined {
		t.Fatal("did not rejoin after the hold-down")
	}
}

func TestNeighborTableBounded(t *testing.T) {
	r := joinVia(t, Config{Seed: 6, MaxNeighbors: 3})
	for i := 0; i < 10; i++ {
		mac := ieee802154.Ext(ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0, 1, byte(i)})
		dio := decodeHex(t, vector04).(*rplmsg.DIO)
		dio.Rank = uint16(128 + 40*i)
		r.input(dio, lowpan.LinkLocal(mac), netip.MustParseAddr("ff02::1a"), mac)
	}
	st := r.status()
	if st.Neighbors != 3 || st.Stats.NeighborTableFull == 0 {
		t.Fatalf("neighbours %d, table-full %d", st.Neighbors, st.Stats.NeighborTableFull)
	}
	if st.Rank > 384 {
		t.Fatalf("rank %d: lost the best parent", st.Rank)
	}
}

func TestGlobalRepairAdoptsNewVersion(t *testing.T) {
	r := joinVia(t, Config{Seed: 7})
	r.clk.Advance(2 * time.Second) // the first DAO goes out
	dio := decodeHex(t, vector04).(*rplmsg.DIO)
	dio.Version = 241
	r.input(dio, cooja1LL, netip.MustParseAddr("ff02::1a"), cooja1)
	st := r.status()
	if !st.Joined || st.Version != 241 || st.Stats.GlobalRepairs != 1 || st.Parent != cooja1LL {
		t.Fatalf("after a new version: %+v", st)
	}
	r.clk.Advance(2 * time.Second)
	if n := r.host.count(func(s sent) bool { _, ok := s.m.(*rplmsg.DAO); return ok }); n < 2 {
		t.Fatalf("%d DAOs: a new version needs a fresh DAO", n)
	}
}

func TestDAORetries(t *testing.T) {
	daos := func(r *rig) int { return r.host.count(func(s sent) bool { _, ok := s.m.(*rplmsg.DAO); return ok }) }
	// The parent acknowledges our frames: the DAO is lost further away, so
	// back off and retry instead of detaching the sub-DODAG.
	r := joinVia(t, Config{Seed: 8, DAOMaxRetries: 2, DAOAckTimeout: time.Second})
	r.clk.Advance(4 * time.Second)
	if n, st := daos(r), r.status(); n != 3 || st.Stats.DAOFailures != 1 || !st.Joined || st.Stats.LocalRepairs != 0 {
		t.Fatalf("DAOs %d, status %+v", n, st)
	}
	r.clk.Advance(10 * time.Second)
	if n := daos(r); n < 4 {
		t.Fatalf("no DAO after the back-off (%d)", n)
	}
	// The parent itself is failing: a DAO failure leads to a local repair.
	r2 := joinVia(t, Config{Seed: 9, DAOMaxRetries: 2, DAOAckTimeout: time.Second, ParentFailThreshold: 5})
	r2.mu.Lock()
	r2.d.LinkResult(cooja1, 8, false)
	r2.mu.Unlock()
	r2.clk.Advance(5 * time.Second)
	if st := r2.status(); st.Stats.DAOFailures != 1 || st.Stats.LocalRepairs != 1 || st.Joined {
		t.Fatalf("status %+v", st)
	}
}

func TestRootNeedsPrefix(t *testing.T) {
	if _, err := New(Config{Root: true}, &fakeHost{}, cooja1); err == nil {
		t.Fatal("root without a prefix accepted")
	}
}

// TestAbsurdRankIgnored: a DIO from an unknown neighbour claiming a rank
// below the root's (ROOT_RANK = MinHopRankIncrease, RFC 6550 §17) — a
// forgery — neither becomes the parent nor enters the neighbour table.
func TestAbsurdRankIgnored(t *testing.T) {
	r := joinVia(t, Config{Seed: 8})
	before := r.status()
	ghost := ieee802154.Ext(ieee802154.ExtAddr{0x02, 0, 0, 0, 0, 0, 0x66, 0x66})
	for _, withConf := range []bool{true, false} {
		dio := decodeHex(t, vector04).(*rplmsg.DIO)
		dio.Rank = 1
		if !withConf {
			var opts []rplmsg.Option
			for _, o := range dio.Options {
				if _, ok := o.(rplmsg.DODAGConfig); !ok {
					opts = append(opts, o)
				}
			}
			dio.Options = opts
		}
		r.input(dio, lowpan.LinkLocal(ghost), netip.MustParseAddr("ff02::1a"), ghost)
	}
	st := r.status()
	if !st.Joined || st.Parent != cooja1LL || st.Rank != before.Rank || st.Neighbors != before.Neighbors {
		t.Fatalf("after DIOs with rank 1 from an unknown neighbour: %+v (before %+v)", st, before)
	}
	if st.Stats.Ignored != before.Stats.Ignored+2 {
		t.Fatalf("ignored %d, want %d", st.Stats.Ignored, before.Stats.Ignored+2)
	}
	// A fresh node does not join through such a DIO either.
	r2 := newRig(t, Config{Seed: 9}, nodeMAC)
	dio := decodeHex(t, vector04).(*rplmsg.DIO)
	dio.Rank = 1
	r2.input(dio, lowpan.LinkLocal(ghost), netip.MustParseAddr("ff02::1a"), ghost)
	if r2.status().Joined {
		t.Fatal("joined through a DIO with rank 1")
	}
}

// A leaf (RFC 6550 §8.5) sends no Trickle DIOs, answers a unicast DIS with
// a DIO of INFINITE_RANK, and has nothing to poison when it loses its
// parent; a router with the same history multicasts DIOs.
func TestLeaf(t *testing.T) {
	dios := func(r *rig, pred func(sent, *rplmsg.DIO) bool) int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.host.count(func(s sent) bool { m, ok := s.m.(*rplmsg.DIO); return ok && pred(s, m) })
	}
	multicast := func(s sent, _ *rplmsg.DIO) bool { return s.dst.IsMulticast() }
	router, leaf := joinVia(t, Config{Seed: 8}), joinVia(t, Config{Seed: 8, Leaf: true})
	for _, r := range []*rig{router, leaf} {
		r.clk.Advance(10 * time.Minute)
	}
	if n := dios(router, multicast); n == 0 {
		t.Fatal("the router sent no DIO in 10 minutes")
	}
	if n := dios(leaf, multicast); n != 0 {
		t.Fatalf("the leaf multicast %d DIOs", n)
	}
	asker := netip.MustParseAddr("fe80::2:3")
	leaf.input(&rplmsg.DIS{}, asker, lowpan.LinkLocal(nodeMAC), ieee802154.Ext(ieee802154.ExtAddr{0, 0, 0, 0, 0, 0, 2, 3}))
	if n := dios(leaf, func(s sent, m *rplmsg.DIO) bool { return s.dst == asker && m.Rank == objective.InfiniteRank }); n != 1 {
		t.Fatalf("the leaf answered a unicast DIS with %d DIOs of INFINITE_RANK, want 1", n)
	}
	// Parent loss after ParentFailThreshold 1: detached at the first
	// failure, a multicast DIS at once, no poison.
	r := joinVia(t, Config{Seed: 9, Leaf: true, ParentFailThreshold: 1})
	r.mu.Lock()
	before := len(r.host.sent)
	r.d.LinkResult(cooja1, 8, false)
	after := r.host.sent[before:]
	r.mu.Unlock()
	st := r.status()
	if st.Joined || st.Stats.LocalRepairs != 1 || st.Stats.PoisonSent != 0 {
		t.Fatalf("after one failure: joined %v, %d local repairs, %d poisons; want detached, 1, 0", st.Joined, st.Stats.LocalRepairs, st.Stats.PoisonSent)
	}
	if len(after) != 1 || !after[0].dst.IsMulticast() {
		t.Fatalf("sent %+v on parent loss, want one multicast DIS", after)
	}
	if _, ok := after[0].m.(*rplmsg.DIS); !ok {
		t.Fatalf("sent %T on parent loss, want a DIS", after[0].m)
	}
}

// A short DAODelay (a mobile node's) sends the DAO within it of the join.
func TestShortDAODelay(t *testing.T) {
	daos := func(r *rig) int {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.host.count(func(s sent) bool { _, ok := s.m.(*rplmsg.DAO); return ok })
	}
	r := joinVia(t, Config{Seed: 10, DAODelay: 8 * time.Millisecond})
	r.clk.Advance(8 * time.Millisecond)
	if daos(r) != 1 {
		t.Fatalf("%d DAOs 8 ms after the join with DAODelay 8 ms, want 1", daos(r))
	}
	d := joinVia(t, Config{Seed: 10})
	d.clk.Advance(8 * time.Millisecond)
	if daos(d) != 0 {
		t.Fatal("a DAO within 8 ms of the join with the default DAODelay (500 ms)")
	}
}
