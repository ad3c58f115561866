// Package mobility moves emulated motes over a floor plan and feeds their
// positions to the radio medium (rpl/medium), so links appear and
// disappear as patients walk and motes change parents, or areas.
//
// Models are pure functions of time (Model.Position), deterministic under
// their seed:
//
//   - RandomWaypoint (Johnson and Maltz, "Dynamic Source Routing in Ad Hoc
//     Wireless Networks", 1996; as in ns-2's setdest): pause, pick a
//     destination uniformly in the plan (or in one of its rooms), walk to it
//     in a straight line at a speed drawn uniformly from [MinSpeed,
//     MaxSpeed], pause again.
//   - Route: a script of timed moves ("at 30 s walk to ward-2 at 1.2 m/s").
//   - Static: a fixed point.
//
// A Mover applies models to a medium on a clock: every Tick it sets each
// mote's position (medium.SetPosition). On a clock.Virtual the moves are
// ordinary timers, so a vtime.Driver runs them with everything else.
package mobility
