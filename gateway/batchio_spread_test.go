package gateway

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lsmqtt/lsmqtt/gateway/broker"
	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// gatedBroker holds the first Publish until open is closed, so that a test
// can pile datagrams up in the gateway's socket, and records the sequence
// numbers each client published.
type gatedBroker struct {
	perfBroker
	entered chan struct{} // closed by the first Publish
	open    chan struct{}
	once    sync.Once

	mu   sync.Mutex
	seqs map[string][]uint32
}

func (b *gatedBroker) Publish(_ context.Context, id string, m broker.Message) error {
	b.once.Do(func() { close(b.entered) })
	<-b.open
	b.mu.Lock()
	b.seqs[id] = append(b.seqs[id], binary.BigEndian.Uint32(m.Payload))
	b.mu.Unlock()
	return nil
}

// TestBacklogKeepsClientOrder piles up a burst of QoS 0 PUBLISHes from
// several clients while the gateway is held, so that its reads return full
// batches that are spread over the read workers, and checks that every
// client's messages reached the broker in the order it sent them.
func TestBacklogKeepsClientOrder(t *testing.T) {
	const clients, perClient = 8, 200
	br := &gatedBroker{entered: make(chan struct{}), open: make(chan struct{}), seqs: map[string][]uint32{}}
	g, err := New(Config{Registerer: prometheus.NewRegistry(), AdvertiseInterval: -1, Clock: clock.NewVirtual(epoch0)}, br)
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	started := make(chan struct{})
	g.cfg.NotifyStarted = func(net.PacketConn) { close(started) }
	done := make(chan error, 1)
	go func() { done <- g.Serve(context.Background(), pc) }()
	<-started
	defer func() {
		select {
		case <-br.open:
		default:
			close(br.open)
		}
		g.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	gw := pc.LocalAddr().(*net.UDPAddr)

	cs := make([]*client, clients)
	topics := make([]uint16, clients)
	for i := range cs {
		cs[i] = newClient(t, gw)
		cs[i].connect(fmt.Sprintf("order-%d", i), true, 0)
		topics[i] = cs[i].register("order/t", 1)
	}
	pub := func(i int, seq uint32) {
		data := binary.BigEndian.AppendUint32(nil, seq)
		cs[i].send(&mqttsn.Publish{QoS: mqttsn.QoS0, TopicID: topics[i], Data: data})
	}
	pub(0, 0) // held in the broker: the gateway stops reading
	<-br.entered
	for seq := uint32(1); seq <= perClient; seq++ {
		for i := range cs {
			pub(i, seq)
		}
	}
	close(br.open)
	// A PINGREQ is handled on the same worker as its sender's PUBLISHes,
	// after them: its PINGRESP means all of that client's are done.
	for i := range cs {
		cs[i].sync()
	}
	br.mu.Lock()
	defer br.mu.Unlock()
	total := 0
	for id, s := range br.seqs {
		total += len(s)
		for k := 1; k < len(s); k++ {
			if s[k] < s[k-1] {
				t.Fatalf("%s: seq %d after %d: reordered (%v)", id, s[k], s[k-1], s)
			}
		}
	}
	if total < clients*perClient/2 {
		t.Errorf("only %d of %d PUBLISHes reached the broker: the burst was not read", total, clients*perClient)
	}
}
