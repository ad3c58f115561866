package mobility

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"time"

	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

// Point is a place on the floor, in metres (the medium's Position).
type Point = medium.Position

// Room is a named rectangle of the floor plan.
type Room struct {
	Name string `json:"name"`
	Min  Point  `json:"min"`
	Max  Point  `json:"max"`
}

// Contains reports whether p is in the room.
func (r Room) Contains(p Point) bool {
	return p.X >= r.Min.X && p.X <= r.Max.X && p.Y >= r.Min.Y && p.Y <= r.Max.Y
}

// Centre is the room's centre.
func (r Room) Centre() Point { return Point{X: (r.Min.X + r.Max.X) / 2, Y: (r.Min.Y + r.Max.Y) / 2} }

func (r Room) random(rng *rand.Rand) Point {
	return Point{X: r.Min.X + rng.Float64()*(r.Max.X-r.Min.X), Y: r.Min.Y + rng.Float64()*(r.Max.Y-r.Min.Y)}
}

// Plan is a floor plan: its bounds and named rooms (wards, corridors).
type Plan struct {
	Bounds Room   `json:"bounds"`
	Rooms  []Room `json:"rooms,omitempty"`
}

// ErrPlan reports an unusable floor plan or route.
var ErrPlan = errors.New("mobility: invalid plan")

// Validate checks the plan.
func (p *Plan) Validate() error {
	if !(p.Bounds.Max.X > p.Bounds.Min.X && p.Bounds.Max.Y >= p.Bounds.Min.Y) {
		return fmt.Errorf("%w: empty bounds", ErrPlan)
	}
	for _, r := range p.Rooms {
		if r.Name == "" || r.Max.X < r.Min.X || r.Max.Y < r.Min.Y || !p.Bounds.Contains(r.Min) || !p.Bounds.Contains(r.Max) {
			return fmt.Errorf("%w: room %q must be named and inside the bounds", ErrPlan, r.Name)
		}
	}
	return nil
}

// Room returns the room called name.
func (p *Plan) Room(name string) (Room, bool) {
	for _, r := range p.Rooms {
		if r.Name == name {
			return r, true
		}
	}
	return Room{}, false
}

// ReadPlan decodes a JSON floor plan:
//
//	{"bounds": {"min": {"X": 0, "Y": 0}, "max": {"X": 120, "Y": 40}},
//	 "rooms": [{"name": "ward-1", "min": {"X": 0, "Y": 0}, "max": {"X": 30, "Y": 20}}]}
func ReadPlan(r io.Reader) (*Plan, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	p := new(Plan)
	if err := dec.Decode(p); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrPlan, err)
	}
	return p, p.Validate()
}

// Model gives a mote's position at time t since the start.
type Model interface {
	Position(t time.Duration) Point
}

// Static is a mote that does not move.
type Static Point

// Position implements Model.
func (s Static) Position(time.Duration) Point { return Point(s) }

// leg is one piece of a piecewise-linear path: from From at Start to To at
// End (a pause when From == To).
type leg struct {
	Start, End time.Duration
	From, To   Point
}

func (l leg) at(t time.Duration) Point {
	if l.End <= l.Start || t >= l.End {
		return l.To
	}
	if t <= l.Start {
		return l.From
	}
	f := float64(t-l.Start) / float64(l.End-l.Start)
	return Point{X: l.From.X + f*(l.To.X-l.From.X), Y: l.From.Y + f*(l.To.Y-l.From.Y)}
}

func walk(from, to Point, start time.Duration, speed float64) leg {
	d := from.Distance(to)
	return leg{Start: start, End: start + time.Duration(d/speed*float64(time.Second)), From: from, To: to}
}

// path finds the leg covering t in legs (sorted, contiguous).
func path(legs []leg, t time.Duration) Point {
	lo, hi := 0, len(legs)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if legs[mid].End < t {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return legs[lo].at(t)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
