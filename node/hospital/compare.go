package hospital

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// Variant is one arm of a comparison.
type Variant struct {
	Label    string
	Scenario *Scenario
}

// Variants derives the arms of a comparison from base: "suites" (ascon128,
// aes128-ccm8, paper-xor), "qos" (0 and 1), "mobility" (everyone in bed vs
// walking), "handover,reconnect" or "transport" (the RPL mesh vs UDP with
// estimated frames).
func Variants(base *Scenario, what string) ([]Variant, error) {
	clone := func(f func(*Scenario)) *Scenario {
		c := *base
		c.Areas = append([]string(nil), base.Areas...)
		f(&c)
		return &c
	}
	var out []Variant
	switch strings.ReplaceAll(what, " ", "") {
	case "suites", "suite":
		for _, s := range []string{"ascon128", "aes128-ccm8", "paper-xor"} {
			out = append(out, Variant{s, clone(func(c *Scenario) { c.Suite = s })})
		}
	case "qos":
		for _, q := range []int{0, 1} {
			out = append(out, Variant{fmt.Sprintf("QoS %d", q), clone(func(c *Scenario) { c.QoS = &q })})
		}
	case "mobility":
		out = append(out, Variant{"static", clone(func(c *Scenario) { c.Mobility.Model = "static" })},
			Variant{"moving", clone(func(c *Scenario) {
				if c.Mobility.Model == "static" {
					c.Mobility.Model = "waypoint"
				}
			})})
	case "transport", "transports", "mesh,udp", "udp,mesh":
		for _, tr := range []string{TransportMesh, TransportUDP} {
			out = append(out, Variant{tr, clone(func(c *Scenario) { c.Transport = tr })})
		}
	case "handover,reconnect", "reconnect,handover", "handover":
		for _, h := range []string{HandoverSession, HandoverReconnect} {
			out = append(out, Variant{h, clone(func(c *Scenario) { c.Handover = h })})
		}
	default:
		return nil, fmt.Errorf("hospital: --compare %q: want suites, qos, mobility, handover,reconnect or transport", what)
	}
	for _, v := range out {
		if err := v.Scenario.Defaults(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WriteCompare prints the variants' summaries side by side.
func WriteCompare(w io.Writer, vs []Variant, sums []*Summary) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	row := func(name string, f func(*Summary) string) {
		fmt.Fprint(tw, name, "\t")
		for _, s := range sums {
			fmt.Fprint(tw, f(s), "\t")
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "\t")
	for _, v := range vs {
		fmt.Fprint(tw, v.Label, "\t")
	}
	fmt.Fprintln(tw)
	row("delivery ratio", func(s *Summary) string { return fmt.Sprintf("%.2f%%", s.Delivery.Ratio*100) })
	row("delivered / attempted", func(s *Summary) string {
		return fmt.Sprintf("%d/%d", s.Delivery.Delivered, s.Delivery.Attempted)
	})
	row("gaps (missing seq)", func(s *Summary) string { return fmt.Sprint(s.Delivery.Missing) })
	row("latency clock", func(s *Summary) string { return s.Latency.Clock })
	row("latency p50 ms", func(s *Summary) string { return fmt.Sprintf("%.1f", s.Latency.P50ms) })
	row("latency p99 ms", func(s *Summary) string { return fmt.Sprintf("%.1f", s.Latency.P99ms) })
	row("handovers (failed)", func(s *Summary) string {
		return fmt.Sprintf("%d (%d)", s.Handovers.Count, s.Handovers.Failed)
	})
	row("resumed (session handover)", func(s *Summary) string { return fmt.Sprint(s.Handovers.Resumed) })
	row("handover p50 ms", func(s *Summary) string { return fmt.Sprintf("%.1f", s.Handovers.P50ms) })
	row("  of which RPL rejoin", func(s *Summary) string { return fmt.Sprintf("%.1f", s.Handovers.RejoinP50ms) })
	row("energy per node mJ", func(s *Summary) string { return fmt.Sprintf("%.1f", s.Energy.MeanMJ) })
	row("mean power mW", func(s *Summary) string { return fmt.Sprintf("%.3f", s.Energy.MeanPowerMW) })
	row("min lifetime days", func(s *Summary) string { return fmt.Sprintf("%.0f", s.Energy.MinLifetimeDays) })
	row("air: data octets", func(s *Summary) string { return fmt.Sprint(s.Overhead.DataOctets) })
	row("air: MQTT-SN ctl octets", func(s *Summary) string { return fmt.Sprint(s.Overhead.MQTTSNOctets) })
	row("air: TS octets", func(s *Summary) string { return fmt.Sprint(s.Overhead.TSOctets) })
	row("air: RPL octets", func(s *Summary) string { return fmt.Sprint(s.Overhead.RPLOctets) })
	row("control share", func(s *Summary) string { return fmt.Sprintf("%.1f%%", s.Overhead.ControlShare*100) })
	return tw.Flush()
}

// WriteCompareJSON writes {"variants":[{"label":...,"summary":...}]}.
func WriteCompareJSON(w io.Writer, vs []Variant, sums []*Summary) error {
	type arm struct {
		Label   string   `json:"label"`
		Summary *Summary `json:"summary"`
	}
	var doc struct {
		Variants []arm `json:"variants"`
	}
	for i, v := range vs {
		doc.Variants = append(doc.Variants, arm{v.Label, sums[i]})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
