package loadgen

import (
	"fmt"
	"io"
	"strings"
)

// Result is everything one `lsmqtt bench` run measured. It marshals to the
// JSON `--json` prints.
type Result struct {
	Host    Host           `json:"host"`
	Config  ConfigSummary  `json:"config"`
	Raw     *RawResult     `json:"raw,omitempty"`
	Connect *ConnectResult `json:"connect,omitempty"`
	Publish PublishResult  `json:"publish"`
	Ratios  *Ratios        `json:"ratios_to_raw,omitempty"`
}

// ConfigSummary echoes the settings that shape the figures.
type ConfigSummary struct {
	Gateway      string  `json:"gateway"`
	Clients      int     `json:"clients"`
	QoS          int     `json:"qos"`
	TopicType    string  `json:"topic_type"`
	Topic        string  `json:"topic,omitempty"`
	TopicID      uint16  `json:"topic_id,omitempty"`
	PayloadSize  int     `json:"payload_size"`
	DatagramSize int     `json:"datagram_size"`
	Rate         float64 `json:"rate"` // 0 = unpaced
	DurationS    float64 `json:"duration_s,omitempty"`
	Count        int64   `json:"count,omitempty"`
	Window       int     `json:"window"`
	SubQoS       int     `json:"sub_qos"`
}

func summarize(c *Config) ConfigSummary {
	s := ConfigSummary{Gateway: c.Gateway, Clients: c.Clients, QoS: c.QoS, TopicType: c.TopicType.String(),
		PayloadSize: c.PayloadSize, DatagramSize: c.DatagramSize(), Rate: c.Rate,
		DurationS: c.Duration.Seconds(), Count: c.Count, Window: c.Window, SubQoS: c.SubQoS}
	if c.TopicType == 1 {
		s.TopicID = c.TopicID
	} else {
		s.Topic = c.Topic
	}
	return s
}

// ConnectResult is the CONNECT burst.
type ConnectResult struct {
	Clients int `json:"clients"`
	// AnsweredFirst is how many CONNECTs of the burst itself were answered
	// within the connect timeout; Latency describes those answers.
	AnsweredFirst int64   `json:"answered_first"`
	Latency       Latency `json:"latency"`
	// SendSeconds is how long the burst took to leave; BurstSeconds runs
	// from the first CONNECT to the last first-attempt CONNACK.
	SendSeconds  float64 `json:"send_s"`
	BurstSeconds float64 `json:"burst_s"`
	// Retries is how many CONNECTs were resent; Answered, Accepted and
	// Rejected count the final outcome after them.
	Retries    int   `json:"retries"`
	Answered   int64 `json:"answered"`
	Accepted   int   `json:"accepted"`
	Rejected   int   `json:"rejected"`
	SendErrors int64 `json:"send_errors"`
	// Congestion counts CONNACKs "rejected: congestion": the client was
	// resent its CONNECT (up to Retries); one still refused after the
	// last resend counts in Rejected.
	Congestion int64 `json:"congestion,omitempty"`
	// Registered counts clients whose REGISTER was accepted (normal topics).
	Registered      int `json:"registered,omitempty"`
	RegisterRetries int `json:"register_retries,omitempty"`
}

// PublishResult is the publish phase.
type PublishResult struct {
	Clients int `json:"clients"`
	// Offered is what the schedule held; Sent what went out (first
	// transmissions only).
	Offered    int64 `json:"offered"`
	Sent       int64 `json:"sent"`
	SendErrors int64 `json:"send_errors"`
	// Acked counts accepted PUBACKs (QoS 1) or PUBCOMPs (QoS 2); Rejected
	// PUBACKs with a non-zero return code (Congestion of them "rejected:
	// congestion"); Lost messages given up after MaxRetries or the drain.
	Acked           int64 `json:"acked"`
	Rejected        int64 `json:"rejected"`
	Congestion      int64 `json:"rejected_congestion"`
	Lost            int64 `json:"lost"`
	Retransmissions int64 `json:"retransmissions"`
	// DupAcks counts answers for nothing in flight (late or repeated).
	DupAcks            int64 `json:"dup_acks"`
	Unexpected         int64 `json:"unexpected"`
	Malformed          int64 `json:"malformed"`
	GatewayDisconnects int64 `json:"gateway_disconnects"`
	SocketErrors       int64 `json:"socket_errors"`
	// Subscriber side: distinct messages delivered, repeated deliveries,
	// deliveries flagged DUP, payloads without a stamp of this run.
	Subscriber string `json:"subscriber,omitempty"`
	Delivered  int64  `json:"delivered"`
	Duplicates int64  `json:"duplicates"`
	DupFlagged int64  `json:"dup_flagged"`
	Foreign    int64  `json:"foreign"`
	// Loss: (sent-acked)/sent and (sent-delivered)/sent.
	AckLossPct      float64 `json:"ack_loss_pct"`
	DeliveryLossPct float64 `json:"delivery_loss_pct"`
	// Throughput: each count over the time from the start of the phase to
	// its own last event.
	SendSeconds     float64 `json:"send_s"`
	AckSeconds      float64 `json:"ack_s"`
	DeliverSeconds  float64 `json:"deliver_s"`
	SentPerSec      float64 `json:"sent_per_s"`
	AckedPerSec     float64 `json:"acked_per_s"`
	DeliveredPerSec float64 `json:"delivered_per_s"`
	// Gateway side, when its counters can be read (in-process): PUBLISHes
	// it received during the phase, their rate over the send phase, and
	// what it dropped or refused.
	GatewayIngested     int64   `json:"gateway_ingested,omitempty"`
	GatewayIngestPerSec float64 `json:"gateway_ingest_per_s,omitempty"`
	GatewayDrops        int64   `json:"gateway_drops,omitempty"`
	// AckLatency runs from the first transmission to PUBACK/PUBCOMP;
	// E2ELatency from the payload stamp to the subscriber.
	AckLatency Latency `json:"ack_latency"`
	E2ELatency Latency `json:"e2e_latency"`
	// CPU this process used from the start of the phase to the end of its
	// drain (user + system, getrusage): the generator's, plus the gateway's
	// and the broker's when they run in this process (--embedded, --suite
	// without --spawn). CPUPerMsgUS divides it by the messages sent; with
	// several cores, CPUSeconds over the phase's wall time is how many of
	// them the process kept busy. On a shared host these say what a
	// message costs where throughput only says what the process was given.
	CPUSeconds  float64 `json:"cpu_s,omitempty"`
	WallSeconds float64 `json:"wall_s,omitempty"`
	CPUPerMsgUS float64 `json:"cpu_per_msg_us,omitempty"`
	// The gateway's process's CPU time over the same span, and per message
	// sent, when the gateway runs in a process of its own (--spawn): what a
	// message costs the gateway and its broker alone.
	GatewayCPUSeconds  float64 `json:"gateway_cpu_s,omitempty"`
	GatewayCPUPerMsgUS float64 `json:"gateway_cpu_per_msg_us,omitempty"`
}

// Ratios are throughputs as fractions of the raw ceiling (datagrams/s the
// raw sink received) measured in the same run.
type Ratios struct {
	CeilingPerSec float64 `json:"ceiling_per_s"`
	Sent          float64 `json:"sent"`
	Ingest        float64 `json:"gateway_ingest,omitempty"`
	Acked         float64 `json:"acked"`
	Delivered     float64 `json:"delivered"`
}

func ratios(r *Result) *Ratios {
	c := r.Raw.Ceiling()
	if c <= 0 {
		return nil
	}
	return &Ratios{CeilingPerSec: c, Sent: r.Publish.SentPerSec / c, Ingest: r.Publish.GatewayIngestPerSec / c, Acked: r.Publish.AckedPerSec / c,
		Delivered: r.Publish.DeliveredPerSec / c}
}

// WriteText prints the result for people.
func (r *Result) WriteText(w io.Writer) error {
	var b strings.Builder
	c := r.Config
	pace := "unpaced"
	if c.Rate > 0 {
		pace = fmt.Sprintf("paced %s msg/s", num(c.Rate))
	}
	limit := ""
	if c.Count > 0 {
		limit = fmt.Sprintf(", count %d", c.Count)
	}
	if c.DurationS > 0 {
		limit += fmt.Sprintf(", duration %gs", c.DurationS)
	}
	topic := c.Topic
	if c.TopicType == "predefined" {
		topic = fmt.Sprintf("id %d", c.TopicID)
	}
	fmt.Fprintf(&b, "lsmqtt bench → %s: %d clients, QoS %d, %s topic %s, payload %d B (datagram %d B), %s%s",
		c.Gateway, c.Clients, c.QoS, c.TopicType, topic, c.PayloadSize, c.DatagramSize, pace, limit)
	if c.QoS > 0 {
		fmt.Fprintf(&b, ", window %d", c.Window)
	}
	fmt.Fprintf(&b, " [host: %d CPUs, load average %.2f]\n", r.Host.CPUs, r.Host.LoadAvg1)
	if r.Raw != nil {
		r.Raw.writeText(&b)
	}
	if cr := r.Connect; cr != nil {
		fmt.Fprintf(&b, "connect   burst of %d: %d answered within the timeout in %s (sent in %s); latency %s\n",
			cr.Clients, cr.AnsweredFirst, dur(cr.BurstSeconds), dur(cr.SendSeconds), cr.Latency.text())
		fmt.Fprintf(&b, "          after %d resends: %d accepted, %d rejected, %d unanswered",
			cr.Retries, cr.Accepted, cr.Rejected, int64(cr.Clients)-cr.Answered)
		if cr.Congestion > 0 {
			fmt.Fprintf(&b, " (%d congestion answers resent)", cr.Congestion)
		}
		if c.TopicType == "normal" {
			fmt.Fprintf(&b, "; %d registered (%d REGISTER resends)", cr.Registered, cr.RegisterRetries)
		}
		b.WriteString("\n")
	}
	p := r.Publish
	fmt.Fprintf(&b, "publish   %d clients: offered %d, sent %d", p.Clients, p.Offered, p.Sent)
	if p.SendErrors > 0 {
		fmt.Fprintf(&b, " (%d send errors)", p.SendErrors)
	}
	fmt.Fprintf(&b, " in %s = %s msg/s%s\n", dur(p.SendSeconds), num(p.SentPerSec), r.ratio(r.ratioOf(func(x *Ratios) float64 { return x.Sent })))
	if p.GatewayIngested > 0 || p.GatewayDrops > 0 {
		fmt.Fprintf(&b, "gateway   ingested %d PUBLISHes (%s msg/s%s), dropped or refused %d\n", p.GatewayIngested,
			num(p.GatewayIngestPerSec), r.ratio(r.ratioOf(func(x *Ratios) float64 { return x.Ingest })), p.GatewayDrops)
	}
	if c.QoS > 0 {
		fmt.Fprintf(&b, "acked     %d (%s msg/s%s), rejected %d (congestion %d), lost %d, loss %.3f %%, retransmissions %d, dup acks %d\n",
			p.Acked, num(p.AckedPerSec), r.ratio(r.ratioOf(func(x *Ratios) float64 { return x.Acked })),
			p.Rejected, p.Congestion, p.Lost, p.AckLossPct, p.Retransmissions, p.DupAcks)
		fmt.Fprintf(&b, "          ack latency %s\n", p.AckLatency.text())
	}
	if p.Subscriber != "" {
		fmt.Fprintf(&b, "delivered %d via %s (%s msg/s%s), loss %.3f %%, duplicates %d, DUP-flagged %d, foreign %d\n",
			p.Delivered, p.Subscriber, num(p.DeliveredPerSec), r.ratio(r.ratioOf(func(x *Ratios) float64 { return x.Delivered })),
			p.DeliveryLossPct, p.Duplicates, p.DupFlagged, p.Foreign)
		fmt.Fprintf(&b, "          end-to-end latency %s\n", p.E2ELatency.text())
	}
	if p.CPUSeconds > 0 {
		fmt.Fprintf(&b, "cpu       this process: %.2f s in %.2f s (%.2f cores busy), %.1f µs per message sent\n",
			p.CPUSeconds, p.WallSeconds, p.CPUSeconds/max(p.WallSeconds, 1e-9), p.CPUPerMsgUS)
	}
	if p.GatewayCPUSeconds > 0 {
		fmt.Fprintf(&b, "          the gateway's process: %.2f s (%.2f cores busy), %.1f µs per message sent\n",
			p.GatewayCPUSeconds, p.GatewayCPUSeconds/max(p.WallSeconds, 1e-9), p.GatewayCPUPerMsgUS)
	}
	if n := p.Unexpected + p.Malformed + p.GatewayDisconnects + p.SocketErrors; n > 0 {
		fmt.Fprintf(&b, "warnings  unexpected %d, malformed %d, gateway DISCONNECTs %d, socket errors %d\n",
			p.Unexpected, p.Malformed, p.GatewayDisconnects, p.SocketErrors)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (r *Result) ratioOf(f func(*Ratios) float64) float64 {
	if r.Ratios == nil {
		return -1
	}
	return f(r.Ratios)
}

func (r *Result) ratio(x float64) string {
	if x < 0 {
		return ""
	}
	return fmt.Sprintf(", %.1f %% of raw", 100*x)
}

func (r *RawResult) writeText(b *strings.Builder) {
	pace := "unpaced"
	if r.Rate > 0 {
		pace = "paced " + num(r.Rate) + "/s"
	}
	fmt.Fprintf(b, "raw       %d sender sockets (%d goroutines) → 1 sink, %d B, %s: offered %d, sent %d (%s/s), received %d, loss %.2f %% → ceiling %s datagrams/s (sink rcvbuf %d)\n",
		r.Senders, r.Workers, r.Size, pace, r.Offered, r.Sent, num(r.SentPerSec), r.Received, r.LossPct, num(r.ReceivedPerSec), r.SinkBuffers.Rcv)
}

// WriteText prints a raw-only result.
func (r *RawResult) WriteText(w io.Writer) error {
	var b strings.Builder
	r.writeText(&b)
	_, err := io.WriteString(w, b.String())
	return err
}

func (l Latency) text() string {
	if l.N == 0 {
		return "n/a"
	}
	return fmt.Sprintf("p50 %s p99 %s max %s (n=%d)", us(l.P50US), us(l.P99US), us(l.MaxUS), l.N)
}

func us(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fs", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2fms", v/1e3)
	}
	return fmt.Sprintf("%.0fµs", v)
}

func dur(s float64) string { return us(s * 1e6) }

// num formats a rate with thousands separators.
func num(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
