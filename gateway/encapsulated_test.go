package gateway

import (
	"bytes"
	"testing"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// forwarder wraps a client's messages as a forwarder does (MQTT-SN v1.2 §5.5).
type forwarder struct {
	*client
}

func (f forwarder) sendFor(node string, m mqttsn.Message) {
	f.t.Helper()
	f.send(&mqttsn.Encapsulated{NodeID: []byte(node), Msg: m})
}

func (f forwarder) recvFor(node string) mqttsn.Message {
	f.t.Helper()
	m := f.recv()
	e, ok := m.(*mqttsn.Encapsulated)
	if !ok || !bytes.Equal(e.NodeID, []byte(node)) {
		f.t.Fatalf("want a message encapsulated for %q, got %+v", node, m)
	}
	return e.Msg
}

func TestForwarderEncapsulation(t *testing.T) {
	h := newHarness(t, nil)
	f := forwarder{h.client()}
	for _, n := range []string{"\x01\x02", "\x03\x04"} {
		f.sendFor(n, &mqttsn.Connect{ClientID: []byte("node" + n), CleanSession: true, Duration: 60})
		if ack, ok := f.recvFor(n).(*mqttsn.Connack); !ok || ack.ReturnCode != mqttsn.Accepted {
			t.Fatalf("%+v", ack)
		}
	}
	if st := h.g.Stats(); st.Clients["active"] != 2 {
		t.Fatalf("two nodes behind one forwarder must be two clients: %+v", st.Clients)
	}
	f.sendFor("\x01\x02", &mqttsn.Subscribe{MsgID: 1, TopicName: []byte("fw/t")})
	ack := f.recvFor("\x01\x02").(*mqttsn.Suback)
	h.inject("fw/t", "hi", 0)
	p, ok := f.recvFor("\x01\x02").(*mqttsn.Publish)
	if !ok || p.TopicID != ack.TopicID || string(p.Data) != "hi" {
		t.Fatalf("%+v", p)
	}
	// The forwarder's own address is not a client.
	f.send(&mqttsn.Pingreq{})
	expect[*mqttsn.Disconnect](f.client)
	// Nested encapsulation is refused (§5.5 carries one message).
	f.sendRaw([]byte{0x04, 0xFE, 0x00, 0x01, 0x04, 0xFE, 0x00, 0x02, 0x02, 0x16})
	f.sendFor("\x03\x04", &mqttsn.Pingreq{})
	if _, ok := f.recvFor("\x03\x04").(*mqttsn.Pingresp); !ok {
		t.Fatal("no PINGRESP")
	}
	if h.drops("nested_encapsulation") != 1 {
		t.Fatal(h.g.Stats().Drops)
	}
}
