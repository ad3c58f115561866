package objective

// Rank constants (RFC 6550 §17).
const (
	// InfiniteRank is 0xFFFF: the node has no path to the root (RFC 6550 §17).
	InfiniteRank uint16 = 0xFFFF
	// DefaultMinHopRankIncrease is the RFC 6550 §17 default, 256.
	DefaultMinHopRankIncrease uint16 = 256
	// ContikiMinHopRankIncrease is Contiki-NG RPL-Lite's RPL_MIN_HOPRANKINC, 128,
	// which makes a rank equal to a path ETX·128 under MRHOF.
	ContikiMinHopRankIncrease uint16 = 128
	// DefaultMaxRankIncrease is RFC 6550 §17's DEFAULT_MAX_RANK_INCREASE
	// (7·MinHopRankIncrease for the default 256).
	DefaultMaxRankIncrease uint16 = 7 * DefaultMinHopRankIncrease
)

// Params are the DODAG-wide rank parameters from the DODAG Configuration
// option (RFC 6550 §6.7.6).
type Params struct {
	MinHopRankIncrease uint16
	MaxRankIncrease    uint16
}

func (p Params) minHop() uint16 {
	if p.MinHopRankIncrease == 0 {
		return DefaultMinHopRankIncrease
	}
	return p.MinHopRankIncrease
}

// RootRank is the rank of a DODAG root: ROOT_RANK = MinHopRankIncrease
// (RFC 6550 §8.2.2.1).
func (p Params) RootRank() uint16 { return p.minHop() }

// DAGRank is floor(rank / MinHopRankIncrease), the integer part used when
// comparing ranks (RFC 6550 §3.5.1).
func (p Params) DAGRank(rank uint16) uint16 { return rank / p.minHop() }

// Lesser reports whether rank a is strictly less than rank b in DAGRank
// terms (RFC 6550 §3.5.1): a node may only take parents of lesser rank.
func (p Params) Lesser(a, b uint16) bool { return p.DAGRank(a) < p.DAGRank(b) }

// add returns a+b saturated at InfiniteRank.
func add(a, b uint32) uint16 {
	if s := a + b; s < uint32(InfiniteRank) {
		return uint16(s)
	}
	return InfiniteRank
}
