package inproc

import (
	"context"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/loadgen"
)

// TestTwoSockets: a gateway serving two SO_REUSEPORT sockets on its port
// takes 16 clients' QoS 1 publishes through the one address, every one
// acknowledged and delivered at the broker.
func TestTwoSockets(t *testing.T) {
	in, err := Start(context.Background(), Config{Sockets: 2})
	if err != nil {
		t.Skipf("two sockets on one port: %v", err) // not Linux
	}
	t.Cleanup(func() { in.Close() })
	if len(in.conns) != 2 {
		t.Fatalf("%d sockets, want 2", len(in.conns))
	}
	res := runBench(t, loadgen.Config{Gateway: in.Addr(), Clients: 16, QoS: 1, Count: 320, Window: 1,
		SubMQTT: in.BrokerURL(), SubQoS: -1, Drain: 5 * time.Second, GatewayStats: in.Stats})
	p := res.Publish
	if res.Connect.Accepted != 16 || p.Sent != 320 || p.Acked != 320 || p.Delivered != 320 || p.Lost != 0 {
		t.Fatalf("connected %d, sent/acked/delivered/lost = %d/%d/%d/%d, want 16, 320/320/320/0",
			res.Connect.Accepted, p.Sent, p.Acked, p.Delivered, p.Lost)
	}
}
