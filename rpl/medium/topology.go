package medium

import (
	"math"

	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
)

// Model selects how the medium decides who hears whom.
type Model uint8

const (
	// ModelDisk is the unit-disk model: positions and Range, with explicit
	// links overriding pairs that have them.
	ModelDisk Model = iota
	// ModelLinks delivers only over explicit links.
	ModelLinks
)

// Position is a node's place on the floor, in metres.
type Position struct{ X, Y float64 }

// Distance returns the Euclidean distance between p and q.
func (p Position) Distance(q Position) float64 { return math.Hypot(p.X-q.X, p.Y-q.Y) }

type linkKey struct{ from, to ieee802154.Address }

// SetPosition places (or moves) the node with MAC address a.
func (m *Medium) SetPosition(a ieee802154.Address, p Position) {
	m.mu.Lock()
	m.pos[a] = p
	if e := m.byAddr[a]; e != nil {
		e.pos, e.placed = p, true
	}
	m.mu.Unlock()
}

// Unplace removes a node's position: it hears and is heard by no one
// except over explicit links.
func (m *Medium) Unplace(a ieee802154.Address) {
	m.mu.Lock()
	delete(m.pos, a)
	if e := m.byAddr[a]; e != nil {
		e.placed = false
	}
	m.mu.Unlock()
}

// PositionOf returns a node's position.
func (m *Medium) PositionOf(a ieee802154.Address) (Position, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.pos[a]
	return p, ok
}

// SetLink sets the probability that a frame from `from` reaches `to`
// (directed), overriding the disk model for that pair. p <= 0 cuts the link.
func (m *Medium) SetLink(from, to ieee802154.Address, p float64) {
	m.mu.Lock()
	m.links[linkKey{from, to}] = min(max(p, 0), 1)
	m.mu.Unlock()
}

// ClearLink removes an explicit link, returning the pair to the disk model.
func (m *Medium) ClearLink(from, to ieee802154.Address) {
	m.mu.Lock()
	delete(m.links, linkKey{from, to})
	m.mu.Unlock()
}

// LinkProbability returns the probability that a frame from `from` reaches
// `to`, before the global Loss.
func (m *Medium) LinkProbability(from, to ieee802154.Address) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.probLocked(from, to)
}

func (m *Medium) probLocked(from, to ieee802154.Address) float64 {
	if p, ok := m.links[linkKey{from, to}]; ok {
		return p
	}
	if m.cfg.Model != ModelDisk {
		return 0
	}
	a, ok1 := m.pos[from]
	b, ok2 := m.pos[to]
	if !ok1 || !ok2 {
		return 0
	}
	return diskProbability(a.Distance(b), m.cfg.Range, m.cfg.EdgeLoss)
}

// epProbLocked is probLocked for two bound endpoints, without map lookups
// or square roots on the common path (the per-frame hot loop).
func (m *Medium) epProbLocked(src, dst *endpoint) float64 {
	if len(m.links) > 0 {
		if p, ok := m.links[linkKey{src.addr, dst.addr}]; ok {
			return p
		}
	}
	if m.cfg.Model != ModelDisk || !src.placed || !dst.placed {
		return 0
	}
	dx, dy := src.pos.X-dst.pos.X, src.pos.Y-dst.pos.Y
	d2, r2 := dx*dx+dy*dy, m.cfg.Range*m.cfg.Range
	if r2 <= 0 || d2 > r2 {
		return 0
	}
	return 1 - m.cfg.EdgeLoss*d2/r2
}

// diskProbability is Cooja UDGM's reception ratio: 1 − EdgeLoss·(d/R)²
// inside the range, nothing outside it.
func diskProbability(d, r, edgeLoss float64) float64 {
	if r <= 0 || d > r {
		return 0
	}
	f := d / r
	return 1 - edgeLoss*f*f
}
