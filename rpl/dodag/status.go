package dodag

import (
	"net/netip"
	"sort"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// MessageCounts counts RPL control messages by type.
type MessageCounts struct {
	DIS, DIO, DAO, DAOACK uint64
}

// Total is the sum over types.
func (m MessageCounts) Total() uint64 { return m.DIS + m.DIO + m.DAO + m.DAOACK }

// Stats are a DODAG's counters.
type Stats struct {
	Tx, Rx             MessageCounts
	Joins              uint64 // DODAGs joined
	ParentChanges      uint64
	ParentUnreachable  uint64 // parents dropped for failed link-layer delivery
	LocalRepairs       uint64
	GlobalRepairs      uint64 // versions adopted (node) or started (root)
	PoisonSent         uint64 // DIOs with INFINITE_RANK
	Probes             uint64 // unicast DIS to a silent parent
	DAORetransmissions uint64
	DAOAcked           uint64
	DAONacks           uint64
	DAOFailures        uint64
	ForeignDIOs        uint64 // DIOs of other DODAGs heard while joined
	NeighborTableFull  uint64
	Ignored            uint64
	Malformed          uint64
	// Root only.
	RoutesAdded, RoutesExpired, RoutesDropped, NoPathDAOs, RouteLoops uint64
	RouteErrors                                                       uint64 // delivery failures reported by forwarding nodes
	RouteRefreshes                                                    uint64 // DTSN increments made to heal broken routes
}

// Status is a snapshot of the node's RPL state.
type Status struct {
	Root       bool
	Joined     bool
	InstanceID uint8
	DODAGID    netip.Addr
	Version    uint8
	Rank       uint16
	DAGRank    uint16
	OCP        uint16
	Prefix     netip.Prefix
	Parent     netip.Addr         // link-local address of the preferred parent
	ParentMAC  ieee802154.Address //
	Neighbors  int
	Routes     int // root only
	JoinedAt   time.Time
	StartedAt  time.Time
	// Foreign lists other DODAGs (areas) heard in the last minute, most
	// recent first: a hint that the node is entering another area.
	Foreign []netip.Addr
	Stats   Stats
}

// foreignWindow is how long a heard foreign DODAG stays in Status.Foreign.
const foreignWindow = time.Minute

// Status returns a snapshot.
func (d *DODAG) Status() Status {
	s := Status{
		Root: d.root != nil, Joined: d.joined, InstanceID: d.instance, DODAGID: d.dodagID,
		Version: d.version, Rank: d.rank, Neighbors: len(d.nbrs), JoinedAt: d.joinedAt,
		StartedAt: d.startedAt, Stats: d.st, Prefix: d.pio.Net(),
	}
	if d.of != nil {
		s.DAGRank = d.of.Params().DAGRank(d.rank)
		s.OCP = d.of.OCP()
	}
	if d.parent != nil {
		s.Parent, s.ParentMAC = d.parent.ll, d.parent.mac
	}
	if d.root != nil {
		s.Routes = len(d.root.routes)
	}
	now := d.clk.Now()
	type fa struct {
		a netip.Addr
		t time.Time
	}
	var fs []fa
	for a, t := range d.foreign {
		if now.Sub(t) > foreignWindow {
			delete(d.foreign, a)
			continue
		}
		fs = append(fs, fa{a, t})
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].t.After(fs[j].t) })
	for _, f := range fs {
		s.Foreign = append(s.Foreign, f.a)
	}
	return s
}
