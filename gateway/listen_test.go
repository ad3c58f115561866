package gateway

import (
	"context"
	"fmt"
	"net"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// TestListenUDPReusePort: two sockets on one port, both served by one
// gateway; clients connect, register and publish at QoS 1 through the one
// address and every exchange is answered, and the kernel spread the
// clients over both sockets (each session is keyed by the socket its
// client wrote to).
func TestListenUDPReusePort(t *testing.T) {
	if !reusePortSupported {
		t.Skip("SO_REUSEPORT receive sockets are Linux only")
	}
	pcs, err := ListenUDP(context.Background(), "udp4", "127.0.0.1:0", 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(pcs) != 2 || pcs[0].LocalAddr().String() != pcs[1].LocalAddr().String() {
		t.Fatalf("sockets on %v and %v, want 2 on one address", pcs[0].LocalAddr(), pcs[len(pcs)-1].LocalAddr())
	}
	b := newFakeBroker()
	started := make(chan struct{}, len(pcs))
	g, err := New(Config{Registerer: prometheus.NewRegistry(), NotifyStarted: func(net.PacketConn) { started <- struct{}{} }}, b)
	if err != nil {
		t.Fatal(err)
	}
	b.mu.Lock()
	b.deliver = g.Deliver
	b.mu.Unlock()
	done := make(chan error, len(pcs))
	for _, pc := range pcs {
		go func() { done <- g.Serve(context.Background(), pc) }()
	}
	t.Cleanup(func() {
		g.Close()
		for range pcs {
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		}
		for _, pc := range pcs {
			pc.Close()
		}
	})
	for range pcs {
		<-started
	}

	gw := pcs[0].LocalAddr().(*net.UDPAddr)
	const clients = 32 // all on one socket by chance: 2 in 2^32
	for i := range clients {
		c := newClient(t, gw)
		c.connect(fmt.Sprintf("rp-%02d", i), true, 60)
		id := c.register("ward/rp/hr", 1)
		c.send(&mqttsn.Publish{QoS: mqttsn.QoS1, TopicID: id, MsgID: 2, Data: []byte("72")})
		if ack := expect[*mqttsn.Puback](c); ack.ReturnCode != mqttsn.Accepted || ack.MsgID != 2 {
			t.Fatalf("client %d: PUBACK %+v", i, ack)
		}
	}
	g.mu.Lock()
	per := map[*servedConn]int{}
	for k := range g.byAddr {
		per[k.conn]++
	}
	g.mu.Unlock()
	if len(per) != len(pcs) {
		t.Errorf("sessions on %d sockets (%v), want all %d used", len(per), per, len(pcs))
	}
}

// TestListenUDPOne: n <= 1 is one ordinary socket.
func TestListenUDPOne(t *testing.T) {
	pcs, err := ListenUDP(context.Background(), "udp4", "127.0.0.1:0", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pcs[0].Close()
	if len(pcs) != 1 {
		t.Fatalf("%d sockets, want 1", len(pcs))
	}
}
