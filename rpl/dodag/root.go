package dodag

import (
	"net/netip"
	"sort"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/objective"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

// maxRouteDepth bounds a source route (and so the SRH) the root builds.
const maxRouteDepth = 32

// route is what the root knows of one node (RFC 6550 §9.7): its parent,
// from its latest DAO, and until when that holds.
type route struct {
	target    netip.Addr
	parent    netip.Addr
	pathSeq   uint8
	expires   time.Time
	learned   time.Time
	errors    int // delivery failures reported since the last DAO
	lastError time.Time
}

// Route error handling: a route goes after RouteErrorThreshold reported
// delivery failures less than routeErrorWindow apart. One failure alone is
// more often a lossy hop that exhausted its retransmissions than a node
// that left.
const (
	RouteErrorThreshold = 2
	routeErrorWindow    = time.Minute
	// refreshHoldoff rate-limits the DTSN increments the root makes to
	// heal routes it can no longer complete.
	refreshHoldoff = 30 * time.Second
)

type rootState struct {
	routes      map[netip.Addr]*route
	sweepT      clock.Timer
	lastRefresh time.Time
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
	d.conf = rplmsg.DODAGConfig{
		DIOIntDoublings: c.DIOIntervalDoublings, DIOIntMin: c.DIOIntervalMin, DIORedundancy: c.DIORedundancy,
		MaxRankIncrease: c.MaxRankIncrease, MinHopRankIncrease: c.MinHopRankIncrease, OCP: c.OCP,
		DefaultLifetime: c.DefaultLifetime, LifetimeUnit: c.LifetimeUnit,
	}
	// RFC 6550 §6.7.10: A set, L clear (the prefix is not on-link in a
	// mesh), infinite lifetimes; nodes form prefix + IID.
	d.pio = rplmsg.PrefixInfo{PrefixLen: uint8(c.Prefix.Bits()), Autonomous: true,
		Valid: 0xffffffff, Preferred: 0xffffffff, Prefix: c.Prefix.Masked().Addr()}
	of, err := objective.New(c.OCP, objective.Params{MinHopRankIncrease: c.MinHopRankIncrease, MaxRankIncrease: c.MaxRankIncrease})
	if err != nil {
		of = objective.NewMRHOF(objective.Params{MinHopRankIncrease: c.MinHopRankIncrease, MaxRankIncrease: c.MaxRankIncrease})
	}
	d.of = of
	d.rank = of.Params().RootRank()
	d.dodagID = lowpan.AddrFromPrefix(c.Prefix, d.lladdr)
	d.host.Joined(d.pio.Net(), d.dodagID)
	d.joinedAt = d.clk.Now()
	d.trickle.Start()
	d.scheduleSweep()
}

func (d *DODAG) routeLifetime(units uint8) time.Duration {
	return time.Duration(units) * time.Duration(d.conf.LifetimeUnit) * time.Second
}

func (d *DODAG) scheduleSweep() {
	every := d.routeLifetime(d.conf.DefaultLifetime) / 4
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
func (d *DODAG) handleDAO(m *rplmsg.DAO, src netip.Addr) {
	if m.InstanceID != d.instance || (m.DODAGID.IsValid() && m.DODAGID != d.dodagID) {
		d.st.Ignored++
		return
	}
	now := d.clk.Now()
	tr, ok := m.Transit()
	for _, t := range m.Targets() {
		if t.PrefixLen != 128 || !ok || !tr.Parent.IsValid() {
			d.st.Ignored++
			continue
		}
		target := t.Prefix
		if tr.PathLifetime == 0 {
			// No-Path DAO (RFC 6550 §6.7.8): the node withdraws the route.
			if r := d.root.routes[target]; r != nil && r.parent == tr.Parent {
				delete(d.root.routes, target)
				d.st.NoPathDAOs++
			}
			continue
		}
		r := d.root.routes[target]
		if r != nil && r.pathSeq != tr.PathSequence && lollipopGreater(r.pathSeq, tr.PathSequence) && now.Before(r.expires) {
			d.st.Ignored++ // a stale DAO overtaken by a newer one
			continue
		}
		if r == nil {
			r = &route{target: target}
			d.root.routes[target] = r
			d.st.RoutesAdded++
		}
		r.parent, r.pathSeq = tr.Parent, tr.PathSequence
		r.expires = now.Add(d.routeLifetime(tr.PathLifetime))
		r.learned = now
		r.errors = 0
		if _, ok := d.SourceRoute(target); !ok {
			// An ancestor's route is gone (dropped or expired): ask every
			// node for a fresh DAO (RFC 6550 §9.6), at most every
			// refreshHoldoff.
			if d.root.lastRefresh.IsZero() || now.Sub(d.root.lastRefresh) >= refreshHoldoff {
				d.root.lastRefresh = now
				d.st.RouteRefreshes++
				d.RefreshRoutes()
			}
		}
	}
	if m.AckRequest {
		d.st.Tx.DAOACK++
		d.host.SendRPL(src, &rplmsg.DAOACK{InstanceID: d.instance, Seq: m.Seq})
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
// a source route. The root forgets next's route through reporter after
// RouteErrorThreshold such reports within a minute.
func (d *DODAG) RouteError(reporter, next netip.Addr) {
	if d.root == nil {
		return
	}
	r := d.root.routes[next]
	if r == nil || r.parent != reporter {
		return
	}
	now := d.clk.Now()
	d.st.RouteErrors++
	if !r.lastError.IsZero() && now.Sub(r.lastError) > routeErrorWindow {
		r.errors = 0
	}
	r.errors++
	r.lastError = now
	if r.errors >= RouteErrorThreshold {
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
