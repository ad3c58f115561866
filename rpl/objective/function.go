package objective

import "strconv"

// Objective Code Points (RFC 6550 §20.6 registry).
const (
	OCP0     uint16 = 0 // RFC 6552
	OCPMRHOF uint16 = 1 // RFC 6719
)

// Candidate is a neighbour that may become the preferred parent.
type Candidate struct {
	Rank uint16 // the rank it advertises in its DIOs
	ETX  ETX    // the estimated ETX of the link to it; 0 reads as InitialETX
}

func (c Candidate) etx() ETX {
	if c.ETX == 0 {
		return InitialETX
	}
	return c.ETX
}

// Function is an objective function.
type Function interface {
	// OCP is the Objective Code Point advertised in the DODAG Configuration.
	OCP() uint16
	// Params returns the rank parameters the function was built with.
	Params() Params
	// Acceptable reports whether c may be a parent at all.
	Acceptable(c Candidate) bool
	// RankVia is the rank this node advertises with c as preferred parent;
	// InfiniteRank when c is not acceptable.
	RankVia(c Candidate) uint16
	// Prefer reports whether challenger should replace incumbent as the
	// preferred parent (hysteresis keeps the incumbent on near ties).
	Prefer(incumbent, challenger Candidate) bool
}

// New returns the function for ocp with the DODAG's rank parameters.
func New(ocp uint16, p Params) (Function, error) {
	switch ocp {
	case OCP0:
		return NewOF0(p, OF0Options{}), nil
	case OCPMRHOF:
		return NewMRHOF(p), nil
	}
	return nil, UnknownOCPError(ocp)
}

// UnknownOCPError is returned by New for an objective it does not implement;
// RFC 6550 §18.6 says such a DODAG may only be joined as a leaf.
type UnknownOCPError uint16

func (e UnknownOCPError) Error() string {
	return "objective: unsupported objective code point " + strconv.Itoa(int(e))
}

// Best returns the index of the preferred parent among cands, keeping
// incumbent (an index into cands, or -1) unless f prefers another; -1 when
// no candidate is acceptable.
func Best(f Function, cands []Candidate, incumbent int) int {
	best := -1
	if incumbent >= 0 && incumbent < len(cands) && f.Acceptable(cands[incumbent]) {
		best = incumbent
	}
	for i, c := range cands {
		if i == best || !f.Acceptable(c) {
			continue
		}
		if best < 0 {
			best = i
			continue
		}
		if best == incumbent {
			if f.Prefer(cands[best], c) {
				best = i
			}
			continue
		}
		// Neither is the incumbent: no hysteresis, lower rank wins.
		if f.RankVia(c) < f.RankVia(cands[best]) {
			best = i
		}
	}
	return best
}
