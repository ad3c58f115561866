package gateway_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway"
	"github.com/lsmqtt/lsmqtt/internal/testutil"
	"github.com/lsmqtt/lsmqtt/mqttsn/client"
)

// relWait bounds every wait for an event in the reliability tests; it is a
// failure bound, never a measured duration.
const relWait = 30 * time.Second

// startRelMosquitto starts a mosquitto (persistence off, a deep queue per
// client) that the test may kill and start again on the same port.
func startRelMosquitto(t testing.TB) *testutil.MosquittoBroker {
	t.Helper()
	return testutil.Mosquitto(t, testutil.MosquittoOptions{MaxQueuedMessages: 100000, Wait: relWait})
}

// serveGateway serves g on a new loopback UDP socket and returns its
// address; the gateway is closed at cleanup.
func serveGateway(t testing.TB, g *gateway.Gateway) *net.UDPAddr {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Serve(ctx, pc) }()
	t.Cleanup(func() {
		cancel()
		g.Close()
		<-done
		pc.Close()
	})
	return pc.LocalAddr().(*net.UDPAddr)
}

// snClient returns a connected MQTT-SN client on its own loopback socket.
func snClient(t testing.TB, gw net.Addr, cfg client.Config) *client.Client {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(pc, gw, cfg)
	t.Cleanup(func() { c.Close(); pc.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), relWait)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		t.Fatalf("connect %s: %v", cfg.ClientID, err)
	}
	return c
}

// payloadSet collects the payloads a subscriber received.
type payloadSet struct {
	mu     sync.Mutex
	got    map[string]int
	change chan struct{}
}

func newPayloadSet() *payloadSet {
	return &payloadSet{got: map[string]int{}, change: make(chan struct{}, 1)}
}

func (p *payloadSet) add(s string) {
	p.mu.Lock()
	p.got[s]++
	p.mu.Unlock()
	select {
	case p.change <- struct{}{}:
	default:
	}
}

// waitAll waits until every payload in want arrived; it returns the missing ones.
func (p *payloadSet) waitAll(want []string, bound time.Duration) []string {
	deadline := time.After(bound)
	for {
		var missing []string
		p.mu.Lock()
		for _, w := range want {
			if p.got[w] == 0 {
				missing = append(missing, w)
			}
		}
		p.mu.Unlock()
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-p.change:
		case <-deadline:
			return missing
		}
	}
}

func (p *payloadSet) counts() (distinct, dups int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.got {
		dups += n - 1
	}
	return len(p.got), dups
}

// gatherValue sums the samples of the metric family name in reg; the test
// fails when reg has no such family.
func gatherValue(t testing.TB, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		var v float64
		for _, m := range mf.GetMetric() {
			switch {
			case m.GetCounter() != nil:
				v += m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				v += m.GetGauge().GetValue()
			}
		}
		return v
	}
	t.Fatalf("metric %s not exported", name)
	return 0
}
