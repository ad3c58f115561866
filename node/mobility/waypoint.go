package mobility

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// WaypointConfig configures a RandomWaypoint model.
type WaypointConfig struct {
	Plan *Plan
	// Rooms restricts destinations to these rooms of the plan (empty:
	// anywhere within the bounds).
	Rooms []string
	// Walking speed in m/s, drawn per leg from [MinSpeed, MaxSpeed]
	// (default 0.5–1.5, a patient's walk).
	MinSpeed, MaxSpeed float64
	// Pause between legs, drawn from [MinPause, MaxPause] (default 30 s –
	// 5 min).
	MinPause, MaxPause time.Duration
	// Start is the first position; nil: a random destination.
	Start *Point
	Seed  uint64
}

// RandomWaypoint is the random waypoint model. Its path is drawn lazily,
// leg by leg, from its seed: the same seed gives the same path. It is safe
// for concurrent use.
type RandomWaypoint struct {
	cfg   WaypointConfig
	rooms []Room

	mu   sync.Mutex
	rng  *rand.Rand
	legs []leg
}

// NewRandomWaypoint returns a model.
func NewRandomWaypoint(cfg WaypointConfig) (*RandomWaypoint, error) {
	if cfg.Plan == nil {
		return nil, fmt.Errorf("%w: no plan", ErrPlan)
	}
	if err := cfg.Plan.Validate(); err != nil {
		return nil, err
	}
	if cfg.MinSpeed <= 0 {
		cfg.MinSpeed = 0.5
	}
	if cfg.MaxSpeed < cfg.MinSpeed {
		cfg.MaxSpeed = max(cfg.MinSpeed, 1.5)
	}
	if cfg.MinPause <= 0 && cfg.MaxPause <= 0 {
		cfg.MinPause, cfg.MaxPause = 30*time.Second, 5*time.Minute
	}
	if cfg.MaxPause < cfg.MinPause {
		cfg.MaxPause = cfg.MinPause
	}
	if !finite(cfg.MinSpeed) || !finite(cfg.MaxSpeed) {
		return nil, fmt.Errorf("%w: speeds must be finite", ErrPlan)
	}
	w := &RandomWaypoint{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 0x6d6f62696c697479))}
	for _, name := range cfg.Rooms {
		r, ok := cfg.Plan.Room(name)
		if !ok {
			return nil, fmt.Errorf("%w: no room %q", ErrPlan, name)
		}
		w.rooms = append(w.rooms, r)
	}
	start := w.destination()
	if cfg.Start != nil {
		start = *cfg.Start
	}
	w.legs = append(w.legs, leg{From: start, To: start, End: w.pause()})
	return w, nil
}

func (w *RandomWaypoint) destination() Point {
	if len(w.rooms) == 0 {
		return w.cfg.Plan.Bounds.random(w.rng)
	}
	return w.rooms[w.rng.IntN(len(w.rooms))].random(w.rng)
}

func (w *RandomWaypoint) pause() time.Duration {
	d := w.cfg.MaxPause - w.cfg.MinPause
	if d <= 0 {
		return w.cfg.MinPause
	}
	return w.cfg.MinPause + time.Duration(w.rng.Int64N(int64(d)+1))
}

// Position implements Model.
func (w *RandomWaypoint) Position(t time.Duration) Point {
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.legs[len(w.legs)-1].End < t {
		last := w.legs[len(w.legs)-1]
		to := w.destination()
		speed := w.cfg.MinSpeed + w.rng.Float64()*(w.cfg.MaxSpeed-w.cfg.MinSpeed)
		l := walk(last.To, to, last.End, speed)
		w.legs = append(w.legs, l, leg{Start: l.End, End: l.End + w.pause(), From: to, To: to})
	}
	return path(w.legs, t)
}
