package fleet

import (
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"github.com/lsmqtt/lsmqtt/node/energy"
	"github.com/lsmqtt/lsmqtt/node/mote"
	"github.com/lsmqtt/lsmqtt/node/profile"
)

// NodeReport is one mote's energy over the run.
type NodeReport struct {
	ID        string             `json:"id"`
	Profile   string             `json:"profile"`
	ElapsedS  float64            `json:"elapsed_s"`
	Ticks     energy.StateTicks  `json:"ticks"`
	EnergyMJ  energy.StateEnergy `json:"energy_mj"`
	TotalMJ   float64            `json:"total_mj"`
	PowerMW   float64            `json:"avg_power_mw"`
	Lifetime  float64            `json:"lifetime_h"` // on the profile's battery, at this average power
	Cycles    energy.Cycles      `json:"cycles"`
	CryptoOps uint64             `json:"crypto_ops"`
	Samples   uint64             `json:"samples"`
	Stats     mote.Stats         `json:"stats"`
}

// Report is the final energy report of a fleet.
type Report struct {
	Clock     string       `json:"clock"` // "real" or "virtual"
	Transport string       `json:"transport"`
	Suite     string       `json:"suite,omitempty"`
	ElapsedS  float64      `json:"elapsed_s"`
	Nodes     []NodeReport `json:"nodes"`
	// Means over the nodes.
	MeanPowerMW  float64 `json:"mean_power_mw"`
	MeanLifetime float64 `json:"mean_lifetime_h"`
	TotalMJ      float64 `json:"total_mj"`
}

// NodeEnergy builds the report of one mote from its snapshot.
func NodeEnergy(m *mote.Mote) NodeReport {
	s := m.Snapshot()
	p := m.Meter().Profile()
	return nodeReport(m.ID(), p, s, m.Stats())
}

func nodeReport(id string, p *profile.Profile, s energy.Snapshot, st mote.Stats) NodeReport {
	r := NodeReport{
		ID: id, Profile: p.Name, ElapsedS: s.Elapsed().Seconds(),
		Ticks: s.Ticks, EnergyMJ: s.Energy, TotalMJ: s.TotalMJ(), PowerMW: s.AveragePowerMW(),
		Cycles: s.Cycles, CryptoOps: s.CryptoOps, Samples: s.Samples, Stats: st,
	}
	r.Lifetime = s.LifetimeHours(p.Battery)
	if math.IsInf(r.Lifetime, 0) {
		r.Lifetime = 0 // JSON has no infinity; zero power means no run
	}
	return r
}

// WriteText prints the report as a table.
func (r *Report) WriteText(w io.Writer) error {
	fmt.Fprintf(w, "energy report: %d nodes, %s transport, %s clock, %.0f s\n", len(r.Nodes), r.Transport, r.Clock, r.ElapsedS)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tCPU ticks\tLPM ticks\tTX ticks\tRX ticks\tlisten ticks\tsensor ticks\tmJ\tmW\tlifetime h\tpub\tfail\talarms\tframes tx/rx\t")
	for _, n := range r.Nodes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.4f\t%.0f\t%d\t%d\t%d\t%d/%d\t\n", n.ID,
			n.Ticks.CPU, n.Ticks.LPM, n.Ticks.TX, n.Ticks.RX, n.Ticks.IdleListen, n.Ticks.Sensor,
			n.TotalMJ, n.PowerMW, n.Lifetime,
			n.Stats.PublishedVitals+n.Stats.PublishedAlarms+n.Stats.PublishedECG, n.Stats.PublishFailures,
			n.Stats.PublishedAlarms, n.Stats.Frames.TxFrames, n.Stats.Frames.RxFrames+n.Stats.Frames.OverheardFrames)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "mean power %.4f mW, mean projected lifetime %.0f h (battery of the profile), total %.2f mJ\n",
		r.MeanPowerMW, r.MeanLifetime, r.TotalMJ)
	return err
}

// WriteStats prints live per-node counters.
func WriteStats(w io.Writer, sts []mote.Stats) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "node\tstate\tconnects\tvitals\talarms\tecg\tfail\tdgrams tx/rx\tframes tx/rx\tretx\tlast error\t")
	for _, s := range sts {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d/%d\t%d/%d\t%d\t%s\t\n", s.ID, s.State, s.Connects,
			s.PublishedVitals, s.PublishedAlarms, s.PublishedECG, s.PublishFailures,
			s.MQTTSN.DatagramsSent, s.MQTTSN.DatagramsReceived, s.Frames.TxFrames, s.Frames.RxFrames+s.Frames.OverheardFrames,
			s.MQTTSN.Retransmissions, s.LastError)
	}
	return tw.Flush()
}
