package loadgen

import (
	"net"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// fuzzClient is a client with two messages in flight whose socket writes
// to a loopback sink nobody reads.
func fuzzClient(t testing.TB) (*client, *snSubscriber) {
	sink, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.DialUDP("udp", nil, sink.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(); sink.Close() })
	cfg := Config{Gateway: "127.0.0.1:1", Count: 1, QoS: 2, Window: 4}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	r := &runner{cfg: &cfg, dgram: cfg.DatagramSize(), connectLat: new(Histogram), ackLat: new(Histogram),
		stop: make(chan struct{}), connDone: make(chan struct{}), regDone: make(chan struct{})}
	c := newClient(r, 0, conn)
	r.connLeft.Store(1 << 30)
	r.regLeft.Store(1 << 30)
	c.conState.Store(stPending)
	c.regState.Store(stPending)
	c.limit = 0
	c.payload = make([]byte, cfg.PayloadSize)
	c.pub = c.newPublish(c.payload)
	for range 2 {
		<-c.credit
		c.sendLocked()
	}
	s := &snSubscriber{cfg: &cfg, conn: conn, dl: newDeliveries(1, 0),
		connack: make(chan mqttsn.ReturnCode, 1), suback: make(chan mqttsn.Suback, 1)}
	return c, s
}

func FuzzClientHandle(f *testing.F) {
	for _, m := range []mqttsn.Message{
		&mqttsn.Connack{}, &mqttsn.Regack{MsgID: 1, TopicID: 3}, &mqttsn.Puback{MsgID: 1},
		&mqttsn.Puback{MsgID: 2, ReturnCode: mqttsn.RejectedCongestion}, &mqttsn.Pubrec{MsgID: 2}, &mqttsn.Pubcomp{MsgID: 2},
		&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: 3, MsgID: 9, Data: make([]byte, 16)},
		&mqttsn.Pubrel{MsgID: 9}, &mqttsn.Register{TopicID: 4, MsgID: 5, TopicName: []byte("a/b")},
		&mqttsn.Suback{MsgID: 1}, &mqttsn.Disconnect{}, &mqttsn.Pingresp{},
	} {
		b, err := mqttsn.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, s := fuzzClient(t)
		now := time.Now().UnixNano()
		c.handle(b, now)
		c.handle(b, now)
		_ = s.handle(b, now, nil)
		c.mu.Lock()
		inUse := 0
		for _, sl := range c.slots {
			if sl.inUse {
				inUse++
			}
		}
		if inUse+len(c.free) != len(c.slots) {
			t.Fatalf("%d slots in use + %d free != window %d", inUse, len(c.free), len(c.slots))
		}
		c.mu.Unlock()
	})
}
