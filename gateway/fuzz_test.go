package gateway

import (
	"testing"

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

// splitDatagrams cuts a fuzz input into datagrams along MQTT-SN Length
// fields, so that one input can drive a sequence (CONNECT, SUBSCRIBE, ...);
// whatever does not parse goes out as one last datagram.
func splitDatagrams(b []byte) [][]byte {
	var out [][]byte
	for len(b) > 0 && len(out) < 16 {
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
func FuzzGateway(f *testing.F) {
	for _, m := range seedMessages() {
		b, err := mqttsn.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	var seq []byte
	for _, m := range seedMessages()[1:13] {
		b, _ := mqttsn.Marshal(m)
		seq = append(seq, b...)
	}
	f.Add(seq)

	// A fresh gateway per input keeps runs deterministic, which the fuzzing
	// engine's coverage guidance and minimisation rely on.
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness(t, func(c *Config) { c.MaxDatagram = 512 })
		legit, attacker := h.client(), h.client()
		legit.connect("legit-client-zz", true, 0)
		for _, d := range splitDatagrams(data) {
			attacker.sendRaw(d)
		}
		// Still served: a PINGREQ is answered. If the fuzz input took the
		// session over (open mode allows that), the client connects again.
		legit.send(&mqttsn.Pingreq{})
		for i := 0; ; i++ {
			if i > 8 {
				t.Fatal("legitimate client not served")
			}
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
	})
}
