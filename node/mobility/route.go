package mobility

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"
)

// Step is one move of a scripted route: at At (or when the previous walk
// ends, if later) walk to To, or to the centre of Room, at Speed m/s
// (default 1).
type Step struct {
	At    time.Duration
	To    Point
	Room  string
	Speed float64
}

// Route is a scripted path: a start and timed moves.
type Route struct {
	legs []leg
}

// NewRoute builds a route from start through steps; rooms are looked up in
// plan (which may be nil when no step names a room).
func NewRoute(plan *Plan, start Point, steps []Step) (*Route, error) {
	steps = append([]Step(nil), steps...)
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].At < steps[j].At })
	r := &Route{legs: []leg{{From: start, To: start}}}
	for _, s := range steps {
		to := s.To
		if s.Room != "" {
			if plan == nil {
				return nil, fmt.Errorf("%w: room %q without a plan", ErrPlan, s.Room)
			}
			room, ok := plan.Room(s.Room)
			if !ok {
				return nil, fmt.Errorf("%w: no room %q", ErrPlan, s.Room)
			}
			to = room.Centre()
		}
		speed := s.Speed
		if speed == 0 {
			speed = 1
		}
		if speed < 0 || !finite(speed) || !finite(to.X) || !finite(to.Y) || s.At < 0 {
			return nil, fmt.Errorf("%w: step at %v", ErrPlan, s.At)
		}
		last := r.legs[len(r.legs)-1]
		begin := max(s.At, last.End)
		if begin > last.End { // stand still until the step
			r.legs = append(r.legs, leg{Start: last.End, End: begin, From: last.To, To: last.To})
		}
		r.legs = append(r.legs, walk(last.To, to, begin, speed))
	}
	return r, nil
}

// Position implements Model.
func (r *Route) Position(t time.Duration) Point { return path(r.legs, t) }

// Arrival is when the route's last walk ends.
func (r *Route) Arrival() time.Duration { return r.legs[len(r.legs)-1].End }

// RoutesFile is the JSON form of scripted routes (`lsmqtt node --routes`):
//
//	{"plan": {...},
//	 "nodes": {"z1-0001": {"start": {"X": 10, "Y": 5},
//	                       "steps": [{"at": "2m", "room": "ward-2", "speed": 1.2},
//	                                 {"at": "30m", "to": {"X": 0, "Y": 0}}]}}}
type RoutesFile struct {
	Plan  *Plan                `json:"plan,omitempty"`
	Nodes map[string]RouteSpec `json:"nodes"`
}

// RouteSpec is one node's route in a RoutesFile.
type RouteSpec struct {
	Start Point      `json:"start"`
	Steps []StepSpec `json:"steps"`
}

// StepSpec is a Step with its time as a Go duration string.
type StepSpec struct {
	At    string  `json:"at"`
	To    *Point  `json:"to,omitempty"`
	Room  string  `json:"room,omitempty"`
	Speed float64 `json:"speed,omitempty"`
}

// ReadRoutes decodes a routes file and builds every node's Route.
func ReadRoutes(rd io.Reader) (map[string]*Route, *Plan, error) {
	dec := json.NewDecoder(rd)
	dec.DisallowUnknownFields()
	var f RoutesFile
	if err := dec.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrPlan, err)
	}
	if f.Plan != nil {
		if err := f.Plan.Validate(); err != nil {
			return nil, nil, err
		}
	}
	out := map[string]*Route{}
	for id, spec := range f.Nodes {
		var steps []Step
		for _, s := range spec.Steps {
			at, err := time.ParseDuration(s.At)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: node %s: at %q: %v", ErrPlan, id, s.At, err)
			}
			st := Step{At: at, Room: s.Room, Speed: s.Speed}
			if s.To != nil {
				st.To = *s.To
			} else if s.Room == "" {
				return nil, nil, fmt.Errorf("%w: node %s: a step needs \"to\" or \"room\"", ErrPlan, id)
			}
			steps = append(steps, st)
		}
		r, err := NewRoute(f.Plan, spec.Start, steps)
		if err != nil {
			return nil, nil, fmt.Errorf("node %s: %w", id, err)
		}
		out[id] = r
	}
	return out, f.Plan, nil
}
