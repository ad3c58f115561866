package loadgen

import (
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// oneQoS1Message sends a QoS 1 PUBLISH (a real UDP write) and handles its
// PUBACK, as the generator does for every message.
func oneQoS1Message(c *client, ack []byte) {
	<-c.credit
	c.mu.Lock()
	c.sendLocked()
	id := c.pub.MsgID
	c.mu.Unlock()
	ack[4], ack[5] = byte(id>>8), byte(id)
	c.handle(ack, time.Now().UnixNano())
}

func qos1Fixture(t testing.TB) (*client, []byte) {
	c, _ := fuzzClient(t)
	c.r.cfg.QoS = 1
	c.pub = c.newPublish(c.payload)
	c.limit = -1
	c.abandon()
	for range len(c.slots) - len(c.credit) {
		c.giveCredit()
	}
	ack, _ := mqttsn.Marshal(&mqttsn.Puback{TopicID: 1, MsgID: 1})
	return c, ack
}

func TestQoS1PathAllocs(t *testing.T) {
	c, ack := qos1Fixture(t)
	testutil.AssertAllocs(t, 0, func() { oneQoS1Message(c, ack) })
	if c.acked.Load() == 0 || c.dupAcks.Load() != 0 {
		t.Fatalf("acked %d dup %d: the PUBACKs did not match", c.acked.Load(), c.dupAcks.Load())
	}
}

func TestStampEncodeAllocs(t *testing.T) {
	payload := make([]byte, 32)
	pub := mqttsn.Publish{QoS: mqttsn.QoS0, TopicIDType: mqttsn.TopicIDShort, TopicID: 0x6c62, Data: payload}
	buf := make([]byte, 0, 64)
	testutil.AssertAllocs(t, 0, func() {
		stamp(payload, 1, 2, 3)
		buf, _ = pub.AppendBinary(buf[:0])
	})
}

// BenchmarkQoS1Message is the generator's own cost per QoS 1 message: encode
// and send a PUBLISH, decode and account its PUBACK.
func BenchmarkQoS1Message(b *testing.B) {
	c, ack := qos1Fixture(b)
	b.ReportAllocs()
	for b.Loop() {
		oneQoS1Message(c, ack)
	}
}
