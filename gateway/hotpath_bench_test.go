package gateway

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// perfBroker accepts everything and keeps nothing but counts, so that the
// gateway's own cost per datagram is what a benchmark measures.
type perfBroker struct {
	published atomic.Int64
}

func (*perfBroker) Attach(context.Context, string, bool) error { return nil }
func (*perfBroker) Detach(context.Context, string) error       { return nil }
func (b *perfBroker) Publish(_ context.Context, _ string, m broker.Message) error {
	b.published.Add(int64(len(m.Payload) + 1))
	return nil
}
func (*perfBroker) Subscribe(context.Context, string, string, byte) (byte, error) { return 0, nil }
func (*perfBroker) Unsubscribe(context.Context, string, string) error             { return nil }
func (*perfBroker) State() broker.State                                           { return broker.StateConnected }
func (*perfBroker) Close() error                                                  { return nil }

// perfGateway is a gateway driven through handleDatagram, its dispatch
// entry point, with synthetic sender addresses; its answers leave through a
// real loopback socket (to addresses nobody reads, unless a test reads them).
type perfGateway struct {
	g    *Gateway
	conn *servedConn
}

func newPerfGateway(tb testing.TB, br broker.Broker, maxClients int) *perfGateway {
	tb.Helper()
	g, err := New(Config{Registerer: prometheus.NewRegistry(), MaxClients: maxClients, AdvertiseInterval: -1,
		Clock: clock.NewVirtual(time.Unix(1_700_000_000, 0))}, br)
	if err != nil {
		tb.Fatal(err)
	}
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { g.Close(); pc.Close() })
	return &perfGateway{g: g, conn: &servedConn{pc: pc, udp: pc}}
}

// synthKey is the i-th synthetic client address, 127.x.y.z:40000 (the whole
// of 127/8 is loopback; nothing listens there).
func (p *perfGateway) synthKey(i int) peerKey {
	a := netip.AddrFrom4([4]byte{127, byte(1 + i>>16), byte(i >> 8), byte(i)})
	return peerKey{conn: p.conn, ap: netip.AddrPortFrom(a, 40000)}
}

func encode(tb testing.TB, m mqttsn.Message) []byte {
	b, err := m.AppendBinary(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// connectAll connects clients 0..n-1 (CleanSession, keep-alive 1 h), each
// registering one topic, and waits until every broker call has ended.
func (p *perfGateway) connectAll(tb testing.TB, n int) {
	tb.Helper()
	reg := encode(tb, &mqttsn.Register{MsgID: 1, TopicName: []byte("ward/7/bed/12/spo2")})
	for i := 0; i < n; i++ {
		k := p.synthKey(i)
		p.g.handleDatagram(encode(tb, &mqttsn.Connect{ClientID: fmt.Appendf(nil, "idle-%06d", i), CleanSession: true, Duration: 3600}), k, nil)
		if i%256 == 255 {
			p.settle()
		}
	}
	p.settle()
	for i := 0; i < n; i++ {
		p.g.handleDatagram(reg, p.synthKey(i), nil)
	}
	if got := p.g.Stats().Clients["active"]; got != n {
		tb.Fatalf("%d active sessions, want %d (stats %+v)", got, n, p.g.Stats())
	}
}

// settle waits for the asynchronous broker calls (Attach) to end.
func (p *perfGateway) settle() {
	for p.g.ops.Load() > 0 {
		runtime.Gosched()
	}
}

// publishDatagram is a QoS 0 PUBLISH on the topic id connectAll registered
// (the first a client registers is 1) with 32 bytes of payload.
func publishDatagram(tb testing.TB) []byte {
	return encode(tb, &mqttsn.Publish{QoS: mqttsn.QoS0, TopicIDType: mqttsn.TopicIDNormal, TopicID: 1, Data: make([]byte, 32)})
}

// BenchmarkDispatchQoS0 is the gateway's per-datagram cost for a QoS 0
// PUBLISH from a connected client, read buffer to broker call (the broker
// does nothing). Compare BenchmarkEndToEnd for the whole path with sockets.
func BenchmarkDispatchQoS0(b *testing.B) {
	br := &perfBroker{}
	p := newPerfGateway(b, br, 16)
	p.connectAll(b, 1)
	pub, k := publishDatagram(b), p.synthKey(0)
	b.ReportAllocs()
	for b.Loop() {
		p.g.handleDatagram(pub, k, nil)
	}
	if br.published.Load() == 0 {
		b.Fatal("nothing published")
	}
}

// BenchmarkDispatchQoS0Parallel is the same from 100 clients on every core:
// the cost of sharing the gateway's lock.
func BenchmarkDispatchQoS0Parallel(b *testing.B) {
	br := &perfBroker{}
	p := newPerfGateway(b, br, 128)
	p.connectAll(b, 100)
	pub := publishDatagram(b)
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		k := p.synthKey(int(next.Add(1)-1) % 100)
		for pb.Next() {
			p.g.handleDatagram(pub, k, nil)
		}
	})
}

// TestQoS0PathAllocs: a QoS 0 PUBLISH from a connected client, dispatched to
// the broker, allocates nothing in the gateway (the payload reaches the
// broker aliased; the adapter makes the one copy it keeps).
func TestQoS0PathAllocs(t *testing.T) {
	br := &perfBroker{}
	p := newPerfGateway(t, br, 16)
	p.connectAll(t, 1)
	pub, k := publishDatagram(t), p.synthKey(0)
	before := br.published.Load()
	testutil.AssertAllocs(t, 0, func() { p.g.handleDatagram(pub, k, nil) })
	if br.published.Load() == before {
		t.Fatal("no PUBLISH reached the broker")
	}
}

// BenchmarkIdleSessions100k connects 100,000 clients through the dispatch
// path (CONNECT, REGISTER of one topic, keep-alive supervision running) and
// reports the heap they hold per session: gateway only, and with the
// embedded mochi broker holding its side of each client.
func BenchmarkIdleSessions100k(b *testing.B) {
	const n = 100_000
	b.Run("gateway-only", func(b *testing.B) {
		for b.Loop() {
			idleSessions(b, n, func() (broker.Broker, func(*Gateway)) { return &perfBroker{}, func(*Gateway) {} })
		}
	})
	// The embedded broker gives MQTT-SN clients no outbound queue of their
	// own (gateway/broker/broker_mochi_snclient.go); before that, mochi's
	// 1,024 pending writes per client were 8 KiB of each session.
	b.Run("with-embedded-broker", func(b *testing.B) {
		for b.Loop() {
			idleSessions(b, n, func() (broker.Broker, func(*Gateway)) {
				var g atomic.Pointer[Gateway]
				e, err := broker.NewEmbedded(broker.EmbeddedConfig{
					Deliver: func(id string, m broker.Message) { g.Load().Deliver(id, m) }})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { e.Close() })
				return e, func(gw *Gateway) { g.Store(gw) }
			})
		}
	})
}

// residentBytes is the process's resident set size (Linux), or -1.
func residentBytes() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return -1
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return -1
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return -1
	}
	return pages * int64(os.Getpagesize())
}

func idleSessions(b *testing.B, n int, mk func() (broker.Broker, func(*Gateway))) {
	runtime.GC()
	debug.FreeOSMemory()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rss0 := residentBytes()
	br, bind := mk()
	p := newPerfGateway(b, br, n+1)
	bind(p.g)
	p.connectAll(b, n)
	runtime.GC()
	debug.FreeOSMemory()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if rss1 := residentBytes(); rss0 > 0 && rss1 > 0 {
		b.ReportMetric(float64(rss1-rss0)/float64(n), "rss-B/session")
	}
	b.ReportMetric(float64(int64(after.HeapInuse)-int64(before.HeapInuse))/float64(n), "heap-B/session")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/float64(n), "live-B/session")
	runtime.KeepAlive(p)
}
