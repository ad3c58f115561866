package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

func run(t *testing.T, cfg Config, raw *RawConfig) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg, raw)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + buf.String())
	return res
}

// relaxedRetry is the retransmission timeout of the tests that count lost
// messages exactly: an answered message must never be given up (after
// MaxRetries resends) because a loaded host under -race delayed the
// responder; with 50-100 ms timeouts one did, with 4 attempts in 400 ms.
const relaxedRetry = 300 * time.Millisecond

func TestQoS1CountsAcksAndRetransmissions(t *testing.T) {
	// The responder drops every 7th PUBLISH datagram; each drop costs one
	// retransmission, and every message is still acknowledged.
	g := startFakeGW(t, func(g *fakeGW) { g.dropEvery = 7 })
	res := run(t, Config{Gateway: g.addr(), Clients: 3, QoS: 1, Count: 150, RetryTimeout: relaxedRetry, MaxRetries: 8}, nil)
	p := res.Publish
	g.waitPublishes(t, int(p.Sent+p.Retransmissions))
	pubs, dropped, acks, _ := g.stats()
	if p.Offered != 150 || p.Sent != 150 || p.Acked != 150 || p.Lost != 0 || p.AckLossPct != 0 {
		t.Fatalf("offered/sent/acked/lost/loss = %d/%d/%d/%d/%v, want 150/150/150/0/0", p.Offered, p.Sent, p.Acked, p.Lost, p.AckLossPct)
	}
	if dropped == 0 {
		t.Fatal("responder dropped nothing")
	}
	// Every datagram the generator sent reached the responder; every ack the
	// responder sent before the run ended reached the generator (as an ack or
	// a duplicate ack).
	if int64(pubs) != p.Sent+p.Retransmissions {
		t.Fatalf("responder saw %d PUBLISHes, generator sent %d + %d retransmissions", pubs, p.Sent, p.Retransmissions)
	}
	if p.Retransmissions < int64(dropped) {
		t.Fatalf("retransmissions %d < drops %d", p.Retransmissions, dropped)
	}
	if int64(acks) < p.Acked+p.DupAcks {
		t.Fatalf("responder sent %d PUBACKs, generator counted %d acked + %d duplicates", acks, p.Acked, p.DupAcks)
	}
	if p.AckLatency.N != 150 || p.AckLatency.MaxUS < p.AckLatency.P99US || p.AckLatency.P99US < p.AckLatency.P50US {
		t.Fatalf("ack latency %+v", p.AckLatency)
	}
	if c := res.Connect; c == nil || c.Accepted != 3 || c.AnsweredFirst != 3 || c.Registered != 3 {
		t.Fatalf("connect %+v", res.Connect)
	}
}

func TestQoS1LossWhenMessagesNeverAcked(t *testing.T) {
	// Every 10th message (by sequence) is dropped on every transmission:
	// after MaxRetries it counts as lost, exactly one in ten.
	g := startFakeGW(t, func(g *fakeGW) { g.dropSeqEvery = 10 })
	res := run(t, Config{Gateway: g.addr(), Clients: 2, QoS: 1, Count: 200, Window: 8,
		TopicType: mqttsn.TopicIDPredefined, TopicID: 5, RetryTimeout: relaxedRetry, MaxRetries: 3}, nil)
	p := res.Publish
	if p.Sent != 200 || p.Acked != 180 || p.Lost != 20 || p.AckLossPct != 10 {
		t.Fatalf("sent/acked/lost/loss = %d/%d/%d/%v, want 200/180/20/10", p.Sent, p.Acked, p.Lost, p.AckLossPct)
	}
	if p.Retransmissions < 60 { // 3 resends of each lost message at least
		t.Fatalf("retransmissions %d < 60", p.Retransmissions)
	}
}

func TestQoS2Flow(t *testing.T) {
	g := startFakeGW(t, nil)
	res := run(t, Config{Gateway: g.addr(), Clients: 2, QoS: 2, Count: 100, Window: 4, TopicType: mqttsn.TopicIDShort, Topic: "qq"}, nil)
	p := res.Publish
	_, _, acks, _ := g.stats()
	if p.Sent != 100 || p.Acked != 100 || p.Lost != 0 || acks != 100 {
		t.Fatalf("sent/acked/lost = %d/%d/%d, responder PUBCOMPs %d; want 100 each, 0 lost", p.Sent, p.Acked, p.Lost, acks)
	}
}

func TestQoS0DeliveryLossViaMQTTSNSubscriber(t *testing.T) {
	// The responder forwards PUBLISHes to the subscriber but drops every 8th.
	g := startFakeGW(t, func(g *fakeGW) { g.forwardDropEvery = 8 })
	res := run(t, Config{Gateway: g.addr(), Clients: 4, QoS: 0, Count: 400, Rate: 20000, SubMQTTSN: true, Drain: 3 * time.Second}, nil)
	p := res.Publish
	_, _, _, fwd := g.stats()
	if p.Sent != 400 || fwd != 350 {
		t.Fatalf("sent %d forwarded %d, want 400 and 350", p.Sent, fwd)
	}
	if p.Delivered != 350 || p.Duplicates != 0 || p.Foreign != 0 || p.DeliveryLossPct != 12.5 {
		t.Fatalf("delivered/dups/foreign/loss = %d/%d/%d/%v, want 350/0/0/12.5", p.Delivered, p.Duplicates, p.Foreign, p.DeliveryLossPct)
	}
	if p.E2ELatency.N != 350 || p.DeliveredPerSec <= 0 || !strings.HasPrefix(p.Subscriber, "mqtt-sn ") {
		t.Fatalf("e2e %+v, delivered/s %v, subscriber %q", p.E2ELatency, p.DeliveredPerSec, p.Subscriber)
	}
}

func TestConnectBurstWithIgnoredConnects(t *testing.T) {
	// The responder ignores the first CONNECT of every 3rd client: those
	// are answered only after one resend.
	g := startFakeGW(t, func(g *fakeGW) { g.ignoreFirstConnectEvery = 3 })
	res := run(t, Config{Gateway: g.addr(), Clients: 150, QoS: 0, Count: 150, ConnectTimeout: time.Second,
		TopicType: mqttsn.TopicIDPredefined, TopicID: 9}, nil)
	c := res.Connect
	if c.Clients != 150 || c.AnsweredFirst != 100 || c.Retries != 50 || c.Accepted != 150 || c.Answered != 150 {
		t.Fatalf("connect %+v, want 100 answered first, 50 resends, 150 accepted", c)
	}
	if c.Latency.N != 100 {
		t.Fatalf("connect latency counts %d answers, want the 100 first-attempt ones", c.Latency.N)
	}
	if res.Publish.Sent != 150 || res.Publish.Clients != 150 {
		t.Fatalf("publish sent %d from %d clients", res.Publish.Sent, res.Publish.Clients)
	}
}

func TestConnectBurstRetriesCongestion(t *testing.T) {
	// The responder answers the first CONNECT of every 3rd client
	// "rejected: congestion" (MQTT-SN v1.2 §6.2): those clients try again
	// with the next resend and are accepted, as real clients would be.
	g := startFakeGW(t, func(g *fakeGW) { g.congestFirstConnectEvery = 3 })
	res := run(t, Config{Gateway: g.addr(), Clients: 150, QoS: 0, Count: 150, ConnectTimeout: time.Second,
		TopicType: mqttsn.TopicIDPredefined, TopicID: 9}, nil)
	c := res.Connect
	if c.Congestion != 50 || c.Retries != 50 || c.Accepted != 150 || c.Rejected != 0 {
		t.Fatalf("connect %+v, want 50 congestion answers resent, 150 accepted", c)
	}
	if res.Publish.Clients != 150 {
		t.Fatalf("%d clients published, want 150", res.Publish.Clients)
	}
}

func TestConnectCongestionToTheEndIsRejected(t *testing.T) {
	g := startFakeGW(t, func(g *fakeGW) { g.congestAlways = true })
	// Every CONNECT is answered "rejected: congestion": each client is
	// resent ConnectRetries times and then counted rejected.
	res, err := Run(context.Background(), Config{Gateway: g.addr(), Clients: 4, QoS: 0, Count: 4,
		ConnectTimeout: 500 * time.Millisecond, ConnectRetries: 2, TopicType: mqttsn.TopicIDPredefined, TopicID: 9}, nil)
	if err == nil || res == nil || res.Connect == nil {
		t.Fatalf("no client can connect, yet Run returned %v, %+v", err, res)
	}
	c := res.Connect
	// Answers to the last resend may still be on their way when counting
	// ends; each client's first one has arrived (it is rejected, not unanswered).
	if c.Accepted != 0 || c.Rejected != 4 || c.Retries != 8 || c.Congestion < 4 || c.Congestion > 12 {
		t.Fatalf("connect %+v, want 8 resends, 4 rejected, 4-12 congestion answers", c)
	}
}

func TestQoSMinus1SendsNoConnect(t *testing.T) {
	g := startFakeGW(t, nil)
	res := run(t, Config{Gateway: g.addr(), Clients: 2, QoS: -1, Count: 64, TopicType: mqttsn.TopicIDShort, Topic: "ab"}, nil)
	g.waitPublishes(t, 64)
	pubs, _, _, _ := g.stats()
	g.mu.Lock()
	nconn := len(g.connects)
	g.mu.Unlock()
	if res.Connect != nil || nconn != 0 {
		t.Fatalf("QoS -1 connected: %+v, responder saw %d client ids", res.Connect, nconn)
	}
	if res.Publish.Sent != 64 || pubs != 64 {
		t.Fatalf("sent %d, responder received %d, want 64", res.Publish.Sent, pubs)
	}
}

func TestRawBaselineRatiosAndJSON(t *testing.T) {
	g := startFakeGW(t, nil)
	res := run(t, Config{Gateway: g.addr(), Clients: 2, QoS: 0, Duration: 50 * time.Millisecond, Rate: 2000,
		TopicType: mqttsn.TopicIDPredefined, TopicID: 1, PayloadSize: 64},
		&RawConfig{Duration: 50 * time.Millisecond})
	if res.Raw == nil || res.Ratios == nil {
		t.Fatal("no raw baseline or ratios")
	}
	if res.Raw.Size != res.Config.DatagramSize || res.Raw.Senders != 2 || res.Config.DatagramSize != 71 {
		t.Fatalf("raw used %d senders of %d B; run datagrams are %d B", res.Raw.Senders, res.Raw.Size, res.Config.DatagramSize)
	}
	if want := res.Publish.SentPerSec / res.Raw.ReceivedPerSec; res.Ratios.Sent != want || res.Ratios.CeilingPerSec != res.Raw.ReceivedPerSec {
		t.Fatalf("ratio %v, want %v", res.Ratios.Sent, want)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Publish.Sent != res.Publish.Sent || back.Raw.Received != res.Raw.Received || back.Config.QoS != 0 {
		t.Fatalf("JSON round trip lost figures: %s", b)
	}
}

func TestConfigErrors(t *testing.T) {
	for name, c := range map[string]Config{
		"no gateway":          {Count: 1},
		"no limit":            {Gateway: "127.0.0.1:1"},
		"qos -1 normal topic": {Gateway: "127.0.0.1:1", Count: 1, QoS: -1},
		"qos 3":               {Gateway: "127.0.0.1:1", Count: 1, QoS: 3},
		"short topic length":  {Gateway: "127.0.0.1:1", Count: 1, TopicType: mqttsn.TopicIDShort, Topic: "abc"},
		"predefined id 0":     {Gateway: "127.0.0.1:1", Count: 1, TopicType: mqttsn.TopicIDPredefined},
		"wildcard topic":      {Gateway: "127.0.0.1:1", Count: 1, Topic: "a/+"},
		"tiny payload e2e":    {Gateway: "127.0.0.1:1", Count: 1, PayloadSize: 8, SubMQTTSN: true},
		"long client ids":     {Gateway: "127.0.0.1:1", Count: 1, ClientIDPrefix: "a-very-long-client-prefix-"},
		"predefined over MQTT": {Gateway: "127.0.0.1:1", Count: 1, TopicType: mqttsn.TopicIDPredefined, TopicID: 3,
			SubMQTT: "mqtt://127.0.0.1:1883"},
		"bad broker URL": {Gateway: "127.0.0.1:1", Count: 1, SubMQTT: "http://x"},
	} {
		if _, err := Run(context.Background(), c, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestQoS1PacedWindow(t *testing.T) {
	// Paced QoS 1 takes the credit path rather than the ack-clocked one.
	g := startFakeGW(t, func(g *fakeGW) { g.dropEvery = 9 })
	res := run(t, Config{Gateway: g.addr(), Clients: 2, QoS: 1, Count: 120, Rate: 4000, Window: 3,
		RetryTimeout: relaxedRetry, MaxRetries: 8, TopicType: mqttsn.TopicIDShort, Topic: "pc"}, nil)
	p := res.Publish
	if p.Offered != 120 || p.Sent != 120 || p.Acked != 120 || p.Lost != 0 || p.Retransmissions == 0 {
		t.Fatalf("offered/sent/acked/lost/retrans = %d/%d/%d/%d/%d, want 120/120/120/0/>0", p.Offered, p.Sent, p.Acked, p.Lost, p.Retransmissions)
	}
}
