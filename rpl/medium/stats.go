package medium

import (
	"sort"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// LinkStats counts frames over one directed link: Offered frames were sent
// while the receiver was in range; Delivered ones survived the loss draws.
type LinkStats struct {
	From, To  ieee802154.Address
	Offered   uint64
	Delivered uint64
}

// Ratio is Delivered/Offered (0 when nothing was offered).
func (l LinkStats) Ratio() float64 {
	if l.Offered == 0 {
		return 0
	}
	return float64(l.Delivered) / float64(l.Offered)
}

// NodeStats counts what the medium carried for one node.
type NodeStats struct {
	Addr               ieee802154.Address
	TxFrames, TxOctets uint64
	RxFrames, RxOctets uint64
}

// Stats is a snapshot of the medium's counters.
type Stats struct {
	Frames, Octets uint64            // frames put on the air, and their PSDU octets
	Bad            map[string]uint64 // datagrams refused, by reason
	Links          []LinkStats       // sorted by From, then To
	Nodes          []NodeStats       // sorted by address
}

type counters struct {
	frames, octets uint64
	bad            map[string]uint64
	links          map[linkKey]*LinkStats
	nodes          map[ieee802154.Address]*NodeStats
}

func newCounters() counters {
	return counters{
		bad:   make(map[string]uint64),
		links: make(map[linkKey]*LinkStats),
		nodes: make(map[ieee802154.Address]*NodeStats),
	}
}

func (c *counters) link(from, to ieee802154.Address) *LinkStats {
	k := linkKey{from, to}
	l := c.links[k]
	if l == nil {
		l = &LinkStats{From: from, To: to}
		c.links[k] = l
	}
	return l
}

func (c *counters) node(a ieee802154.Address) *NodeStats {
	n := c.nodes[a]
	if n == nil {
		n = &NodeStats{Addr: a}
		c.nodes[a] = n
	}
	return n
}

func (n *NodeStats) tx(octets int) { n.TxFrames++; n.TxOctets += uint64(octets) }
func (n *NodeStats) rx(octets int) { n.RxFrames++; n.RxOctets += uint64(octets) }

// Stats returns a snapshot of the counters.
func (m *Medium) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := Stats{Frames: m.stats.frames, Octets: m.stats.octets, Bad: make(map[string]uint64, len(m.stats.bad))}
	for k, v := range m.stats.bad {
		s.Bad[k] = v
	}
	for _, l := range m.stats.links {
		s.Links = append(s.Links, *l)
	}
	for _, n := range m.stats.nodes {
		s.Nodes = append(s.Nodes, *n)
	}
	sort.Slice(s.Links, func(i, j int) bool {
		a, b := s.Links[i], s.Links[j]
		if a.From != b.From {
			return addrLess(a.From, b.From)
		}
		return addrLess(a.To, b.To)
	})
	sort.Slice(s.Nodes, func(i, j int) bool { return addrLess(s.Nodes[i].Addr, s.Nodes[j].Addr) })
	return s
}

// Node returns the counters of one node.
func (m *Medium) Node(a ieee802154.Address) NodeStats {
	m.mu.Lock()
	defer m.mu.Unlock()
	if n := m.stats.nodes[a]; n != nil {
		return *n
	}
	return NodeStats{Addr: a}
}

func addrLess(a, b ieee802154.Address) bool {
	if a.Mode != b.Mode {
		return a.Mode < b.Mode
	}
	if a.Mode == ieee802154.AddrShort {
		return a.Short < b.Short
	}
	for i := range a.Ext {
		if a.Ext[i] != b.Ext[i] {
			return a.Ext[i] < b.Ext[i]
		}
	}
	return false
}

// Report is Stats in a form for JSON output and tables: addresses as text.
type Report struct {
	Frames uint64            `json:"frames"`
	Octets uint64            `json:"octets"`
	Bad    map[string]uint64 `json:"bad,omitempty"`
	Links  []LinkReport      `json:"links"`
	Nodes  []NodeReport      `json:"nodes"`
}

// LinkReport is one directed link's delivery counters.
type LinkReport struct {
	From      string  `json:"from"`
	To        string  `json:"to"`
	Offered   uint64  `json:"offered"`
	Delivered uint64  `json:"delivered"`
	Ratio     float64 `json:"ratio"`
}

// NodeReport is what the medium carried for one node.
type NodeReport struct {
	Addr     string `json:"addr"`
	TxFrames uint64 `json:"tx_frames"`
	TxOctets uint64 `json:"tx_octets"`
	RxFrames uint64 `json:"rx_frames"`
	RxOctets uint64 `json:"rx_octets"`
}

// Report converts s.
func (s Stats) Report() Report {
	r := Report{Frames: s.Frames, Octets: s.Octets, Bad: s.Bad, Links: []LinkReport{}, Nodes: []NodeReport{}}
	for _, l := range s.Links {
		r.Links = append(r.Links, LinkReport{From: l.From.String(), To: l.To.String(),
			Offered: l.Offered, Delivered: l.Delivered, Ratio: l.Ratio()})
	}
	for _, n := range s.Nodes {
		r.Nodes = append(r.Nodes, NodeReport{Addr: n.Addr.String(), TxFrames: n.TxFrames, TxOctets: n.TxOctets,
			RxFrames: n.RxFrames, RxOctets: n.RxOctets})
	}
	return r
}
