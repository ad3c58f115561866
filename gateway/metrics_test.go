package gateway

import (
	"testing"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func TestMetrics(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("m", true, 60)
	id := c.register("t", 1)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 2})
	expect[*mqttsn.Puback](c)
	c.sendRaw([]byte{0x05, 0x0C}) // malformed
	c.sync()

	for _, tc := range []struct {
		name, metric string
		labels       map[string]string
		want         float64
	}{
		{"publish qos1 in", "lsmqtt_gateway_messages_in_total", map[string]string{"type": "PUBLISH", "qos": "1"}, 1},
		{"connect in", "lsmqtt_gateway_messages_in_total", map[string]string{"type": "CONNECT", "qos": ""}, 1},
		{"puback out", "lsmqtt_gateway_messages_out_total", map[string]string{"type": "PUBACK", "qos": ""}, 1},
		{"malformed", "lsmqtt_gateway_drops_total", map[string]string{"reason": "malformed"}, 1},
		{"active clients", "lsmqtt_gateway_clients", map[string]string{"state": "active"}, 1},
		{"broker connected", "lsmqtt_gateway_broker_state", map[string]string{"state": "connected"}, 1},
		{"broker not disconnected", "lsmqtt_gateway_broker_state", map[string]string{"state": "disconnected"}, 0},
		{"accepted connects", "lsmqtt_gateway_connects_total", map[string]string{"result": "accepted"}, 1},
	} {
		if got := metricValue(t, h, tc.metric, tc.labels); got != tc.want {
			t.Errorf("%s: %s%v = %v, want %v", tc.name, tc.metric, tc.labels, got, tc.want)
		}
	}
}

func metricValue(t *testing.T, h *harness, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range labels {
				if have[k] != v {
					continue next
				}
			}
			if m.Counter != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no series %s%v", name, labels)
	return 0
}
