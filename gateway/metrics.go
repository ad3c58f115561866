package gateway

import (
	"strconv"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
)

// metrics holds the gateway's Prometheus collectors, with every label child
// the hot path needs bound in advance so that counting allocates nothing.
// Atomic mirrors feed Stats.
type metrics struct {
	clients  [numStates]prometheus.Gauge
	in, out  [256]prometheus.Counter // by message type; PUBLISH by QoS below
	pubIn    [4]prometheus.Counter   // QoS 0, 1, 2, -1
	pubOut   [3]prometheus.Counter
	drops    [numDropReasons]prometheus.Counter
	retrans  [256]prometheus.Counter
	connects map[string]prometheus.Counter

	nIn, nOut, nRetrans atomic.Uint64
	nDrops              [numDropReasons]atomic.Uint64
}

const publishType = 0x0C // MQTT-SN v1.2 §5.2.2 Table 3

// qosLabel maps a codec QoS (0, 1, 2, or 3 for -1) to its label.
var qosLabel = [4]string{"0", "1", "2", "-1"}

func newMetrics(reg prometheus.Registerer, b broker.Broker) (*metrics, error) {
	m := &metrics{connects: map[string]prometheus.Counter{}}
	clients := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "clients",
		Help: "MQTT-SN clients by state (MQTT-SN v1.2 §6.14).",
	}, []string{"state"})
	in := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "messages_in_total",
		Help: "MQTT-SN messages received, by type and (for PUBLISH) QoS.",
	}, []string{"type", "qos"})
	out := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "messages_out_total",
		Help: "MQTT-SN messages sent, by type and (for PUBLISH) QoS.",
	}, []string{"type", "qos"})
	drops := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "drops_total",
		Help: "Datagrams and messages dropped or refused, by reason.",
	}, []string{"reason"})
	retrans := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "retransmissions_total",
		Help: "Messages retransmitted after Tretry, by type.",
	}, []string{"type"})
	connects := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "lsmqtt", Subsystem: "gateway", Name: "connects_total",
		Help: "CONNECT procedures completed, by CONNACK result.",
	}, []string{"result"})
	cs := []prometheus.Collector{clients, in, out, drops, retrans, connects}
	for _, st := range []broker.State{broker.StateDisconnected, broker.StateConnecting, broker.StateConnected} {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: "lsmqtt", Subsystem: "gateway", Name: "broker_state",
			Help:        "1 for the broker connection's current state, 0 for the others.",
			ConstLabels: prometheus.Labels{"state": brokerStateName(st)},
		}, func() float64 {
			if b.State() == st {
				return 1
			}
			return 0
		}))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	for s := clientState(0); s < numStates; s++ {
		m.clients[s] = clients.WithLabelValues(s.String())
	}
	// One child per label value; the 256-entry tables share them.
	inC, outC, reC := map[string]prometheus.Counter{}, map[string]prometheus.Counter{}, map[string]prometheus.Counter{}
	for t := 0; t < 256; t++ {
		name := msgTypeName(byte(t))
		if inC[name] == nil && t != publishType { // PUBLISH is counted by QoS below
			inC[name] = in.WithLabelValues(name, "")
			outC[name] = out.WithLabelValues(name, "")
		}
		m.in[t], m.out[t] = inC[name], outC[name]
		switch t {
		case 0x0A, 0x0C, 0x10, 0x06, 0x08: // REGISTER, PUBLISH, PUBREL, WILLTOPICREQ, WILLMSGREQ
		default:
			if !isExtensionType(byte(t)) {
				name = "OTHER"
			}
		}
		if reC[name] == nil {
			reC[name] = retrans.WithLabelValues(name)
		}
		m.retrans[t] = reC[name]
	}
	for q := range m.pubIn {
		m.pubIn[q] = in.WithLabelValues("PUBLISH", qosLabel[q])
	}
	for q := range m.pubOut {
		m.pubOut[q] = out.WithLabelValues("PUBLISH", qosLabel[q])
	}
	for r := dropReason(0); r < numDropReasons; r++ {
		m.drops[r] = drops.WithLabelValues(r.String())
	}
	for _, r := range []string{"accepted", "congestion", "invalid_topic", "not_supported"} {
		m.connects[r] = connects.WithLabelValues(r)
	}
	return m, nil
}

func (m *metrics) countIn(t byte, qos byte) {
	m.nIn.Add(1)
	if t == publishType {
		m.pubIn[qos&3].Inc()
		return
	}
	m.in[t].Inc()
}

func (m *metrics) countOut(t byte, qos byte) {
	m.nOut.Add(1)
	if t == publishType && qos < 3 {
		m.pubOut[qos].Inc()
		return
	}
	m.out[t].Inc()
}

func (m *metrics) drop(r dropReason) {
	m.nDrops[r].Add(1)
	m.drops[r].Inc()
}

func (m *metrics) retransmit(t byte) {
	m.nRetrans.Add(1)
	m.retrans[t].Inc()
}

func brokerStateName(s broker.State) string {
	switch s {
	case broker.StateDisconnected:
		return "disconnected"
	case broker.StateConnecting:
		return "connecting"
	case broker.StateConnected:
		return "connected"
	}
	return strconv.Itoa(int(s))
}
