package objective

// MRHOF constants for the ETX metric (RFC 6719 §5).
const (
	MaxLinkMetric         = 512   // MAX_LINK_METRIC: ETX 4
	MaxPathCost           = 32768 // MAX_PATH_COST: ETX 256
	ParentSwitchThreshold = 192   // PARENT_SWITCH_THRESHOLD: ETX 1.5
)

// MRHOF is the Minimum Rank with Hysteresis Objective Function with the ETX
// metric (RFC 6719). With no metric container in DIOs, a neighbour's
// advertised rank is its path cost (RFC 6719 §3.3, as Contiki-NG does).
type MRHOF struct{ p Params }

// NewMRHOF returns MRHOF with the given parameters.
func NewMRHOF(p Params) *MRHOF { return &MRHOF{p: p} }

func (m *MRHOF) OCP() uint16    { return OCPMRHOF }
func (m *MRHOF) Params() Params { return m.p }

// LinkMetric is the link's ETX·128 (RFC 6719 §3.1).
func (m *MRHOF) LinkMetric(c Candidate) uint16 { return uint16(c.etx()) }

// PathCost is the neighbour's path cost plus the link metric (RFC 6719 §3.1).
func (m *MRHOF) PathCost(c Candidate) uint32 {
	if c.Rank == InfiniteRank {
		return MaxPathCost + 1
	}
	return uint32(c.Rank) + uint32(m.LinkMetric(c))
}

// Acceptable excludes links worse than MAX_LINK_METRIC and paths costlier
// than MAX_PATH_COST (RFC 6719 §3.2.2).
func (m *MRHOF) Acceptable(c Candidate) bool {
	return c.Rank != InfiniteRank && m.LinkMetric(c) <= MaxLinkMetric && m.PathCost(c) <= MaxPathCost
}

// RankVia is the larger of the path cost and the parent's rank rounded up
// to the next DAGRank (RFC 6719 §3.3, with the preferred parent as the
// only member of the parent set, as RPL-Lite keeps it).
func (m *MRHOF) RankVia(c Candidate) uint16 {
	if !m.Acceptable(c) {
		return InfiniteRank
	}
	h := uint32(m.p.minHop())
	next := h * (1 + uint32(c.Rank)/h)
	return add(max(m.PathCost(c), next), 0)
}

// Prefer switches only for a path cheaper by more than
// PARENT_SWITCH_THRESHOLD (RFC 6719 §3.2.2).
func (m *MRHOF) Prefer(incumbent, challenger Candidate) bool {
	if !m.Acceptable(challenger) {
		return false
	}
	if !m.Acceptable(incumbent) {
		return true
	}
	return m.PathCost(challenger)+ParentSwitchThreshold < m.PathCost(incumbent)
}
