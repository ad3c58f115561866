package hospital

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lsmqtt/lsmqtt/node/energy"
)

// Summary is what a run measured. Durations are in milliseconds in JSON.
type Summary struct {
	Scenario  string   `json:"scenario"`
	Seed      uint64   `json:"seed"`
	Areas     int      `json:"areas"`
	AreaNames []string `json:"area_names"`
	Patients  int      `json:"patients"`
	Virtual   bool     `json:"virtual_clock"`
	Suite     string   `json:"suite"`
	QoS       int      `json:"qos"`
	Loss      float64  `json:"loss"`
	Handover  string   `json:"handover"` // "reconnect"
	// Simulated is the simulated time; Wall the run's wall time.
	SimulatedS float64 `json:"simulated_s"`
	// DrainS is the simulated time after the scenario's end spent waiting
	// for the work in flight (publishes, deliveries to the station); not
	// in SimulatedS, nor in the energy.
	DrainS      float64 `json:"drain_s"`
	WallS       float64 `json:"wall_s"`
	SetupS      float64 `json:"setup_s"` // wall time to start areas and register nodes, in WallS
	Interrupted bool    `json:"interrupted,omitempty"`

	Delivery  Delivery      `json:"delivery"`
	Latency   Latency       `json:"latency"`
	Handovers HandoverStats `json:"handovers"`
	Energy    EnergyStats   `json:"energy"`
	Overhead  Overhead      `json:"overhead"`
	Nodes     []NodeSummary `json:"nodes"`

	// Series for the charts (not in JSON).
	LatencySeries []latencySample `json:"-"`
	Itineraries   [][]Stay        `json:"-"`
}

// Delivery counts the vitals and alarm publishes end to end.
type Delivery struct {
	// Attempted are publishes the motes made (completed or failed);
	// Delivered those the caregivers' station opened.
	Attempted uint64  `json:"attempted"`
	Delivered uint64  `json:"delivered"`
	Ratio     float64 `json:"ratio"`
	Failed    uint64  `json:"failed"`  // publishes the mote gave up on
	Missing   uint64  `json:"missing"` // sequence numbers the station never saw
	Skipped   uint64  `json:"skipped"` // readings not published while walking (no coverage)
	Lost      uint64  `json:"datagrams_lost"`
	Refused   uint64  `json:"refused"` // envelopes the station would not open: QoS 1 duplicates (replays) and forgeries
}

// Latency is from the mote's publish call to the station opening the
// vitals. Over UDP it is on the wall clock: the software path over
// loopback UDP (no radio airtime). On the mesh it is on the sim's clock
// (Clock "emulated"): radio airtime, CSMA backoff, acknowledgements and
// fragments included (see Sim.onEvent).
type Latency struct {
	Clock   string  `json:"clock"` // "wall" or "emulated"
	Samples int     `json:"samples"`
	P50ms   float64 `json:"p50_ms"`
	P99ms   float64 `json:"p99_ms"`
	Maxms   float64 `json:"max_ms"`
}

// HandoverStats count the moves between wards.
type HandoverStats struct {
	// Clock: "wall" (UDP: the software path) or "emulated" (mesh: RPL's
	// rejoin and the connect over the radio, on the sim's clock).
	Clock     string  `json:"clock"`
	Count     uint64  `json:"count"`
	Completed uint64  `json:"completed"`
	Resumed   uint64  `json:"resumed"` // handover mode: sessions the visited gateway took over
	Failed    uint64  `json:"failed"`
	P50ms     float64 `json:"p50_ms"`
	Maxms     float64 `json:"max_ms"`
	// RejoinP50ms (mesh) is the part of a handover spent finding the new
	// ward's DODAG (RPL: parent loss, local repair, DIS, DIO, DAO and its
	// DAO-ACK); the rest is the session's resume or the fresh connect.
	RejoinP50ms float64 `json:"rejoin_p50_ms,omitempty"`
}

// EnergyStats summarise the motes' energy.
type EnergyStats struct {
	MeanMJ          float64 `json:"mean_mj"`
	MeanPowerMW     float64 `json:"mean_power_mw"`
	MinLifetimeDays float64 `json:"min_lifetime_days"`
	MedLifetimeDays float64 `json:"median_lifetime_days"`
}

// Overhead is what each class of traffic took on the air, in octets of
// 802.15.4 PSDUs (link-layer acknowledgements included, counted with the
// frame they acknowledge). On the mesh (Source "frames") every frame the
// radio medium carried is decoded and counted (airFrames); over UDP
// (Source "estimated") the frames of each datagram are estimated (one hop,
// mote.LinkModel) and there is no RPL.
type Overhead struct {
	Source       string      `json:"source"`
	DataOctets   uint64      `json:"data_octets"` // PUBLISH
	MQTTSNOctets uint64      `json:"mqttsn_control_octets"`
	TSOctets     uint64      `json:"ts_octets"`
	RPLOctets    uint64      `json:"rpl_octets"`
	RPL          RPLOverhead `json:"rpl"`
	OtherOctets  uint64      `json:"other_octets"` // other ICMPv6, undecodable frames
	Frames       uint64      `json:"frames"`       // mesh: frames on the air, acknowledgements included
	Acks         uint64      `json:"acks"`         // mesh: of which link-layer acknowledgements
	ControlShare float64     `json:"control_share"`
}

// RPLOverhead splits the RPL octets by message (RFC 6550 §6).
type RPLOverhead struct {
	DIS    uint64 `json:"dis_octets"`
	DIO    uint64 `json:"dio_octets"`
	DAO    uint64 `json:"dao_octets"`
	DAOACK uint64 `json:"dao_ack_octets"`
}

// NodeSummary is one mote.
type NodeSummary struct {
	Patient      string  `json:"patient"`
	EnergyMJ     float64 `json:"energy_mj"`
	PowerMW      float64 `json:"power_mw"`
	LifetimeDays float64 `json:"lifetime_days"`
	Published    uint64  `json:"published"`
	Delivered    uint64  `json:"delivered"`
	Handovers    uint64  `json:"handovers"`
	Connects     uint64  `json:"connects"`
	KeyRequests  uint64  `json:"key_requests"`
}

// Stay is one stay of a patient in a ward, for the "where" chart.
type Stay struct {
	Area          int
	From, To      time.Duration
	Leave, Arrive time.Duration
}

func (s *Sim) summarise(sim, wall time.Duration) *Summary {
	sc := s.sc
	out := &Summary{Scenario: sc.Name, Seed: sc.Seed, Areas: len(sc.Areas), AreaNames: sc.Areas, Patients: sc.Patients,
		Virtual: s.vclk != nil, Suite: sc.Suite, QoS: *sc.QoS, Loss: sc.Loss, Handover: sc.Handover,
		SimulatedS: sim.Seconds(), WallS: wall.Seconds()}
	if d := sc.Duration.Duration; sim > d {
		out.SimulatedS, out.DrainS = d.Seconds(), (sim - d).Seconds()
		sim = d
	}
	var hds, rds []time.Duration
	var ctrl, all uint64
	var lifetimes []float64
	var sumMJ, sumMW float64
	for _, p := range s.patients {
		t := p.totals()
		view, _ := s.mon.Patient(p.group)
		n := NodeSummary{Patient: p.group, EnergyMJ: t.EnergyMJ, Published: t.Published + t.Failures,
			Delivered: view.Messages, Handovers: t.Handovers, Connects: t.Connects, KeyRequests: t.KeyReqs}
		if t.Elapsed > 0 {
			n.PowerMW = t.EnergyMJ / t.Elapsed.Seconds()
			n.LifetimeDays = energy.LifetimeHours(s.prof.Battery, n.PowerMW) / 24
		}
		out.Nodes = append(out.Nodes, n)
		lifetimes = append(lifetimes, n.LifetimeDays)
		sumMJ += n.EnergyMJ
		sumMW += n.PowerMW
		d := &out.Delivery
		d.Attempted += t.Published + t.Failures
		d.Failed += t.Failures
		d.Skipped += t.Skipped
		d.Lost += t.Lost
		d.Delivered += view.Messages
		d.Refused += view.Rejected
		d.Missing += view.Missing
		h := &out.Handovers
		h.Count += t.Handovers
		h.Completed += t.Completed
		h.Resumed += t.Resumed
		h.Failed += t.Failed
		hds = append(hds, t.HandoverDs...)
		rds = append(rds, t.RejoinDs...)
		o := &out.Overhead
		o.DataOctets += t.Air[classData]
		o.MQTTSNOctets += t.Air[classMQTTSN]
		o.TSOctets += t.Air[classTS]
		ctrl += t.Air[classMQTTSN] + t.Air[classTS]
		all += t.Air[classData] + t.Air[classMQTTSN] + t.Air[classTS]

		var stays []Stay
		for i, l := range p.legs {
			st := Stay{Area: l.Area, From: l.Arrive, Leave: l.Leave, Arrive: l.Arrive, To: sim}
			if i+1 < len(p.legs) {
				st.To = p.legs[i+1].Leave
			}
			if st.From < sim {
				stays = append(stays, st)
			}
		}
		out.Itineraries = append(out.Itineraries, stays)
	}
	if out.Delivery.Attempted > 0 {
		out.Delivery.Ratio = float64(out.Delivery.Delivered) / float64(out.Delivery.Attempted)
	}
	out.Overhead.Source = "estimated"
	if s.air != nil {
		oct, fr, acks := s.air.counts()
		o := &out.Overhead
		*o = Overhead{Source: "frames", DataOctets: oct[frameData], MQTTSNOctets: oct[frameMQTTSN], TSOctets: oct[frameTS],
			RPL:         RPLOverhead{DIS: oct[frameDIS], DIO: oct[frameDIO], DAO: oct[frameDAO], DAOACK: oct[frameDAOACK]},
			OtherOctets: oct[frameOther], Acks: acks}
		o.RPLOctets = o.RPL.DIS + o.RPL.DIO + o.RPL.DAO + o.RPL.DAOACK
		all, ctrl = 0, 0
		for c := range oct {
			all += oct[c]
			o.Frames += fr[c]
		}
		ctrl = all - oct[frameData]
	}
	if all > 0 {
		out.Overhead.ControlShare = float64(ctrl) / float64(all)
	}
	if n := len(s.patients); n > 0 {
		out.Energy.MeanMJ = sumMJ / float64(n)
		out.Energy.MeanPowerMW = sumMW / float64(n)
		slices.Sort(lifetimes)
		out.Energy.MinLifetimeDays = lifetimes[0]
		out.Energy.MedLifetimeDays = lifetimes[n/2]
	}
	slices.Sort(hds)
	out.Handovers.Clock = s.latencyClock()
	slices.Sort(rds)
	if len(rds) > 0 {
		out.Handovers.RejoinP50ms = ms(quantile(rds, 0.5))
	}
	if len(hds) > 0 {
		out.Handovers.P50ms = ms(quantile(hds, 0.5))
		out.Handovers.Maxms = ms(hds[len(hds)-1])
	}
	s.latMu.Lock()
	out.LatencySeries = slices.Clone(s.lats)
	s.latMu.Unlock()
	lats := make([]time.Duration, len(out.LatencySeries))
	for i, l := range out.LatencySeries {
		lats[i] = l.Latency
	}
	slices.Sort(lats)
	if len(lats) > 0 {
		out.Latency = Latency{Clock: s.latencyClock(), Samples: len(lats), P50ms: ms(quantile(lats, 0.5)), P99ms: ms(quantile(lats, 0.99)),
			Maxms: ms(lats[len(lats)-1])}
	}
	return out
}

func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Deterministic is the part of the summary that repeats exactly under the
// same seed on the virtual clock with no datagram loss: counts, octets on
// the air and energy (rounded to 1 µJ), not latencies or wall time. On the
// mesh a run may take another branch at a timing boundary the clock cannot
// see (docs/hospital.md, "Time and determinism"); Counts still repeat.
func (s *Summary) Deterministic() string {
	var b strings.Builder
	s.writeTotals(&b)
	o := s.Overhead
	fmt.Fprintf(&b, "air data=%d mqttsn=%d ts=%d rpl=%+v other=%d frames=%d\n", o.DataOctets, o.MQTTSNOctets, o.TSOctets,
		o.RPL, o.OtherOctets, o.Frames)
	for _, n := range s.Nodes {
		fmt.Fprintf(&b, "%s %.3f mJ pub=%d del=%d ho=%d conn=%d\n", n.Patient, n.EnergyMJ, n.Published, n.Delivered, n.Handovers, n.Connects)
	}
	return b.String()
}

// writeTotals writes the delivery and handover lines of Deterministic and
// Counts.
func (s *Summary) writeTotals(b *strings.Builder) {
	d := s.Delivery
	fmt.Fprintf(b, "attempted=%d delivered=%d failed=%d missing=%d skipped=%d\n", d.Attempted, d.Delivered, d.Failed, d.Missing, d.Skipped)
	h := s.Handovers
	fmt.Fprintf(b, "handovers=%d completed=%d resumed=%d failed=%d\n", h.Count, h.Completed, h.Resumed, h.Failed)
}

// Counts is the part of the summary that repeats exactly under the same
// seed on the virtual clock with no loss, on the mesh too: publishes,
// deliveries, handovers and connects, per node as well.
func (s *Summary) Counts() string {
	var b strings.Builder
	s.writeTotals(&b)
	for _, n := range s.Nodes {
		fmt.Fprintf(&b, "%s pub=%d del=%d ho=%d conn=%d\n", n.Patient, n.Published, n.Delivered, n.Handovers, n.Connects)
	}
	return b.String()
}

// WriteJSON writes the summary as one JSON document.
func (s *Summary) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// WriteText writes the summary table; maxNodes bounds the per-node rows
// (0: all).
func (s *Summary) WriteText(w io.Writer, maxNodes int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	clk := "real time"
	if s.Virtual {
		clk = "virtual clock"
	}
	drain := ""
	if s.DrainS >= 0.5 {
		drain = fmt.Sprintf(" (+%.0fs to finish the work in flight)", s.DrainS)
	}
	fmt.Fprintf(tw, "scenario %q: %d areas, %d patients, %s simulated%s in %.1fs wall (%s; setup %.1fs), seed %d\n",
		s.Scenario, s.Areas, s.Patients, time.Duration(s.SimulatedS*float64(time.Second)).Round(time.Second), drain,
		s.WallS, clk, s.SetupS, s.Seed)
	loss, transport := "datagram", "udp (frames estimated)"
	if s.Overhead.Source == "frames" {
		loss, transport = "frame", "6LoWPAN/RPL mesh"
	}
	fmt.Fprintf(tw, "suite %s, vitals at QoS %d (alarms QoS 1), %s loss %.1f%%, handover: %s, transport: %s\n\n",
		s.Suite, s.QoS, loss, s.Loss*100, s.Handover, transport)
	d := s.Delivery
	fmt.Fprintf(tw, "delivery ratio\t%.2f%%\t%d of %d publishes opened by the caregivers\n", d.Ratio*100, d.Delivered, d.Attempted)
	fmt.Fprintf(tw, "  failed at the mote\t%d\t\n", d.Failed)
	fmt.Fprintf(tw, "  gaps (missing seq)\t%d\t\n", d.Missing)
	fmt.Fprintf(tw, "  skipped while walking\t%d\treadings not published out of coverage\n", d.Skipped)
	if d.Lost > 0 {
		fmt.Fprintf(tw, "  datagrams lost\t%d\t\n", d.Lost)
	}
	if d.Refused > 0 {
		fmt.Fprintf(tw, "  refused by the station\t%d\tduplicates (QoS 1 retransmissions) are refused as replays\n", d.Refused)
	}
	l := s.Latency
	how := "wall clock, no radio airtime"
	if l.Clock == "emulated" {
		how = "emulated time over the mesh, radio included"
	}
	fmt.Fprintf(tw, "latency p50 / p99\t%.2f / %.2f ms\tpublish → caregiver, %s (%d samples, max %.1f ms)\n", l.P50ms, l.P99ms, how, l.Samples, l.Maxms)
	h := s.Handovers
	resumed := ""
	if s.Handover == HandoverSession {
		resumed = fmt.Sprintf(" (%d resumed, %d fell back to a full connect)", h.Resumed, h.Completed-h.Resumed)
	}
	fmt.Fprintf(tw, "handovers\t%d\t%d completed%s, %d failed; arrival → connected p50 %.1f ms, max %.1f ms (%s)\n", h.Count, h.Completed, resumed, h.Failed, h.P50ms, h.Maxms, h.Clock)
	if h.RejoinP50ms > 0 {
		fmt.Fprintf(tw, "  RPL rejoin\tp50 %.1f ms\tarrival → in the new ward's DODAG (the rest is the resume or connect)\n", h.RejoinP50ms)
	}
	e := s.Energy
	fmt.Fprintf(tw, "energy per node\t%.1f mJ\tmean power %.3f mW\n", e.MeanMJ, e.MeanPowerMW)
	fmt.Fprintf(tw, "projected lifetime\t%.0f days\tminimum; median %.0f days (2×AA)\n", e.MinLifetimeDays, e.MedLifetimeDays)
	o := s.Overhead
	if o.Source == "frames" {
		fmt.Fprintf(tw, "on the air (octets)\tdata %d\tMQTT-SN control %d, TS %d, RPL %d, other %d; control share %.1f%% (%d frames on the medium, %d acks)\n",
			o.DataOctets, o.MQTTSNOctets, o.TSOctets, o.RPLOctets, o.OtherOctets, o.ControlShare*100, o.Frames, o.Acks)
		fmt.Fprintf(tw, "  RPL by message\tDIS %d\tDIO %d, DAO %d, DAO-ACK %d\n", o.RPL.DIS, o.RPL.DIO, o.RPL.DAO, o.RPL.DAOACK)
	} else {
		fmt.Fprintf(tw, "on the air (octets)\tdata %d\tMQTT-SN control %d, TS %d, RPL 0 (UDP transport: no mesh, frames estimated); control share %.1f%%\n",
			o.DataOctets, o.MQTTSNOctets, o.TSOctets, o.ControlShare*100)
	}
	tw.Flush()
	if len(s.Nodes) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "patient\tenergy mJ\tpower mW\tlifetime d\tpublished\tdelivered\thandovers\tconnects\t")
	nodes := s.Nodes
	if maxNodes > 0 && len(nodes) > maxNodes {
		nodes = nodes[:maxNodes]
	}
	for _, n := range nodes {
		fmt.Fprintf(tw, "%s\t%.1f\t%.3f\t%.0f\t%d\t%d\t%d\t%d\t\n", n.Patient, n.EnergyMJ, n.PowerMW, n.LifetimeDays,
			n.Published, n.Delivered, n.Handovers, n.Connects)
	}
	tw.Flush()
	if len(nodes) < len(s.Nodes) {
		fmt.Fprintf(w, "... %d more nodes (--json for all)\n", len(s.Nodes)-len(nodes))
	}
	return nil
}
