package dodag

import (
	"net/netip"
	"sort"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/objective"
)

// maxRouteDepth bounds a source route (and so the SRH) the root builds.
const maxRouteDepth = 32

// route is what the root knows of one node (RFC 6550 §9.7): its parent,
// from its latest DAO, and until when that holds.
type route struct {
	target  netip.Addr
	parent  netip.Addr
	pathSeq uint8
	expires time.Time
	learned time.Time
}

type rootState struct {
	routes map[netip.Addr]*route
	sweepT clock.Timer
}

func newRootState() *rootState { return &rootState{routes: make(map[netip.Addr]*route)} }

// startRoot forms the DODAG (RFC 6550 §8.2.2.1): rank ROOT_RANK, a fresh
// version, the DODAGID being the root's global address.
func (d *DODAG) startRoot() {
	c := d.cfg
	d.joined = true
	d.grounded = true
	d.instance = c.InstanceID
	d.version = lollipopInit
	d.dtsn = lollipopInit
	d.conf = dodagConf{
		doublings: c.DIOIntervalDoublings, intMin: c.DIOIntervalMin, redundancy: c.DIORedundancy,
		maxRankInc: c.MaxRankIncrease, minHopRankInc: c.MinHopRankIncrease, ocp: c.OCP,
		defaultLifetime: c.DefaultLifetime, lifetimeUnit: c.LifetimeUnit,
	}
	d.pio = prefixInfo{prefix: c.Prefix.Masked(), auto: true, valid: 0xffffffff, preferred: 0xffffffff}
	of, err := objective.New(c.OCP, objective.Params{MinHopRankIncrease: c.MinHopRankIncrease, MaxRankIncrease: c.MaxRankIncrease})
	if err != nil {
		of = objective.NewMRHOF(objective.Params{MinHopRankIncrease: c.MinHopRankIncrease, MaxRankIncrease: c.MaxRankIncrease})
	}
	d.of = of
	d.rank = of.Params().RootRank()
	d.dodagID = lowpan.AddrFromPrefix(c.Prefix, d.lladdr)
	d.host.Joined(d.pio.prefix, d.dodagID)
	d.joinedAt = d.clk.Now()
	d.trickle.Start()
	d.scheduleSweep()
}

func (d *DODAG) routeLifetime(units uint8) time.Duration {
	return time.Duration(units) * time.Duration(d.conf.lifetimeUnit) * time.Second
}

func (d *DODAG) scheduleSweep() {
	every := d.routeLifetime(d.conf.defaultLifetime) / 4
	if every < time.Second {
		every = time.Second
	}
	d.root.sweepT = d.after(every, func() {
		d.sweepRoutes()
		d.scheduleSweep()
	})
}

func (d *DODAG) sweepRoutes() {
	now := d.clk.Now()
	for k, r := range d.root.routes {
		if !now.Before(r.expires) {
			delete(d.root.routes, k)
			d.st.RoutesExpired++
		}
	}
}

// handleDAO records a node's parent from a non-storing DAO (RFC 6550 §9.7)
// and acknowledges it when asked (K flag).
func (d *DODAG) handleDAO(m *dao, src netip.Addr) {
	if m.instance != d.instance || (m.dodagID.IsValid() && m.dodagID != d.dodagID) {
		d.st.Ignored++
		return
	}
	now := d.clk.Now()
	var tr *transit
	if len(m.transits) > 0 {
		tr = &m.transits[0]
	}
	for _, t := range m.targets {
		if t.Bits() != 128 || tr == nil || !tr.parent.IsValid() {
			d.st.Ignored++
			continue
		}
		target := t.Addr()
		if tr.pathLifetime == 0 {
			// No-Path DAO (RFC 6550 §6.7.8): the node withdraws the route.
			if r := d.root.routes[target]; r != nil && r.parent == tr.parent {
				delete(d.root.routes, target)
				d.st.NoPathDAOs++
			}
			continue
		}
		r := d.root.routes[target]
		if r != nil && r.pathSeq != tr.pathSeq && lollipopGreater(r.pathSeq, tr.pathSeq) && now.Before(r.expires) {
			d.st.Ignored++ // a stale DAO overtaken by a newer one
			continue
		}
		if r == nil {
			r = &route{target: target}
			d.root.routes[target] = r
			d.st.RoutesAdded++
		}
		r.parent, r.pathSeq = tr.parent, tr.pathSeq
		r.expires = now.Add(d.routeLifetime(tr.pathLifetime))
		r.learned = now
	}
	if m.ack {
		a := daoAck{instance: d.instance, seq: m.seq}
		d.st.Tx.DAOACK++
		d.host.SendRPL(src, CodeDAOACK, appendDAOAck(make([]byte, 0, 4), &a))
	}
}

// SourceRoute returns the hops from the root to dst: the first is the
// root's neighbour, the last dst (root only). ok is false without a
// complete, loop-free, unexpired path.
func (d *DODAG) SourceRoute(dst netip.Addr) (hops []netip.Addr, ok bool) {
	if d.root == nil {
		return nil, false
	}
	now := d.clk.Now()
	cur := dst
	hops = append(hops, dst)
	for range maxRouteDepth {
		r := d.root.routes[cur]
		if r == nil || !now.Before(r.expires) {
			return nil, false
		}
		if r.parent == d.dodagID {
			for i, j := 0, len(hops)-1; i < j; i, j = i+1, j-1 {
				hops[i], hops[j] = hops[j], hops[i]
			}
			return hops, true
		}
		for _, h := range hops {
			if h == r.parent {
				d.st.RouteLoops++
				return nil, false
			}
		}
		hops = append(hops, r.parent)
		cur = r.parent
	}
	return nil, false
}

// RouteError reports that reporter could not reach next, the next hop of
// a source route: the root forgets next's route through reporter.
func (d *DODAG) RouteError(reporter, next netip.Addr) {
	if d.root == nil {
		return
	}
	if r := d.root.routes[next]; r != nil && r.parent == reporter {
		delete(d.root.routes, next)
		d.st.RoutesDropped++
	}
}

// GlobalRepair increments the DODAG version (RFC 6550 §8.2.2.2): every
// node re-selects its parent and sends a fresh DAO (root only).
func (d *DODAG) GlobalRepair() {
	if d.root == nil || !d.running {
		return
	}
	d.version = lollipopNext(d.version)
	d.dtsn = lollipopNext(d.dtsn)
	d.st.GlobalRepairs++
	d.trickle.Reset()
}

// RefreshRoutes increments the DTSN (RFC 6550 §9.6) so that every node
// sends a new DAO (root only).
func (d *DODAG) RefreshRoutes() {
	if d.root == nil || !d.running {
		return
	}
	d.dtsn = lollipopNext(d.dtsn)
	d.trickle.Reset()
}

// Route is one node known to the root.
type Route struct {
	Target  netip.Addr
	Parent  netip.Addr
	Hops    int // length of the source route; 0 when currently unroutable
	Expires time.Time
	Learned time.Time
}

// Routes lists the root's routes, sorted by target (root only).
func (d *DODAG) Routes() []Route {
	if d.root == nil {
		return nil
	}
	out := make([]Route, 0, len(d.root.routes))
	for _, r := range d.root.routes {
		x := Route{Target: r.target, Parent: r.parent, Expires: r.expires, Learned: r.learned}
		if hops, ok := d.SourceRoute(r.target); ok {
			x.Hops = len(hops)
		}
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Target.Less(out[j].Target) })
	return out
}
