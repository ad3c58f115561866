package hospital

import (
	"context"
	"log/slog"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/node/area"
	"github.com/lsmqtt/lsmqtt/rpl/ieee802154"
	"github.com/lsmqtt/lsmqtt/rpl/medium"
	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// The mesh transport: one radio medium for the whole floor plan, each
// ward's border router at its ward's centre, each patient's mote a radio
// placed at their bed, moved to the corridor while they walk.

// newMedium builds the hospital's radio medium: a unit disk of the
// scenario's radio range, frames counted by class (and written to the
// pcap capture, if any).
func (s *Sim) newMedium() *medium.Medium {
	s.air = &airFrames{Next: s.cfg.Capture, activity: &s.activity}
	return medium.New(medium.Config{Clock: s.clk, Seed: s.sc.Seed*0x9e37 + 1, Range: s.sc.RadioRange,
		Loss: s.sc.Loss, Capture: s.air, Logger: slog.New(quietHandler{s.cfg.Logger.Handler()}).With("part", "medium")})
}

// patientMAC is patient idx's EUI-64 (area.RouterMAC has 0 in octet 3).
func patientMAC(idx int) ieee802154.ExtAddr {
	return ieee802154.ExtAddr{0x02, 0, 0, 0x01, 0, byte(idx >> 16), byte(idx >> 8), byte(idx)}
}

func (p Point) position() medium.Position { return medium.Position{X: p.X, Y: p.Y} }

// corridor is where a walking patient is: the corridor runs behind the
// wards' walls, out of every border router's range.
func (s *Scenario) corridor(from, to int) Point {
	return Point{X: (s.wardCentre(from).X + s.wardCentre(to).X) / 2, Y: -(s.Size + 2*s.RadioRange)}
}

// inArea reports whether st has joined area a's DODAG with an address in
// a's prefix, and a's root has a route down to it (its DAO arrived).
func inArea(st *stack.Stack, a *area.Area) bool {
	g, ok := st.GlobalAddr()
	if !ok || !a.Router.Prefix().Contains(g) || st.Status().DODAGID != a.Router.Addr() {
		return false
	}
	for _, r := range a.Router.Routes() {
		if r.Target == g {
			return true
		}
	}
	return false
}

// joinPoll is how often a patient who arrived looks whether it is in the
// new ward's DODAG yet: the resolution of the RPL rejoin time.
const joinPoll = 50 * time.Millisecond

// waitInArea waits, on the sim's clock, until the patient's stack is in
// area a. Waiting for RPL is not work in flight: the patient is not busy
// meanwhile, so the virtual clock jumps from timer to timer.
func (p *patient) waitInArea(ctx context.Context, st *stack.Stack, a *area.Area) error {
	for !inArea(st, a) {
		p.busy.Add(-1)
		err := sleepOn(ctx, p.s.clk, joinPoll)
		p.busy.Add(1)
		if err != nil {
			return err
		}
	}
	return nil
}

// sleepOn waits d on c, or until ctx ends.
func sleepOn(ctx context.Context, c clock.Clock, d time.Duration) error {
	ch := make(chan struct{})
	t := c.AfterFunc(d, func() { close(ch) })
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}
