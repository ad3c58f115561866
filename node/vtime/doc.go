// Package vtime drives a clock.Virtual for a system of goroutines (motes,
// their MQTT-SN clients, a gateway, a broker, a radio medium) so that it
// runs in emulated time, faster than real time, without tests sleeping.
//
// The virtual clock only moves when the Driver advances it; timers fire on
// the Driver's goroutine. Between advances the Driver lets the other
// goroutines run until the system looks quiet: the clock's pending timers,
// its next deadline and an activity counter (frames, datagrams) stay the
// same over Settle consecutive yields. Then it jumps to the next timer, or,
// while some actor reports itself busy (an operation in flight whose answer
// is still travelling through goroutines, or a function run with Do), by
// at most Step, so a reply that
// a goroutine is still computing cannot be overtaken by a distant timeout.
//
// A busy actor whose activity counter has not moved for BusyWindow (50 ms
// of emulated time by default) is waiting for a timer (a retransmission
// after a lost frame, a timeout), and the Driver jumps again.
//
// This is a heuristic, not a proof of quiescence: a goroutine that computes
// for longer than the settling yields take, while nothing reports busy,
// sees its later events stamped somewhat later in emulated time. Energy
// accounting is unaffected (it counts frames and time, not ordering), and
// protocol timers (Tretry 10 s, keep-alive minutes) are far from the
// millisecond steps taken while anything is busy.
package vtime
