package dodag

import (
	"net/netip"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/objective"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
)

// handleDIO processes a DIO from link-local src heard from MAC from.
func (d *DODAG) handleDIO(m *rplmsg.DIO, src netip.Addr, from ieee802154.Address) {
	if m.MOP != rplmsg.MOPNonStoring {
		d.st.Ignored++
		return
	}
	if d.root != nil {
		// The root only listens for consistency (RFC 6550 §8.3).
		if m.DODAGID == d.dodagID && m.Version == d.version && m.Rank != objective.InfiniteRank {
			d.trickle.Hear()
		} else if m.DODAGID == d.dodagID && lollipopGreater(d.version, m.Version) {
			d.trickle.Reset()
		}
		return
	}
	if m.Rank < d.rootRank(m) {
		// RFC 6550 §17: no node ranks below the root (ROOT_RANK is
		// MinHopRankIncrease). Such a DIO is forged or broken; taken in,
		// it would make its sender the best parent there is and set our
		// lowest rank so low that every real parent then breaks the
		// L + DAGMaxRankIncrease rule (§8.2.2.4): a detach.
		d.st.Ignored++
		return
	}
	if !d.joined {
		d.tryJoin(m, src, from)
		return
	}
	if m.InstanceID != d.instance {
		d.st.Ignored++
		return
	}
	if m.DODAGID != d.dodagID {
		// Another area's DODAG: remember it (a mobility hint) but stay.
		d.foreign[m.DODAGID] = d.clk.Now()
		d.st.ForeignDIOs++
		return
	}
	switch {
	case lollipopGreater(m.Version, d.version):
		// Global repair (RFC 6550 §8.2.2.2): move to the new version; the
		// neighbours' ranks in the old one no longer count.
		// Nothing of the old version carries over, our rank included, so
		// any neighbour already in the new version may become the parent.
		d.st.GlobalRepairs++
		d.version = m.Version
		for _, n := range d.nbrs {
			n.rank = objective.InfiniteRank
		}
		d.parent = nil
		d.rank = objective.InfiniteRank
		d.lowestRank = objective.InfiniteRank
		d.adoptConf(m)
		d.trickle.Reset()
	case lollipopGreater(d.version, m.Version):
		d.trickle.Reset() // it is behind: tell it
		return
	}
	n := d.upsert(m, src, from)
	if m.Rank != objective.InfiniteRank {
		d.trickle.Hear()
	}
	if n == nil {
		return
	}
	if n == d.parent {
		d.adoptConf(m)
		if m.DTSN != d.parentDTSN() {
			// The parent asks for fresh DAOs (RFC 6550 §9.6). In
			// non-storing mode every node below must send one too, so
			// pass the request on: a new DTSN, told at once.
			d.dtsn = lollipopNext(d.dtsn)
			d.trickle.Reset()
			d.scheduleDAO()
		}
		n.dtsn = m.DTSN
	}
	d.selectParent()
}

// rootRank is ROOT_RANK for m's DODAG: its MinHopRankIncrease, from m's
// DODAG Configuration when it carries one, else from ours.
func (d *DODAG) rootRank(m *rplmsg.DIO) uint16 {
	if c, ok := m.Config(); ok {
		return c.MinHopRankIncrease
	}
	if d.joined {
		return d.conf.MinHopRankIncrease
	}
	return 0
}

func (d *DODAG) parentDTSN() uint8 {
	if d.parent == nil {
		return 0
	}
	return d.parent.dtsn
}

// upsert records the DIO sender in the bounded neighbour table. It returns
// nil when the table is full of better neighbours.
func (d *DODAG) upsert(m *rplmsg.DIO, src netip.Addr, from ieee802154.Address) *neighbor {
	now := d.clk.Now()
	n := d.find(from)
	if n == nil {
		if len(d.nbrs) >= d.cfg.MaxNeighbors {
			// Evict the worst non-parent neighbour if the newcomer is better.
			worst := -1
			for i, x := range d.nbrs {
				if x == d.parent {
					continue
				}
				if worst < 0 || x.rank > d.nbrs[worst].rank {
					worst = i
				}
			}
			if worst < 0 || d.nbrs[worst].rank <= m.Rank {
				d.st.NeighborTableFull++
				return nil
			}
			d.nbrs = append(d.nbrs[:worst], d.nbrs[worst+1:]...)
		}
		n = &neighbor{mac: from, ll: src, dtsn: m.DTSN}
		d.nbrs = append(d.nbrs, n)
	}
	n.rank, n.version, n.lastDIO, n.lastHeard = m.Rank, m.Version, now, now
	return n
}

// tryJoin joins the DODAG of a DIO when not a member of any (RFC 6550
// §8.2.1): it needs the DODAG Configuration option, a supported objective
// and a Prefix Information option with the A flag to form an address.
func (d *DODAG) tryJoin(m *rplmsg.DIO, src netip.Addr, from ieee802154.Address) {
	if m.Rank == objective.InfiniteRank {
		return
	}
	conf, okc := m.Config()
	pio, okp := m.PrefixInfo()
	if !okc || !okp {
		// Solicit the full DIO with a unicast DIS (RFC 6550 §8.3).
		d.sendDIS(src)
		return
	}
	if !pio.Autonomous || pio.PrefixLen > 64 || !pio.Prefix.Is6() {
		d.st.Ignored++
		return
	}
	of, err := objective.New(conf.OCP, objective.Params{
		MinHopRankIncrease: conf.MinHopRankIncrease, MaxRankIncrease: conf.MaxRankIncrease})
	if err != nil {
		d.st.Ignored++
		return
	}
	if m.DODAGID == d.leftDODAG && d.clk.Now().Before(d.holdUntil) && !of.Params().Lesser(m.Rank, d.leftRank) {
		// Hold-down after a local repair: this may be a former descendant
		// that has not heard our poison yet.
		d.st.Ignored++
		return
	}
	d.gen++
	d.joined = true
	d.instance, d.dodagID, d.version, d.grounded = m.InstanceID, m.DODAGID, m.Version, m.Grounded
	d.dtsn = lollipopInit
	d.of = of
	d.adoptConf(m)
	d.pio = pio
	d.nbrs = d.nbrs[:0]
	d.parent = nil
	d.rank = objective.InfiniteRank
	d.lowestRank = objective.InfiniteRank
	d.daoWaiting, d.daoTries = false, 0
	stopTimer(&d.disT)
	if d.upsert(m, src, from) == nil {
		d.joined = false
		return
	}
	d.host.Joined(pio.Net(), m.DODAGID)
	d.joinedAt = d.clk.Now()
	d.st.Joins++
	d.log.Debug("rpl: joined", "node", d.lladdr.String(), "dodag", m.DODAGID, "version", m.Version)
	d.trickle.Start()
	d.selectParent()
	if !d.running {
		return
	}
	stopTimer(&d.probeT)
	d.probeT = d.after(d.cfg.ProbeInterval, d.probe)
}

// adoptConf takes the DODAG Configuration and prefix from a DIO of our DODAG.
func (d *DODAG) adoptConf(m *rplmsg.DIO) {
	if c, ok := m.Config(); ok && c != d.conf {
		d.conf = c
		if of, err := objective.New(c.OCP, objective.Params{MinHopRankIncrease: c.MinHopRankIncrease, MaxRankIncrease: c.MaxRankIncrease}); err == nil {
			d.of = of
		}
		im := min(c.DIOIntMin, 40)
		d.trickle.Reconfigure(time.Duration(uint64(1)<<im)*time.Millisecond, int(c.DIOIntDoublings), int(c.DIORedundancy))
	}
	if p, ok := m.PrefixInfo(); ok && p.Autonomous && p.PrefixLen <= 64 && p.Prefix.Is6() {
		d.pio = p
	}
}

// usable reports whether n may be (or stay) the preferred parent.
func (d *DODAG) usable(n *neighbor) bool {
	if n.version != d.version || n.rank == objective.InfiniteRank || n.fails >= d.cfg.ParentFailThreshold {
		return false
	}
	// Never pick a new parent at our DAGRank or deeper: it may be a
	// descendant (RFC 6550 §8.2.2.4). The incumbent may get worse (our
	// rank follows it): it only ever picks parents shallower than itself,
	// so it cannot have become our descendant without first poisoning.
	if n != d.parent && d.rank != objective.InfiniteRank && !d.of.Params().Lesser(n.rank, d.rank) {
		return false
	}
	return true
}

// selectParent runs the objective function over the neighbour table and
// updates the preferred parent and rank; with no acceptable parent it
// starts a local repair.
func (d *DODAG) selectParent() {
	if !d.joined || d.root != nil {
		return
	}
	var cands []objective.Candidate
	var who []*neighbor
	inc := -1
	for _, n := range d.nbrs {
		if !d.usable(n) {
			continue
		}
		if n == d.parent {
			inc = len(cands)
		}
		cands = append(cands, objective.Candidate{Rank: n.rank, ETX: n.etx.Value()})
		who = append(who, n)
	}
	best := objective.Best(d.of, cands, inc)
	if best < 0 {
		d.localRepair()
		return
	}
	p := who[best]
	rank := d.of.RankVia(cands[best])
	if d.lowestRank != objective.InfiniteRank && d.conf.MaxRankIncrease != 0 &&
		uint32(rank) > uint32(d.lowestRank)+uint32(d.conf.MaxRankIncrease) {
		// RFC 6550 §8.2.2.4: may not advertise a rank beyond L + DAGMaxRankIncrease.
		d.localRepair()
		return
	}
	changed := p != d.parent
	old := d.rank
	d.parent, d.rank = p, rank
	d.lowestRank = min(d.lowestRank, rank)
	if changed {
		d.st.ParentChanges++
		d.log.Debug("rpl: parent", "node", d.lladdr.String(), "parent", p.ll, "rank", rank)
		d.trickle.Reset()
		d.daoTries = 0
		d.scheduleDAO()
	} else if d.of.Params().DAGRank(old) != d.of.Params().DAGRank(rank) {
		d.trickle.Reset()
	}
}

// localRepair poisons the sub-DODAG, detaches and solicits DIOs (RFC 6550
// §8.2.2.5; RPL-Lite's rpl_local_repair).
func (d *DODAG) localRepair() {
	if !d.joined {
		return
	}
	d.st.LocalRepairs++
	d.log.Debug("rpl: local repair", "node", d.lladdr.String(), "dodag", d.dodagID)
	if d.rank != objective.InfiniteRank && !d.cfg.Leaf {
		// A leaf advertised INFINITE_RANK all along: nobody can have
		// chosen it as a parent, so there is nothing to poison.
		d.sendDIO(allRPLNodes, objective.InfiniteRank)
	}
	d.leftDODAG, d.leftRank = d.dodagID, d.rank
	if d.leftRank == objective.InfiniteRank {
		d.leftRank = d.lowestRank
	}
	d.holdUntil = d.clk.Now().Add(d.cfg.HoldDown)
	d.leave()
	d.sendDIS(allRPLNodes)
	d.scheduleDIS(d.cfg.DISInterval)
}

// leave forgets the DODAG.
func (d *DODAG) leave() {
	d.gen++
	d.joined = false
	d.parent = nil
	d.rank = objective.InfiniteRank
	d.nbrs = d.nbrs[:0]
	d.trickle.Stop()
	stopTimer(&d.daoT)
	stopTimer(&d.daoAckT)
	d.daoWaiting = false
	d.host.Left()
	stopTimer(&d.probeT)
	d.probeT = d.after(d.cfg.ProbeInterval, d.probe)
}

// probe checks on a parent not heard from for ProbeInterval with a
// unicast DIS; its link-layer outcome arrives through LinkResult.
func (d *DODAG) probe() {
	d.probeT = d.after(d.cfg.ProbeInterval/4, d.probe)
	if !d.joined || d.parent == nil {
		return
	}
	if d.clk.Since(d.parent.lastHeard) < d.cfg.ProbeInterval {
		return
	}
	d.st.Probes++
	d.sendDIS(d.parent.ll)
}

// scheduleDAO sends a DAO after a random delay in [DAODelay/2, DAODelay]
// (RPL-Lite aggregates parent changes the same way).
func (d *DODAG) scheduleDAO() {
	if d.root != nil || !d.joined {
		return
	}
	stopTimer(&d.daoT)
	half := d.cfg.DAODelay / 2
	d.daoT = d.after(half+time.Duration(d.rng.Int64N(int64(half)+1)), func() {
		d.daoT = nil
		d.sendDAO()
	})
}

// globalOf returns the address formed from the DODAG prefix and mac.
func (d *DODAG) globalOf(mac ieee802154.Address) netip.Addr {
	return lowpan.AddrFromPrefix(d.pio.Net(), mac)
}

// sendDAO sends our DAO to the root (non-storing, RFC 6550 §9.7): target
// our global address, transit our parent's global address.
func (d *DODAG) sendDAO() {
	if !d.joined || d.parent == nil {
		return
	}
	d.daoSeq = lollipopNext(d.daoSeq)
	d.pathSeq = lollipopNext(d.pathSeq)
	me := d.globalOf(d.lladdr)
	m := &rplmsg.DAO{
		InstanceID: d.instance, AckRequest: true, Seq: d.daoSeq,
		Options: []rplmsg.Option{
			rplmsg.Target{PrefixLen: 128, Prefix: me},
			rplmsg.Transit{PathSequence: d.pathSeq, PathLifetime: d.conf.DefaultLifetime, Parent: d.globalOf(d.parent.mac)},
		},
	}
	d.st.Tx.DAO++
	if d.daoTries > 0 {
		d.st.DAORetransmissions++
	}
	d.daoTries++
	d.daoWaiting = true
	d.host.SendRPL(d.dodagID, m)
	stopTimer(&d.daoAckT)
	d.daoAckT = d.after(d.cfg.DAOAckTimeout, d.daoAckTimeout)
}

func (d *DODAG) daoAckTimeout() {
	d.daoAckT = nil
	if !d.daoWaiting {
		return
	}
	if d.daoTries > d.cfg.DAOMaxRetries {
		d.st.DAOFailures++
		d.daoTries = 0
		d.daoWaiting = false
		if d.parent == nil || d.parent.fails > 0 {
			// The way up is failing: look for another (RPL-Lite does a
			// local repair after its DAO retransmissions).
			d.localRepair()
			return
		}
		// The parent acknowledges our frames, so the loss is further up or
		// on the way down (the root may have lost an ancestor's route and
		// will ask for fresh DAOs). Detaching would only take our
		// sub-DODAG down with us: back off and try again.
		stopTimer(&d.daoT)
		d.daoT = d.after(d.cfg.DAOAckTimeout*time.Duration(4+d.rng.IntN(4)), func() {
			d.daoT = nil
			d.sendDAO()
		})
		return
	}
	d.sendDAO()
}

// handleDAOAck completes a DAO exchange and schedules the refresh before
// the route lifetime ends (at half of it, randomised).
func (d *DODAG) handleDAOAck(a *rplmsg.DAOACK) {
	if d.root != nil || !d.joined || !d.daoWaiting || a.Seq != d.daoSeq || a.InstanceID != d.instance {
		return
	}
	d.daoWaiting = false
	d.daoTries = 0
	stopTimer(&d.daoAckT)
	if !a.Accepted() {
		d.st.DAONacks++
		return
	}
	d.st.DAOAcked++
	life := time.Duration(d.conf.DefaultLifetime) * time.Duration(d.conf.LifetimeUnit) * time.Second
	if life <= 0 {
		return
	}
	stopTimer(&d.daoT)
	refresh := life/2 + time.Duration(d.rng.Int64N(int64(life/4)+1))
	d.daoT = d.after(refresh, func() {
		d.daoT = nil
		d.sendDAO()
	})
}

// ParentLinkAddr returns the MAC address of the preferred parent: the
// node's default route.
func (d *DODAG) ParentLinkAddr() (ieee802154.Address, bool) {
	if !d.joined || d.parent == nil {
		return ieee802154.Address{}, false
	}
	return d.parent.mac, true
}
