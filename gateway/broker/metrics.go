package broker

import "github.com/prometheus/client_golang/prometheus"

// Collector exports an adapter's Stats as Prometheus metrics
// (lsmqtt_broker_*), read at scrape time.
type Collector struct {
	src                                                   StatsSource
	state, clients, subs, queued, queueLimit              *prometheus.Desc
	published, delivered, busy, dropped, reconnects, info *prometheus.Desc
	kind                                                  string
}

// NewCollector returns a collector for src; kind ("embedded", "aggregating",
// "transparent") is exported as a label of lsmqtt_broker_info.
func NewCollector(src StatsSource, kind string) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("lsmqtt_broker_"+name, help, labels, nil)
	}
	return &Collector{
		src:        src,
		kind:       kind,
		info:       d("info", "The broker adapter in use (value 1).", "kind"),
		state:      d("connected", "1 when the broker connection is up (always, for the embedded broker)."),
		clients:    d("clients", "MQTT-SN clients attached to the broker."),
		subs:       d("subscriptions", "Subscriptions held for MQTT-SN clients."),
		queued:     d("queued_messages", "Accepted messages waiting for the broker (outage queue)."),
		queueLimit: d("queue_limit", "Bound of the outage queue; Publish is refused with congestion beyond it."),
		published:  d("published_total", "Messages accepted from MQTT-SN clients."),
		delivered:  d("delivered_total", "Messages routed from the broker to MQTT-SN clients."),
		busy:       d("busy_total", "Publishes refused because the outage queue was full."),
		dropped:    d("dropped_total", "Messages dropped by the adapter, by reason.", "reason"),
		reconnects: d("reconnects_total", "Broker connections re-established after a loss."),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.info, c.state, c.clients, c.subs, c.queued, c.queueLimit,
		c.published, c.delivered, c.busy, c.dropped, c.reconnects} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	g := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	n := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	g(c.info, 1, c.kind)
	up := 0.0
	if s.State == StateConnected {
		up = 1
	}
	g(c.state, up)
	g(c.clients, float64(s.Clients))
	g(c.subs, float64(s.Subscriptions))
	g(c.queued, float64(s.Queued))
	g(c.queueLimit, float64(s.QueueLimit))
	n(c.published, s.Published)
	n(c.delivered, s.Delivered)
	n(c.busy, s.Busy)
	n(c.reconnects, s.Reconnects)
	for r, v := range s.DroppedByReason {
		n(c.dropped, v, r)
	}
}
