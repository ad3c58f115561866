package gateway

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// logBuffer is a concurrency-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBadDatagramsCountedByReason(t *testing.T) {
	var logs logBuffer
	h := newHarness(t, func(c *Config) {
		c.MaxDatagram = 128
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	bad := h.client()
	cases := []struct {
		name   string
		b      []byte
		reason string
	}{
		{"empty", []byte{}, "malformed"},
		{"one octet", []byte{0x02}, "malformed"},
		{"length beyond datagram", []byte{0x05, 0x0C}, "malformed"},
		{"length below header", []byte{0x01, 0x00, 0x01, 0x0C}, "malformed"},
		{"trailing octets", []byte{0x02, 0x16, 0x00}, "malformed"},
		{"truncated PUBLISH", []byte{0x03, 0x0C, 0x00}, "malformed"},
		{"QoS -1 with normal topic id", []byte{0x07, 0x0C, 0x60, 0x00, 0x01, 0x00, 0x00}, "malformed"},
		{"reserved flags in CONNECT", []byte{0x07, 0x04, 0x80, 0x01, 0x00, 0x3C, 'a'}, "malformed"},
		{"reserved type", []byte{0x02, 0x03}, "unknown_type"},
		{"reserved type 0xFF", []byte{0x02, 0xFF}, "unknown_type"},
		{"CONNACK from a client", []byte{0x03, 0x05, 0x00}, "not_for_gateway"},
		{"ADVERTISE from another gateway", []byte{0x05, 0x00, 0x07, 0x00, 0x3C}, "not_for_gateway"},
		{"oversize", make([]byte, 129), "oversize"},
		{"REGACK without session", []byte{0x07, 0x0B, 0x00, 0x01, 0x00, 0x01, 0x00}, "unknown_client"},
		{"WILLMSG outside a will flow", []byte{0x03, 0x09, 'x'}, "illegal_state"},
	}
	for _, tc := range cases {
		before := h.drops(tc.reason)
		bad.sendRaw(tc.b)
		if tc.reason == "unknown_client" {
			expect[*mqttsn.Disconnect](bad)
		}
		// Synchronise: the gateway handled the datagram once it answers this.
		bad.send(&mqttsn.SearchGW{})
		expect[*mqttsn.GWInfo](bad)
		if got := h.drops(tc.reason); got != before+1 {
			t.Errorf("%s: drops[%s] = %d, want %d (all drops %v)", tc.name, tc.reason, got, before+1, h.g.Stats().Drops)
		}
	}
	if !strings.Contains(logs.String(), "level=DEBUG") || !strings.Contains(logs.String(), "reason=oversize") {
		t.Errorf("drops not logged at debug level:\n%s", logs.String())
	}
	// A legitimate client is still served.
	c := h.client()
	c.connect("ok", true, 60)
	id := c.register("t", 1)
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 1})
	if a := expect[*mqttsn.Puback](c); a.ReturnCode != mqttsn.Accepted {
		t.Fatal(a.ReturnCode)
	}
}

func TestIllegalInState(t *testing.T) {
	h := newHarness(t, nil)
	c := h.client()
	c.connect("s", false, 60)
	c.send(&mqttsn.Disconnect{HasDuration: true, Duration: 100})
	expect[*mqttsn.Disconnect](c)
	// Asleep: PUBLISH and SUBSCRIBE need a CONNECT first.
	c.send(&mqttsn.Publish{QoS: mqttsn.QoS0, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 1})
	c.send(&mqttsn.Subscribe{MsgID: 1, TopicName: []byte("x")})
	c.send(&mqttsn.Pingreq{ClientID: []byte("s")})
	expect[*mqttsn.Pingresp](c)
	if h.drops("illegal_state") != 2 {
		t.Fatal(h.g.Stats().Drops)
	}
	h.b.noPubs(t)
	// Acks of nothing outstanding are counted, not fatal.
	c.connect("s", false, 60)
	c.send(&mqttsn.Puback{TopicID: 1, MsgID: 77})
	c.send(&mqttsn.Pubcomp{MsgID: 78})
	c.send(&mqttsn.Regack{TopicID: 1, MsgID: 79})
	c.sync()
	if h.drops("unknown_ack") != 3 {
		t.Fatal(h.g.Stats().Drops)
	}
}
