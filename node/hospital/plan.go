package hospital

import (
	"math"
	"math/rand/v2"
	"time"
)

// Point is a position on the floor plan, in metres.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// wardCentre is the centre of ward i on the corridor.
func (s *Scenario) wardCentre(i int) Point { return Point{X: float64(i) * s.Spacing} }

// bedIn draws a point inside ward i.
func (s *Scenario) bedIn(r *rand.Rand, i int) Point {
	c := s.wardCentre(i)
	return Point{X: c.X + (r.Float64()-0.5)*s.Size, Y: c.Y + (r.Float64()-0.5)*s.Size}
}

// walkTime is the time to walk the corridor from ward a to ward b.
func (s *Scenario) walkTime(a, b int) time.Duration {
	d := math.Abs(s.wardCentre(b).X-s.wardCentre(a).X) + s.Size // out of one ward, into the other
	return time.Duration(d / s.Mobility.Speed * float64(time.Second))
}

// leg is one stay of a patient: in ward Area from Arrive (walking before,
// from Leave of the previous leg).
type leg struct {
	Area   int
	Leave  time.Duration // when the patient leaves the previous ward (0 for the first leg)
	Arrive time.Duration
	Bed    Point
}

// plan draws every patient's itinerary from the seed.
func (s *Scenario) plan() [][]leg {
	out := make([][]leg, s.Patients)
	idx := map[string]int{}
	for i, a := range s.Areas {
		idx[a] = i
	}
	for p := range s.Patients {
		r := rand.New(rand.NewPCG(s.Seed, uint64(p)+1))
		first := p % len(s.Areas)
		legs := []leg{{Area: first, Bed: s.bedIn(r, first)}}
		moving := r.Float64() < *s.Mobility.Moving
		switch {
		case s.Mobility.Model == "waypoint" && moving && len(s.Areas) > 1:
			t := time.Duration(0)
			cur := first
			for {
				d := s.Mobility.Dwell.Duration
				t += d/2 + time.Duration(r.Int64N(int64(d)+1))
				if t >= s.Duration.Duration {
					break
				}
				next := r.IntN(len(s.Areas) - 1)
				if next >= cur {
					next++
				}
				w := s.walkTime(cur, next)
				legs = append(legs, leg{Area: next, Leave: t, Arrive: t + w, Bed: s.bedIn(r, next)})
				t += w
				cur = next
			}
		case s.Mobility.Model == "script":
			cur := first
			for _, mv := range s.Mobility.Moves {
				if mv.Patient != p {
					continue
				}
				next := idx[mv.Area]
				if next == cur {
					continue
				}
				w := s.walkTime(cur, next)
				legs = append(legs, leg{Area: next, Leave: mv.At.Duration, Arrive: mv.At.Duration + w, Bed: s.bedIn(r, next)})
				cur = next
			}
		}
		out[p] = legs
	}
	return out
}
