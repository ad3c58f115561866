package loadgen

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// Target is a gateway a suite scenario runs against.
type Target struct {
	Gateway string // MQTT-SN UDP address
	Broker  string // MQTT URL of the broker behind it, "" if none reachable
	Stop    func() // nil for a target the suite does not own
	// Stats reads the gateway's own counters, when the target can (an
	// in-process gateway); nil otherwise.
	Stats func() GatewayStats
}

// Scenario is one named run of a suite. Gateway and SubMQTT are filled in
// from the Target (SubMQTT only when the scenario sets WantBroker).
type Scenario struct {
	Name       string
	Config     Config
	WantBroker bool
	// Burst marks a CONNECT-burst scenario: its publish rates are not a
	// throughput worth stating.
	Burst bool
}

// StandardSuite is the set `make bench` runs (issue 9's targets): QoS 0 from
// 100 clients paced at 60k msg/s and unpaced, QoS 1 from one client with one
// message in flight and from 100 clients, and a burst of 2,000 CONNECTs.
// Every publish scenario counts delivery end to end at the broker. d is the
// publish phase of each scenario.
func StandardSuite(d time.Duration) []Scenario {
	base := Config{PayloadSize: 32, Duration: d, Topic: "lsmqtt/bench"}
	with := func(f func(*Config)) Config { c := base; f(&c); return c }
	return []Scenario{
		{Name: "qos0-100c-paced-60k", WantBroker: true, Config: with(func(c *Config) { c.Clients, c.QoS, c.Rate = 100, 0, 60000 })},
		{Name: "qos0-100c-unpaced", WantBroker: true, Config: with(func(c *Config) { c.Clients, c.QoS = 100, 0 })},
		{Name: "qos1-1c-window1", WantBroker: true, Config: with(func(c *Config) { c.Clients, c.QoS, c.Window = 1, 1, 1 })},
		{Name: "qos1-100c-window1", WantBroker: true, Config: with(func(c *Config) { c.Clients, c.QoS, c.Window = 100, 1, 1 })},
		{Name: "connect-burst-2000", Burst: true, Config: with(func(c *Config) {
			c.Clients, c.QoS, c.Count, c.Duration = 2000, 0, 2000, 0
			c.TopicType, c.Topic = mqttsn.TopicIDShort, "lb"
		})},
	}
}

// SuiteResult is a suite's raw ceiling and one row per scenario.
type SuiteResult struct {
	Host Host       `json:"host"`
	Raw  *RawResult `json:"raw"`
	Rows []SuiteRow `json:"rows"`
}

// SuiteRow is one scenario's outcome.
type SuiteRow struct {
	Name   string  `json:"name"`
	Burst  bool    `json:"burst,omitempty"`
	Result *Result `json:"result,omitempty"`
	Err    string  `json:"error,omitempty"`
}

// RunSuite runs each scenario against a fresh target from start. Right
// before each throughput scenario it measures the raw ceiling (raw; Size
// defaults to the first scenario's datagram size, Senders to 100, Duration
// to 2 s) and states the scenario's throughputs against it: on a shared or
// throttled host the ceiling moves, and a ratio to a ceiling measured
// minutes earlier would mislead. SuiteResult.Raw is the first of them.
func RunSuite(ctx context.Context, scenarios []Scenario, start func(context.Context) (Target, error), raw RawConfig) (*SuiteResult, error) {
	if len(scenarios) == 0 {
		return nil, fmt.Errorf("loadgen: empty suite")
	}
	if raw.Size <= 0 {
		raw.Size = scenarios[0].Config.DatagramSize()
	}
	if raw.Senders <= 0 {
		raw.Senders = 100
	}
	if raw.Duration <= 0 && raw.Count <= 0 {
		raw.Duration = 2 * time.Second
	}
	sr := &SuiteResult{Host: hostInfo()}
	for _, sc := range scenarios {
		var rr *RawResult
		if !sc.Burst || sr.Raw == nil {
			var err error
			if rr, err = RunRaw(ctx, raw); err != nil {
				return sr, err
			}
			if sr.Raw == nil {
				sr.Raw = rr
			}
		}
		if ctx.Err() != nil {
			return sr, ctx.Err()
		}
		row := SuiteRow{Name: sc.Name, Burst: sc.Burst}
		t, err := start(ctx)
		if err != nil {
			row.Err = err.Error()
			sr.Rows = append(sr.Rows, row)
			continue
		}
		cfg := sc.Config
		cfg.Gateway = t.Gateway
		cfg.GatewayStats = t.Stats
		if sc.WantBroker {
			cfg.SubMQTT = t.Broker
		}
		if cfg.SubMQTT != "" {
			cfg.SubQoS = -1
		}
		res, err := Run(ctx, cfg, nil)
		if t.Stop != nil {
			t.Stop()
		}
		if res != nil && rr != nil {
			res.Raw = rr
			res.Ratios = ratios(res)
		}
		row.Result = res
		if err != nil {
			row.Err = err.Error()
		}
		sr.Rows = append(sr.Rows, row)
	}
	return sr, nil
}

// WriteTable prints the suite as a Markdown table.
func (s *SuiteResult) WriteTable(w io.Writer) error {
	var b strings.Builder
	r := s.Raw
	if r == nil {
		r = &RawResult{}
	}
	fmt.Fprintf(&b, "host: %d CPUs, %s/%s, %s, load average %.2f at start\n", s.Host.CPUs, s.Host.GOOS, s.Host.GOARCH, s.Host.Go, s.Host.LoadAvg1)
	fmt.Fprintf(&b, "raw UDP ceiling, measured before each throughput scenario: %d B datagrams, %d sender sockets on %d goroutine(s) → 1 sink, unpaced\n\n",
		r.Size, r.Senders, r.Workers)
	b.WriteString("| scenario | clients | QoS | offered rate | raw ceiling/s | sent/s | gateway ingest/s (% of raw) | acked/s | delivered/s | headline % of raw | loss % | latency p50 / p99 | CPU µs/msg (cores busy) | notes |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	dash := func(v float64) string {
		if v <= 0 {
			return "—"
		}
		return num(v)
	}
	for _, row := range s.Rows {
		res := row.Result
		if res == nil {
			fmt.Fprintf(&b, "| %s | | | | | | | | | | | | | error: %s |\n", row.Name, row.Err)
			continue
		}
		c, p := res.Config, res.Publish
		var notes []string
		if cr := res.Connect; cr != nil && (row.Burst || cr.Accepted < c.Clients) {
			notes = append(notes, fmt.Sprintf("CONNECT burst: %d/%d answered in %s (%d after resends), latency p50 %s p99 %s",
				cr.AnsweredFirst, cr.Clients, dur(cr.BurstSeconds), cr.Accepted, us(cr.Latency.P50US), us(cr.Latency.P99US)))
		}
		if p.Retransmissions > 0 {
			notes = append(notes, fmt.Sprintf("%d retransmissions", p.Retransmissions))
		}
		if p.Rejected > 0 {
			notes = append(notes, fmt.Sprintf("%d rejected (%d congestion)", p.Rejected, p.Congestion))
		}
		if p.GatewayDrops > 0 {
			notes = append(notes, fmt.Sprintf("gateway dropped/refused %d", p.GatewayDrops))
		}
		if row.Err != "" {
			notes = append(notes, "error: "+row.Err)
		}
		if row.Burst {
			fmt.Fprintf(&b, "| %s | %d | %d | — | — | — | — | — | — | — | — | %s / %s (CONNACK) | — | %s |\n", row.Name, c.Clients, c.QoS,
				us(res.Connect.Latency.P50US), us(res.Connect.Latency.P99US), strings.Join(notes, "; "))
			continue
		}
		rate := "unpaced"
		if c.Rate > 0 {
			rate = num(c.Rate)
		}
		head, loss, lat := p.SentPerSec, "—", "—"
		if c.QoS > 0 {
			head, loss = p.AckedPerSec, fmt.Sprintf("%.3f (ack)", p.AckLossPct)
			lat = fmt.Sprintf("%s / %s (ack)", us(p.AckLatency.P50US), us(p.AckLatency.P99US))
		}
		if p.Subscriber != "" {
			head, loss = p.DeliveredPerSec, fmt.Sprintf("%.3f", p.DeliveryLossPct)
			if c.QoS <= 0 {
				lat = fmt.Sprintf("%s / %s (e2e)", us(p.E2ELatency.P50US), us(p.E2ELatency.P99US))
			}
		}
		ratio, ingest, ceil := "—", dash(p.GatewayIngestPerSec), "—"
		if x := res.Ratios; x != nil {
			ceil = num(x.CeilingPerSec)
			if head > 0 {
				ratio = fmt.Sprintf("%.1f", 100*head/x.CeilingPerSec)
			}
			if p.GatewayIngestPerSec > 0 {
				ingest += fmt.Sprintf(" (%.1f)", 100*x.Ingest)
			}
		}
		cpu := "—"
		if p.CPUSeconds > 0 {
			cpu = fmt.Sprintf("%.1f (%.2f)", p.CPUPerMsgUS, p.CPUSeconds/max(p.WallSeconds, 1e-9))
			if p.GatewayCPUSeconds > 0 {
				cpu += fmt.Sprintf("; gateway process %.1f (%.2f)", p.GatewayCPUPerMsgUS, p.GatewayCPUSeconds/max(p.WallSeconds, 1e-9))
			}
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", row.Name, c.Clients, c.QoS, rate,
			ceil, dash(p.SentPerSec), ingest, dash(p.AckedPerSec), dash(p.DeliveredPerSec), ratio, loss, lat, cpu, strings.Join(notes, "; "))
	}
	b.WriteString("\nheadline: delivered/s with a subscriber, else acked/s (QoS 1/2), else sent/s. " +
		"Rates are counts over the time from the start of the publish phase to the last event of their kind. " +
		"CPU: this process's (generator, subscriber and, in process, gateway and broker) over the phase and its drain, per message sent; " +
		"cores busy = CPU time over wall time; with --spawn the gateway's own process is given after it.\n")
	_, err := io.WriteString(w, b.String())
	return err
}
