package mobility

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ward = &Plan{
	Bounds: Room{Min: Point{}, Max: Point{X: 120, Y: 40}},
	Rooms: []Room{
		{Name: "ward-1", Min: Point{X: 0, Y: 0}, Max: Point{X: 30, Y: 20}},
		{Name: "ward-2", Min: Point{X: 90, Y: 0}, Max: Point{X: 120, Y: 20}},
	},
}

func TestRandomWaypoint(t *testing.T) {
	cfg := WaypointConfig{Plan: ward, MinSpeed: 0.8, MaxSpeed: 1.4, MinPause: 10 * time.Second, MaxPause: time.Minute, Seed: 42}
	a, err := NewRandomWaypoint(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewRandomWaypoint(cfg)
	cfg.Seed = 43
	c, _ := NewRandomWaypoint(cfg)
	var prev Point
	differs, moved := false, 0.0
	for s := 0; s <= 4*3600; s++ {
		at := time.Duration(s) * time.Second
		p := a.Position(at)
		if !ward.Bounds.Contains(p) {
			t.Fatalf("at %v: %+v outside the plan", at, p)
		}
		if q := b.Position(at); q != p {
			t.Fatalf("same seed, different paths at %v: %+v vs %+v", at, p, q)
		}
		if c.Position(at) != p {
			differs = true
		}
		if s > 0 {
			d := p.Distance(prev)
			if d > 1.4+1e-9 {
				t.Fatalf("moved %.3f m in one second at %v (max speed 1.4 m/s)", d, at)
			}
			moved += d
		}
		prev = p
	}
	if !differs || moved < 1000 {
		t.Fatalf("another seed differs: %v; walked %.0f m in 4 h", differs, moved)
	}
	// Asking out of order gives the same answers.
	if a.Position(90*time.Minute) != b.Position(90*time.Minute) {
		t.Fatal("out-of-order query changed the path")
	}
}

func TestRandomWaypointRooms(t *testing.T) {
	w, err := NewRandomWaypoint(WaypointConfig{Plan: ward, Rooms: []string{"ward-1", "ward-2"}, Seed: 7,
		MinPause: time.Minute, MaxPause: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	r1, _ := ward.Room("ward-1")
	r2, _ := ward.Room("ward-2")
	inRoom := 0
	for s := 0; s < 3*3600; s += 7 {
		p := w.Position(time.Duration(s) * time.Second)
		if r1.Contains(p) || r2.Contains(p) {
			inRoom++
		}
	}
	if inRoom == 0 {
		t.Fatal("never in a room")
	}
	// Every pause is inside a room.
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, l := range w.legs {
		if l.From == l.To && !r1.Contains(l.To) && !r2.Contains(l.To) {
			t.Fatalf("paused at %+v outside the rooms", l.To)
		}
	}
	if _, err := NewRandomWaypoint(WaypointConfig{Plan: ward, Rooms: []string{"morgue"}}); !errors.Is(err, ErrPlan) {
		t.Fatalf("unknown room: %v", err)
	}
}

func near(p, q Point) bool { return math.Abs(p.X-q.X) < 1e-6 && math.Abs(p.Y-q.Y) < 1e-6 }

func TestRoutesFile(t *testing.T) {
	js := `{"plan": {"bounds": {"min": {"X": 0, "Y": 0}, "max": {"X": 120, "Y": 40}},
	         "rooms": [{"name": "ward-2", "min": {"X": 90, "Y": 0}, "max": {"X": 120, "Y": 20}}]},
	        "nodes": {"z1-0001": {"start": {"X": 5, "Y": 10},
	                              "steps": [{"at": "1m", "to": {"X": 15, "Y": 10}, "speed": 2},
	                                        {"at": "1m2s", "room": "ward-2"}]}}}`
	routes, plan, err := ReadRoutes(strings.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	r := routes["z1-0001"]
	if plan == nil || r == nil {
		t.Fatal("missing plan or route")
	}
	for _, c := range []struct {
		at   time.Duration
		want Point
	}{
		{0, Point{X: 5, Y: 10}},
		{time.Minute, Point{X: 5, Y: 10}},
		{time.Minute + 2500*time.Millisecond, Point{X: 10, Y: 10}},
		// The first walk (10 m at 2 m/s) ends at 1m5s, after the second
		// step's time, so the second walk (90 m at 1 m/s to (105, 10))
		// starts then.
		{time.Minute + 5*time.Second, Point{X: 15, Y: 10}},
		{time.Minute + 50*time.Second, Point{X: 60, Y: 10}},
		{time.Hour, Point{X: 105, Y: 10}},
	} {
		if got := r.Position(c.at); !near(got, c.want) {
			t.Errorf("at %v: %+v, want %+v", c.at, got, c.want)
		}
	}
	if r.Arrival() != time.Minute+95*time.Second {
		t.Errorf("arrival %v", r.Arrival())
	}
	for _, bad := range []string{
		`{"nodes": {"a": {"steps": [{"at": "soon", "to": {"X": 1}}]}}}`,
		`{"nodes": {"a": {"steps": [{"at": "1s", "room": "ward-9"}]}}}`,
		`{"nodes": {"a": {"steps": [{"at": "1s"}]}}}`,
		`{"nodes": {}, "extra": 1}`,
	} {
		if _, _, err := ReadRoutes(strings.NewReader(bad)); !errors.Is(err, ErrPlan) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestMoverFeedsMedium(t *testing.T) {
	clk := clock.NewVirtual(time.Unix(1_700_000_000, 0))
	md := medium.New(medium.Config{Clock: clk})
	defer md.Close()
	a := ieee802154.Ext(ieee802154.ExtAddr{2, 0, 0, 0, 0, 0, 0, 1})
	b := ieee802154.Ext(ieee802154.ExtAddr{2, 0, 0, 0, 0, 0, 0, 2})
	r, err := NewRoute(nil, Point{}, []Step{{At: 10 * time.Second, To: Point{X: 100}, Speed: 2}})
	if err != nil {
		t.Fatal(err)
	}
	mv := NewMover(md, clk, 500*time.Millisecond)
	mv.Add(a, r)
	mv.Add(b, Static{X: 3, Y: 4})
	mv.Start()
	defer mv.Stop()
	if p, _ := md.PositionOf(a); !near(p, Point{}) {
		t.Fatalf("placed at %+v", p)
	}
	for _, step := range []struct {
		to   time.Duration
		want Point
	}{{5 * time.Second, Point{}}, {20 * time.Second, Point{X: 20}}, {2 * time.Minute, Point{X: 100}}} {
		clk.AdvanceTo(time.Unix(1_700_000_000, 0).Add(step.to))
		if p, _ := md.PositionOf(a); !near(p, step.want) {
			t.Fatalf("at %v: medium has %+v, want %+v", step.to, p, step.want)
		}
	}
	if p, _ := md.PositionOf(b); !near(p, Point{X: 3, Y: 4}) {
		t.Fatalf("static mote at %+v", p)
	}
	// The link comes and goes with the distance (range 50 m).
	if md.LinkProbability(a, b) != 0 {
		t.Fatal("a at 100 m still hears b")
	}
	if mv.Updates() != 240 {
		t.Fatalf("%d updates in 2 minutes at 500 ms", mv.Updates())
	}
}
