package objective

// OF0 constants (RFC 6552 §6.3).
const (
	DefaultRankFactor  = 1 // Rf
	DefaultStepOfRank  = 3 // Sp
	MinimumStepOfRank  = 1
	MaximumStepOfRank  = 9
	DefaultRankStretch = 0 // Sr
	MaximumRankStretch = 5
	MaximumRankFactor  = 4
)

// OF0Options tune OF0.
type OF0Options struct {
	// RankFactor is Rf (RFC 6552 §4.1); 0 means DefaultRankFactor.
	RankFactor int
	// RankStretch is Sr, at most MaximumRankStretch.
	RankStretch int
	// StepFromETX derives the step of rank Sp from the link's ETX as
	// 3·ETX − 2, clamped to [1, 9] (so a perfect link is 1 and ETX 2 is 4),
	// as RFC 6552 §4.1 allows ("computed from link properties"); otherwise
	// Sp is DefaultStepOfRank for every link, a pure hop count.
	StepFromETX bool
}

// OF0 is Objective Function Zero (RFC 6552).
type OF0 struct {
	p   Params
	opt OF0Options
}

// NewOF0 returns OF0 with the given parameters.
func NewOF0(p Params, opt OF0Options) *OF0 {
	if opt.RankFactor <= 0 {
		opt.RankFactor = DefaultRankFactor
	}
	opt.RankFactor = min(opt.RankFactor, MaximumRankFactor)
	opt.RankStretch = min(max(opt.RankStretch, 0), MaximumRankStretch)
	return &OF0{p: p, opt: opt}
}

func (o *OF0) OCP() uint16    { return OCP0 }
func (o *OF0) Params() Params { return o.p }

// Step returns the step of rank Sp for candidate c.
func (o *OF0) Step(c Candidate) int {
	if !o.opt.StepFromETX {
		return DefaultStepOfRank
	}
	sp := 3*int(c.etx())/ETXDivisor - 2
	return min(max(sp, MinimumStepOfRank), MaximumStepOfRank)
}

// RankIncrease is (Rf·Sp + Sr)·MinHopRankIncrease (RFC 6552 §4.1).
func (o *OF0) RankIncrease(c Candidate) uint16 {
	inc := uint32(o.opt.RankFactor*o.Step(c)+o.opt.RankStretch) * uint32(o.p.minHop())
	if inc > uint32(InfiniteRank) {
		return InfiniteRank
	}
	return uint16(inc)
}

// Acceptable: a parent must have a finite rank.
func (o *OF0) Acceptable(c Candidate) bool {
	return c.Rank != InfiniteRank && o.RankVia(c) != InfiniteRank
}

// RankVia is R(P) + rank_increase (RFC 6552 §4.1).
func (o *OF0) RankVia(c Candidate) uint16 {
	if c.Rank == InfiniteRank {
		return InfiniteRank
	}
	return add(uint32(c.Rank), uint32(o.RankIncrease(c)))
}

// Prefer: the lower resulting rank wins; on a tie in DAGRank the incumbent
// stays (RFC 6552 §4.2.1).
func (o *OF0) Prefer(incumbent, challenger Candidate) bool {
	if !o.Acceptable(challenger) {
		return false
	}
	if !o.Acceptable(incumbent) {
		return true
	}
	return o.p.Lesser(o.RankVia(challenger), o.RankVia(incumbent))
}
