package mobility

import (
	"sync"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// Mover applies models to a medium: every Tick (default 1 s) it sets each
// mote's position to its model's position at the time since the Mover was
// made.
type Mover struct {
	md    *medium.Medium
	clk   clock.Clock
	tick  time.Duration
	start time.Time

	mu      sync.Mutex
	nodes   []moving
	timer   clock.Timer
	stopped bool
	moves   uint64
}

type moving struct {
	addr  ieee802154.Address
	model Model
}

// NewMover returns a mover for md on clk; call Add, then Start.
func NewMover(md *medium.Medium, clk clock.Clock, tick time.Duration) *Mover {
	if tick <= 0 {
		tick = time.Second
	}
	return &Mover{md: md, clk: clk, tick: tick, start: clk.Now()}
}

// Add moves the mote with MAC address addr along model, placing it now.
func (mv *Mover) Add(addr ieee802154.Address, model Model) {
	mv.mu.Lock()
	mv.nodes = append(mv.nodes, moving{addr, model})
	mv.mu.Unlock()
	mv.md.SetPosition(addr, model.Position(mv.clk.Since(mv.start)))
}

// Start arms the periodic update.
func (mv *Mover) Start() {
	mv.mu.Lock()
	defer mv.mu.Unlock()
	if mv.timer == nil && !mv.stopped {
		mv.timer = mv.clk.AfterFunc(mv.tick, mv.update)
	}
}

func (mv *Mover) update() {
	t := mv.clk.Since(mv.start)
	mv.mu.Lock()
	if mv.stopped {
		mv.mu.Unlock()
		return
	}
	nodes := mv.nodes
	mv.moves++
	mv.timer.Reset(mv.tick)
	mv.mu.Unlock()
	for _, n := range nodes {
		mv.md.SetPosition(n.addr, n.model.Position(t))
	}
}

// Updates is the number of periodic updates so far.
func (mv *Mover) Updates() uint64 {
	mv.mu.Lock()
	defer mv.mu.Unlock()
	return mv.moves
}

// Stop ends the updates. It is idempotent.
func (mv *Mover) Stop() {
	mv.mu.Lock()
	defer mv.mu.Unlock()
	mv.stopped = true
	if mv.timer != nil {
		mv.timer.Stop()
	}
}
