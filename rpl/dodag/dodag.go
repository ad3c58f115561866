package dodag

import (
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/lowpan"
	"github.com/lsmqtt/lsmqtt/rpl/objective"
	"github.com/lsmqtt/lsmqtt/rpl/rplmsg"
	"github.com/lsmqtt/lsmqtt/rpl/trickle"
)

// Host is what the state machine needs from the node's stack. Its methods
// are called with Config.Locker held.
type Host interface {
	// SendRPL sends an RPL control message (ICMPv6 type 155) to dst: from
	// the link-local address to multicast and link-local destinations, from
	// the global address otherwise, routed as any packet.
	SendRPL(dst netip.Addr, m rplmsg.Message)
	// Joined tells the stack its DODAG prefix (context 0, global address)
	// and the root's address.
	Joined(prefix netip.Prefix, root netip.Addr)
	// Left tells the stack it no longer belongs to a DODAG.
	Left()
}

// ErrConfig reports an unusable configuration.
var ErrConfig = errors.New("dodag: invalid configuration")

// DODAG is one node's RPL state. See the package documentation for the
// locking rule.
type DODAG struct {
	cfg    Config
	host   Host
	clk    clock.Clock
	log    *slog.Logger
	rng    *rand.Rand
	lladdr ieee802154.Address
	ll     netip.Addr

	running bool
	joined  bool
	// The DODAG we belong to.
	instance   uint8
	dodagID    netip.Addr
	version    uint8
	grounded   bool
	dtsn       uint8 // ours
	conf       rplmsg.DODAGConfig
	pio        rplmsg.PrefixInfo
	of         objective.Function
	rank       uint16
	lowestRank uint16
	parent     *neighbor
	nbrs       []*neighbor
	joinedAt   time.Time
	startedAt  time.Time
	// After a local repair: the DODAG we left, the rank we had, and until
	// when we may only rejoin it below that rank.
	leftDODAG netip.Addr
	leftRank  uint16
	holdUntil time.Time

	trickle   *trickle.Timer
	disT      clock.Timer
	disPeriod time.Duration
	probeT    clock.Timer
	daoT      clock.Timer
	daoAckT   clock.Timer
	gen       uint64 // invalidates timers of an earlier DODAG membership

	daoSeq     uint8
	pathSeq    uint8
	daoWaiting bool
	daoTries   int

	foreign map[netip.Addr]time.Time // other DODAGs heard recently

	root *rootState
	st   Stats
}

// neighbor is one entry of the bounded neighbour table.
type neighbor struct {
	mac       ieee802154.Address
	ll        netip.Addr
	rank      uint16
	version   uint8
	dtsn      uint8
	lastDIO   time.Time
	lastHeard time.Time
	etx       objective.LinkETX
	fails     int // consecutive unicast frames lost after all retries
}

// New returns a stopped DODAG for the node with MAC address lladdr.
func New(cfg Config, host Host, lladdr ieee802154.Address) (*DODAG, error) {
	cfg.defaults()
	if cfg.Root && (!cfg.Prefix.IsValid() || !cfg.Prefix.Addr().Is6() || cfg.Prefix.Bits() > 64) {
		return nil, errors.Join(ErrConfig, errors.New("a root needs an IPv6 prefix of at most /64"))
	}
	d := &DODAG{
		cfg: cfg, host: host, clk: cfg.Clock, log: cfg.Logger,
		rng:     rand.New(rand.NewPCG(cfg.Seed, 0x646f646167)),
		lladdr:  lladdr,
		ll:      lowpan.LinkLocal(lladdr),
		foreign: make(map[netip.Addr]time.Time),
		rank:    objective.InfiniteRank,
	}
	tc := trickle.FromRPL(cfg.DIOIntervalMin, cfg.DIOIntervalDoublings, cfg.DIORedundancy)
	tc.Clock = cfg.Clock
	tc.Seed = cfg.Seed ^ 0x74726b
	d.trickle = trickle.New(tc, func() { d.locked(d.sendDIOMulticast) })
	if cfg.Root {
		d.root = newRootState()
	}
	return d, nil
}

// locked runs f with the host's lock held, unless the DODAG has stopped.
func (d *DODAG) locked(f func()) {
	d.cfg.Locker.Lock()
	defer d.cfg.Locker.Unlock()
	if d.running {
		f()
	}
}

// after schedules f (under the lock) in dur, bound to the current
// membership generation.
func (d *DODAG) after(dur time.Duration, f func()) clock.Timer {
	gen := d.gen
	return d.clk.AfterFunc(dur, func() {
		d.locked(func() {
			if d.gen == gen {
				f()
			}
		})
	})
}

func stopTimer(t *clock.Timer) {
	if *t != nil {
		(*t).Stop()
		*t = nil
	}
}

// Start begins operation: a root forms its DODAG and starts its DIO
// Trickle timer; a node starts soliciting DIOs.
func (d *DODAG) Start() {
	if d.running {
		return
	}
	d.running = true
	d.startedAt = d.clk.Now()
	if d.cfg.Root {
		d.startRoot()
		return
	}
	d.scheduleDIS(time.Duration(d.rng.Int64N(int64(d.cfg.DISStartDelay) + 1)))
	d.probeT = d.after(d.cfg.ProbeInterval, d.probe)
}

// Stop halts all timers. It is idempotent.
func (d *DODAG) Stop() {
	if !d.running {
		return
	}
	d.running = false
	d.gen++
	d.trickle.Stop()
	stopTimer(&d.disT)
	stopTimer(&d.probeT)
	stopTimer(&d.daoT)
	stopTimer(&d.daoAckT)
	if d.root != nil {
		stopTimer(&d.root.sweepT)
	}
}

// Input handles an RPL control message (decoded by package rplmsg, its
// ICMPv6 checksum verified) from src to dst, heard from the neighbour with
// MAC address from.
func (d *DODAG) Input(m rplmsg.Message, src, dst netip.Addr, from ieee802154.Address) {
	if !d.running {
		return
	}
	switch m := m.(type) {
	case *rplmsg.DIS:
		d.st.Rx.DIS++
		d.handleDIS(src, dst)
	case *rplmsg.DIO:
		d.st.Rx.DIO++
		if !src.IsLinkLocalUnicast() {
			d.st.Malformed++
			return
		}
		d.handleDIO(m, src, from)
	case *rplmsg.DAO:
		d.st.Rx.DAO++
		if d.root != nil {
			d.handleDAO(m, src)
		}
	case *rplmsg.DAOACK:
		d.st.Rx.DAOACK++
		d.handleDAOAck(m)
	default:
		d.st.Ignored++
	}
}

// Heard notes link activity from a neighbour (any frame addressed to us
// or broadcast).
func (d *DODAG) Heard(from ieee802154.Address) {
	if n := d.find(from); n != nil {
		n.lastHeard = d.clk.Now()
	}
}

// LinkResult is the outcome of a unicast frame to neighbour to: tries
// transmissions, acknowledged or not. It feeds the ETX estimate and parent
// loss detection.
func (d *DODAG) LinkResult(to ieee802154.Address, tries int, acked bool) {
	if !d.running {
		return
	}
	n := d.find(to)
	if n == nil {
		return
	}
	n.etx.Update(tries, acked)
	if acked {
		n.fails = 0
		n.lastHeard = d.clk.Now()
		return
	}
	n.fails++
	if n == d.parent && n.fails < d.cfg.ParentFailThreshold {
		// Urgent probing: confirm at once rather than at the next probe
		// period (RPL-Lite probes urgently too, but only every few seconds).
		d.st.Probes++
		d.sendDIS(n.ll)
		return
	}
	if n == d.parent {
		d.st.ParentUnreachable++
		d.log.Debug("rpl: parent unreachable", "node", d.lladdr.String(), "parent", n.ll)
		d.selectParent()
	}
}

// handleDIS answers a DIS (RFC 6550 §8.3): a multicast DIS resets the
// Trickle timer, a unicast one gets a unicast DIO.
func (d *DODAG) handleDIS(src, dst netip.Addr) {
	if !d.joined {
		return
	}
	if dst.IsMulticast() {
		d.trickle.Reset()
		return
	}
	d.sendDIO(src, d.advertisedRank())
}

// advertisedRank is the rank our DIOs carry: INFINITE_RANK for a leaf
// (RFC 6550 §8.5), else our rank.
func (d *DODAG) advertisedRank() uint16 {
	if d.cfg.Leaf && d.root == nil {
		return objective.InfiniteRank
	}
	return d.rank
}

// sendDIOMulticast is the Trickle transmission; a leaf suppresses it (RFC
// 6550 §8.5).
func (d *DODAG) sendDIOMulticast() {
	if d.joined && !(d.cfg.Leaf && d.root == nil) {
		d.sendDIO(allRPLNodes, d.rank)
	}
}

var allRPLNodes = netip.MustParseAddr("ff02::1a")

// sendDIO sends a DIO advertising rank to dst.
func (d *DODAG) sendDIO(dst netip.Addr, rank uint16) {
	m := &rplmsg.DIO{
		InstanceID: d.instance, Version: d.version, Rank: rank, Grounded: d.grounded,
		MOP: rplmsg.MOPNonStoring, DTSN: d.dtsn, DODAGID: d.dodagID,
		Options: []rplmsg.Option{d.conf, d.pio},
	}
	d.st.Tx.DIO++
	if rank == objective.InfiniteRank {
		d.st.PoisonSent++
	}
	d.host.SendRPL(dst, m)
}

// scheduleDIS solicits DIOs after `after`, then again and again while
// detached, the period doubling from DISInterval up to DISMaxInterval: a
// node out of every mesh's range does not keep the channel busy.
func (d *DODAG) scheduleDIS(after time.Duration) {
	d.disPeriod = d.cfg.DISInterval
	d.armDIS(after)
}

func (d *DODAG) armDIS(after time.Duration) {
	stopTimer(&d.disT)
	d.disT = d.after(after, func() {
		if d.joined {
			return
		}
		d.sendDIS(allRPLNodes)
		next := d.disPeriod
		d.disPeriod = min(2*d.disPeriod, d.cfg.DISMaxInterval)
		d.armDIS(next)
	})
}

// sendDIS sends a DIS with no options (RFC 6550 §6.2).
func (d *DODAG) sendDIS(dst netip.Addr) {
	d.st.Tx.DIS++
	d.host.SendRPL(dst, &rplmsg.DIS{})
}

func (d *DODAG) find(mac ieee802154.Address) *neighbor {
	for _, n := range d.nbrs {
		if n.mac == mac {
			return n
		}
	}
	return nil
}
