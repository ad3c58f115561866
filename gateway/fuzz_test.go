package gateway

import (
	"fmt"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// seedMessages are valid messages of every type a client may send, plus a
// few a gateway sends and an extension, as fuzz seeds.
func seedMessages() []mqttsn.Message {
	sid, _ := mqttsn.ShortTopicID("ab")
	return []mqttsn.Message{
		&mqttsn.SearchGW{Radius: 1},
		&mqttsn.Connect{ClientID: []byte("fz"), CleanSession: true, Duration: 30},
		&mqttsn.Connect{ClientID: []byte("fz"), Will: true, Duration: 30},
		&mqttsn.WillTopic{QoS: mqttsn.QoS1, Topic: []byte("w/t")},
		&mqttsn.WillTopic{},
		&mqttsn.WillMsg{Msg: []byte("bye")},
		&mqttsn.Register{MsgID: 1, TopicName: []byte("a/b")},
		&mqttsn.Regack{TopicID: 1, MsgID: 1},
		&mqttsn.Publish{QoS: mqttsn.QoS0, TopicID: 1, Data: []byte("x")},
		&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 1, MsgID: 2, Data: []byte("x")},
		&mqttsn.Publish{QoS: mqttsn.QoS2, TopicID: 1, MsgID: 3, Data: []byte("x")},
		&mqttsn.Publish{QoS: mqttsn.QoSMinus1, TopicIDType: mqttsn.TopicIDPredefined, TopicID: 1},
		&mqttsn.Publish{QoS: mqttsn.QoS1, TopicIDType: mqttsn.TopicIDShort, TopicID: sid, MsgID: 4},
		&mqttsn.Puback{TopicID: 1, MsgID: 2},
		&mqttsn.Pubrec{MsgID: 3},
		&mqttsn.Pubrel{MsgID: 3},
		&mqttsn.Pubcomp{MsgID: 3},
		&mqttsn.Subscribe{QoS: mqttsn.QoS1, MsgID: 5, TopicName: []byte("a/#")},
		&mqttsn.Subscribe{TopicIDType: mqttsn.TopicIDPredefined, MsgID: 6, TopicID: 1},
		&mqttsn.Unsubscribe{MsgID: 7, TopicName: []byte("a/#")},
		&mqttsn.Pingreq{},
		&mqttsn.Pingreq{ClientID: []byte("fz")},
		&mqttsn.Pingresp{},
		&mqttsn.Disconnect{},
		&mqttsn.Disconnect{HasDuration: true, Duration: 60},
		&mqttsn.WillTopicUpd{Topic: []byte("w/u")},
		&mqttsn.WillMsgUpd{Msg: []byte("m")},
		&mqttsn.Advertise{GWID: 1, Duration: 900},
		&mqttsn.Connack{},
		&mqttsn.Encapsulated{NodeID: []byte{1}, Msg: &mqttsn.Connect{ClientID: []byte("fw"), Duration: 30}},
		&mqttsn.Unknown{MsgType: 0xA0, Body: []byte{1, 2, 3}},
		&mqttsn.Unknown{MsgType: 0xB0, Body: []byte{4}},
	}
}

// maxFuzzDatagrams bounds the datagrams splitDatagrams cuts from one fuzz
// input along Length fields (the rest goes out as one more).
const maxFuzzDatagrams = 16

// splitDatagrams cuts a fuzz input into datagrams along MQTT-SN Length
// fields, so that one input can drive a sequence (CONNECT, SUBSCRIBE, ...);
// whatever does not parse goes out as one last datagram.
func splitDatagrams(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 && len(out) < maxFuzzDatagrams {
		h, err := mqttsn.ReadHeader(b)
		if err != nil {
			break
		}
		out = append(out, b[:h.Length])
		b = b[h.Length:]
	}
	if len(b) > 0 || len(out) == 0 {
		out = append(out, b)
	}
	return out
}

// FuzzGateway drives a live gateway on a loopback socket with arbitrary
// datagrams from one address, then checks that a legitimate client on
// another address is still served. The gateway must never panic.
//
// A fresh gateway per input keeps runs deterministic, which the fuzzing
// engine's coverage guidance and minimisation rely on. Each input's work is
// bounded and small: at most maxFuzzDatagrams+1 datagrams, no
// timer ever fires (the virtual clock never moves), at most maxFuzzReplies
// replies awaited, and a lean rig (newFuzzHarness).
func FuzzGateway(f *testing.F) {
	for _, m := range seedMessages() {
		b, err := mqttsn.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(seedSession(f))
	f.Fuzz(fuzzGatewayInput)
}

// seedSession is one input of many datagrams: a session from CONNECT on.
func seedSession(t testing.TB) []byte {
	var seq []byte
	for _, m := range seedMessages()[1:13] {
		b, err := mqttsn.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		seq = append(seq, b...)
	}
	return seq
}

// TestGatewayCorpusCommitted keeps testdata/fuzz/FuzzGateway in step with
// seedMessages and seedSession; LSMQTT_UPDATE_CORPUS=1 rewrites them. (The
// corpus's other files are hand-made or earlier inputs, kept unchecked.)
func TestGatewayCorpusCommitted(t *testing.T) {
	var seeds []testutil.Seed
	for i, m := range seedMessages() {
		b, err := mqttsn.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		seeds = append(seeds, testutil.Seed{Name: fmt.Sprintf("seed-%02d-%v", i, m.Type()), Data: b})
	}
	seeds = append(seeds, testutil.Seed{Name: "seed-session", Data: seedSession(t)})
	testutil.CheckCorpus(t, "FuzzGateway", seeds)
}

// maxFuzzReplies bounds the messages the legitimate client reads before it
// must have its PINGRESP.
const maxFuzzReplies = 9

func fuzzGatewayInput(t *testing.T, data []byte) {
	h := newFuzzHarness(t)
	legit, attacker := newFuzzClient(t, h.addr, 1<<16), newFuzzClient(t, h.addr, 0)
	legit.connect("legit-client-zz", true, 0)
	for _, d := range splitDatagrams(data) {
		attacker.sendRaw(d)
	}
	// Still served: a PINGREQ is answered. If the fuzz input took the
	// session over (open mode allows that), the client connects again.
	legit.send(&mqttsn.Pingreq{})
	for range maxFuzzReplies {
		switch m := legit.recv().(type) {
		case *mqttsn.Pingresp:
			return
		case *mqttsn.Disconnect:
			legit.send(&mqttsn.Connect{ClientID: []byte("legit-client-zz"), CleanSession: true})
		case *mqttsn.Connack:
			if m.ReturnCode != mqttsn.Accepted {
				t.Fatalf("legitimate client refused: %v", m.ReturnCode)
			}
			legit.send(&mqttsn.Pingreq{})
		}
	}
	t.Fatal("legitimate client not served")
}

// newFuzzHarness is newHarness for FuzzGateway, without what fuzzing never
// uses and every input would pay for: the fake broker's record of 10,000
// publishes (nobody reads it here; Publish drops what it cannot hand over).
func newFuzzHarness(t *testing.T) *harness {
	t.Helper()
	b := &fakeBroker{attached: map[string]bool{}, subs: map[string]map[string]byte{}, pubs: make(chan fakePub)}
	b.state.Store(int32(broker.StateConnected))
	h := &harness{t: t, b: b, clk: clock.NewVirtual(epoch0), reg: prometheus.NewRegistry()}
	g, err := New(Config{
		Clock:            h.clk,
		Registerer:       h.reg,
		MaxDatagram:      512,
		PredefinedTopics: map[uint16]string{1: "ward/1/alarm", 2: "ward/1/status"},
	}, b)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	h.g = g
	b.mu.Lock()
	b.deliver = g.Deliver
	b.mu.Unlock()
	h.addr = h.serve("udp4", "127.0.0.1:0")
	return h
}

// newFuzzClient is newClient with a receive buffer of bufSize bytes (0 for a
// client that only sends) instead of 70,000.
func newFuzzClient(t *testing.T, gw *net.UDPAddr, bufSize int) *client {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: gw.IP})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &client{t: t, conn: conn, gw: gw, buf: make([]byte, bufSize)}
}
