package eval

import (
	"errors"
	"fmt"

	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

// MeasuredRun is one emulator run of a scheme: the meter snapshots (or
// Snapshot.Sub deltas) of the publishing mote and, if there was one, a
// subscribing mote over the run, and how many transactions completed.
type MeasuredRun struct {
	Scheme       Scheme
	Profile      *profile.Profile
	Publisher    energy.Snapshot
	Subscriber   energy.Snapshot // zero when no subscribing mote was metered
	Transactions int
}

// MeasuredFigures turns a run into per-transaction Figures. Each mote's
// marginal energy is its metered energy minus what an idle meter spends over
// the same elapsed time; the part spent on cryptography (its crypto cycles
// at CPU current, less the LPM they displace) is Encrypt or Decrypt, the
// rest Transmit or Receive. Everything the node did in the run counts,
// retransmissions, RPL control traffic and session setup included, so
// SetupPublisher and SetupSubscriber are zero.
func MeasuredFigures(r MeasuredRun) (Figures, error) {
	if r.Profile == nil || r.Transactions <= 0 {
		return Figures{}, errors.New("eval: measured run needs a profile and at least one transaction")
	}
	if _, err := ParseScheme(string(r.Scheme)); err != nil {
		return Figures{}, err
	}
	p := r.Profile
	n := float64(r.Transactions)
	split := func(s energy.Snapshot) (crypto, rest Component) {
		idle := energy.NewMeter(p)
		idle.Advance(energy.Duration(s.Time))
		all := marginal(s, idle.Snapshot())
		ticks := energy.CycleTicks(p, s.Cycles.Crypto)
		crypto = Component{
			EnergyMJ: energy.MilliJoules(ticks, p.Currents.CPU-p.Currents.LPM, p.VoltageV),
			CPUTicks: ticks,
			Cycles:   s.Cycles.Crypto,
		}
		rest = all
		rest.EnergyMJ -= crypto.EnergyMJ
		rest.CPUTicks -= min(rest.CPUTicks, crypto.CPUTicks)
		rest.Cycles -= min(rest.Cycles, crypto.Cycles)
		return crypto.scale(1 / n), rest.scale(1 / n)
	}
	f := Figures{Scheme: r.Scheme, Profile: p.Name, Origin: Measured, SessionTx: 0}
	f.Encrypt, f.Transmit = split(r.Publisher)
	if r.Subscriber.Time > 0 {
		f.Decrypt, f.Receive = split(r.Subscriber)
	}
	idle := energy.NewMeter(p)
	idle.Advance(window)
	f.IdlePowerMW = idle.Snapshot().AveragePowerMW()
	f.Notes = []string{fmt.Sprintf("measured: %d transactions over %v of emulated time", r.Transactions, r.Publisher.Elapsed())}
	if r.Subscriber.Time == 0 {
		f.Notes = append(f.Notes, "no subscribing mote metered: receive and decrypt are zero")
	}
	return f, nil
}

// MeasuredSource serves Figures from measured runs.
type MeasuredSource map[Scheme]Figures

// Figures returns the measured figures of s.
func (m MeasuredSource) Figures(s Scheme) (Figures, error) {
	f, ok := m[s]
	if !ok {
		return Figures{}, fmt.Errorf("eval: no measured run for %s", s)
	}
	return f, nil
}
