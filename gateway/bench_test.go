package gateway

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// BenchmarkEndToEnd measures messages through the gateway and the embedded
// broker and back: each of N clients publishes on its own topic, to which it
// is subscribed, and waits for the message to come back before sending the
// next (one in flight per client; QoS 1 adds the PUBACKs both ways). It
// reports throughput and the round-trip latency (MQTT-SN client → gateway →
// broker → gateway → client) at p50 and p99.
func BenchmarkEndToEnd(b *testing.B) {
	for _, qos := range []mqttsn.QoS{mqttsn.QoS0, mqttsn.QoS1} {
		for _, n := range []int{1, 10, 100, 1000} {
			b.Run(fmt.Sprintf("qos%d/clients=%d", qos, n), func(b *testing.B) { benchEndToEnd(b, qos, n) })
		}
	}
}

func benchEndToEnd(b *testing.B, qos mqttsn.QoS, n int) {
	var g *Gateway
	e, err := broker.NewEmbedded(broker.EmbeddedConfig{Deliver: func(id string, m broker.Message) { g.Deliver(id, m) }})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	g, err = New(Config{Registerer: prometheus.NewRegistry(), MaxClients: n + 10}, e)
	if err != nil {
		b.Fatal(err)
	}
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	pc.SetReadBuffer(4 << 20)
	pc.SetWriteBuffer(4 << 20)
	done := make(chan error, 1)
	go func() { done <- g.Serve(context.Background(), pc) }()
	defer func() { g.Close(); <-done }()
	gw := pc.LocalAddr().(*net.UDPAddr)

	clients := make([]*client, n)
	ids := make([]uint16, n)
	for i := range clients {
		c := newClient(b, gw)
		c.connect(fmt.Sprintf("bench-%d", i), true, 0)
		ids[i] = c.subscribe(fmt.Sprintf("bench/%d", i), qos, 1).TopicID
		clients[i] = c
	}

	var next atomic.Int64
	lat := make([][]time.Duration, n)
	var lost atomic.Int64
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := clients[i]
			buf := make([]byte, 64)
			var msgID uint16
			for next.Add(1) <= int64(b.N) {
				msgID++
				if msgID == 0 {
					msgID = 1
				}
				sent := time.Now()
				binary.BigEndian.PutUint64(buf[7:], uint64(sent.UnixNano()))
				pub := mqttsn.Publish{QoS: qos, TopicID: ids[i], MsgID: msgID, Data: buf[7:15]}
				out, _ := pub.AppendBinary(buf[:0:7])
				got := false
				for tries := 0; !got && tries < 3; tries++ {
					c.conn.WriteToUDP(out, gw)
					got = awaitEcho(c, sent, qos)
				}
				if !got {
					lost.Add(1)
					continue
				}
				lat[i] = append(lat[i], time.Since(sent))
			}
		}(i)
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	slices.Sort(all)
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msg/s")
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	b.ReportMetric(float64(lost.Load()), "lost")
	if lost.Load() > 0 {
		b.Logf("stats %+v", g.Stats())
	}
}

// awaitEcho reads until the client's own message comes back (acknowledging
// it at QoS 1); false after a read timeout.
func awaitEcho(c *client, sent time.Time, qos mqttsn.QoS) bool {
	c.conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	for {
		n, err := c.conn.Read(c.buf)
		if err != nil {
			return false
		}
		var p mqttsn.Publish
		if _, err := p.Decode(c.buf[:n]); err != nil {
			continue // the PUBACK of our own publish
		}
		if qos == mqttsn.QoS1 {
			ack := mqttsn.Puback{TopicID: p.TopicID, MsgID: p.MsgID}
			b, _ := ack.AppendBinary(c.buf[:0])
			c.conn.WriteToUDP(b, c.gw)
		}
		if len(p.Data) == 8 && int64(binary.BigEndian.Uint64(p.Data)) == sent.UnixNano() {
			return true
		}
	}
}

// BenchmarkIdleSessionMemory reports the heap held per idle connected
// session (CONNECT and one registered topic), with the gateway alone (an
// in-memory broker) and with the embedded mochi broker. One op is one
// session connected and kept (so ns/op is the cost of a CONNECT and a
// REGISTER). The clients sit behind one forwarder socket (§5.5) so that no
// client-side objects share the measured heap.
func BenchmarkIdleSessionMemory(b *testing.B) {
	b.Run("gateway-only", func(b *testing.B) {
		benchIdleMemory(b, func() (broker.Broker, func(DeliverFunc), func()) {
			fb := newFakeBroker()
			fb.pubs = make(chan fakePub, 1)
			return fb, func(d DeliverFunc) { fb.deliver = d }, func() {}
		})
	})
	b.Run("with-embedded-broker", func(b *testing.B) {
		benchIdleMemory(b, func() (broker.Broker, func(DeliverFunc), func()) {
			var d DeliverFunc
			e, err := broker.NewEmbedded(broker.EmbeddedConfig{Deliver: func(id string, m broker.Message) { d(id, m) }})
			if err != nil {
				b.Fatal(err)
			}
			return e, func(f DeliverFunc) { d = f }, func() { e.Close() }
		})
	})
}

// DeliverFunc is broker.DeliverFunc, for the benchmark's brokers.
type DeliverFunc = broker.DeliverFunc

func benchIdleMemory(b *testing.B, mk func() (broker.Broker, func(DeliverFunc), func())) {
	sessions := b.N
	br, setDeliver, closeBroker := mk()
	defer closeBroker()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	g, err := New(Config{Registerer: prometheus.NewRegistry(), MaxClients: sessions + 1, Clock: clock.NewVirtual(epoch0)}, br)
	if err != nil {
		b.Fatal(err)
	}
	setDeliver(g.Deliver)
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	done := make(chan error, 1)
	go func() { done <- g.Serve(context.Background(), pc) }()
	defer func() { g.Close(); <-done }()
	f := forwarder{newClient(b, pc.LocalAddr().(*net.UDPAddr))}
	node := make([]byte, 4)
	b.ResetTimer()
	for s := 0; s < sessions; s++ {
		binary.BigEndian.PutUint32(node, uint32(s))
		f.sendFor(string(node), &mqttsn.Connect{ClientID: []byte(fmt.Sprintf("idle-%08d", s)), CleanSession: true, Duration: 60})
		if _, ok := f.recvFor(string(node)).(*mqttsn.Connack); !ok {
			b.Fatal("no CONNACK")
		}
		f.sendFor(string(node), &mqttsn.Register{MsgID: 1, TopicName: []byte("ward/7/bed/12/spo2")})
		f.recvFor(string(node))
	}
	b.StopTimer()
	if got := g.Stats().Clients["active"]; got != sessions {
		b.Fatalf("%d active sessions, want %d", got, sessions)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(sessions), "B/session")
	runtime.KeepAlive(g)
}
