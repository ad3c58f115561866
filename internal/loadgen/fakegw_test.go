package loadgen

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// fakeGW is a tiny MQTT-SN responder on a loopback socket: enough of a
// gateway to check the generator's counting, with knobs to drop things.
type fakeGW struct {
	conn *net.UDPConn
	done chan struct{}

	// dropEvery drops every k-th PUBLISH datagram (first sends and DUPs alike).
	dropEvery int
	// dropSeqEvery drops every transmission of the messages whose stamp
	// sequence number is ≡ k-1 (mod k): they can never be acknowledged.
	dropSeqEvery int
	// ignoreFirstConnectEvery ignores the first CONNECT of every k-th client
	// (by the order in which their first CONNECTs arrive).
	ignoreFirstConnectEvery int
	// congestFirstConnectEvery answers the first CONNECT of every k-th
	// client "rejected: congestion"; congestAlways does so to every CONNECT.
	congestFirstConnectEvery int
	congestAlways            bool
	// forwardDropEvery drops every k-th PUBLISH on the way to the subscriber.
	forwardDropEvery int

	mu          sync.Mutex
	publishes   int // PUBLISH datagrams received
	dropped     int // of which dropped
	acks        int // PUBACK/PUBCOMP sent
	forwarded   int
	connects    map[string]int
	connOrder   int
	sub         *net.UDPAddr
	subQoS      mqttsn.QoS
	fwdCount    int
	disconnects int
	changed     chan struct{} // pinged after every datagram handled
}

func startFakeGW(t *testing.T, setup func(*fakeGW)) *fakeGW {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	setBuffers(conn, 8<<20, 8<<20)
	g := &fakeGW{conn: conn, done: make(chan struct{}), connects: map[string]int{}, changed: make(chan struct{}, 1)}
	if setup != nil {
		setup(g)
	}
	go g.serve()
	t.Cleanup(func() {
		conn.Close()
		<-g.done
	})
	return g
}

func (g *fakeGW) addr() string { return g.conn.LocalAddr().String() }

func (g *fakeGW) serve() {
	defer close(g.done)
	buf := make([]byte, 65536)
	for {
		n, from, err := g.conn.ReadFromUDP(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		g.handle(buf[:n], from)
		select {
		case g.changed <- struct{}{}:
		default:
		}
	}
}

func (g *fakeGW) send(to *net.UDPAddr, m mqttsn.Message) {
	b, err := m.AppendBinary(nil)
	if err != nil {
		panic(err)
	}
	_, _ = g.conn.WriteToUDP(b, to)
}

func (g *fakeGW) handle(b []byte, from *net.UDPAddr) {
	m, err := mqttsn.DecodeDatagram(b)
	if err != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	switch m := m.(type) {
	case *mqttsn.Connect:
		id := string(m.ClientID)
		g.connects[id]++
		if g.connects[id] == 1 {
			g.connOrder++
			if k := g.ignoreFirstConnectEvery; k > 0 && g.connOrder%k == 0 {
				return
			}
			if k := g.congestFirstConnectEvery; k > 0 && g.connOrder%k == 0 {
				g.send(from, &mqttsn.Connack{ReturnCode: mqttsn.RejectedCongestion})
				return
			}
		}
		if g.congestAlways {
			g.send(from, &mqttsn.Connack{ReturnCode: mqttsn.RejectedCongestion})
			return
		}
		g.send(from, &mqttsn.Connack{ReturnCode: mqttsn.Accepted})
	case *mqttsn.Register:
		g.send(from, &mqttsn.Regack{TopicID: 7, MsgID: m.MsgID, ReturnCode: mqttsn.Accepted})
	case *mqttsn.Subscribe:
		g.sub, g.subQoS = from, m.QoS
		g.send(from, &mqttsn.Suback{QoS: m.QoS, TopicID: 7, MsgID: m.MsgID, ReturnCode: mqttsn.Accepted})
	case *mqttsn.Publish:
		g.publishes++
		_, _, seq, _ := readStamp(m.Data)
		if (g.dropEvery > 0 && g.publishes%g.dropEvery == 0) ||
			(g.dropSeqEvery > 0 && int(seq)%g.dropSeqEvery == g.dropSeqEvery-1) {
			g.dropped++
			return
		}
		switch m.QoS {
		case mqttsn.QoS1:
			g.acks++
			g.send(from, &mqttsn.Puback{TopicID: m.TopicID, MsgID: m.MsgID, ReturnCode: mqttsn.Accepted})
		case mqttsn.QoS2:
			g.send(from, &mqttsn.Pubrec{MsgID: m.MsgID})
		}
		if g.sub != nil && !m.DUP {
			g.fwdCount++
			if k := g.forwardDropEvery; k > 0 && g.fwdCount%k == 0 {
				return
			}
			g.forwarded++
			g.send(g.sub, &mqttsn.Publish{QoS: mqttsn.QoS0, TopicIDType: m.TopicIDType, TopicID: m.TopicID, Data: m.Data})
		}
	case *mqttsn.Pubrel:
		g.acks++
		g.send(from, &mqttsn.Pubcomp{MsgID: m.MsgID})
	case *mqttsn.Disconnect:
		g.disconnects++
		g.send(from, &mqttsn.Disconnect{})
	}
}

// waitPublishes waits until the responder has handled n PUBLISH datagrams.
func (g *fakeGW) waitPublishes(t *testing.T, n int) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		if p, _, _, _ := g.stats(); p >= n {
			return
		}
		select {
		case <-g.changed:
		case <-timeout.C:
			p, _, _, _ := g.stats()
			t.Fatalf("responder handled %d PUBLISHes, want %d", p, n)
		}
	}
}

func (g *fakeGW) stats() (publishes, dropped, acks, forwarded int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.publishes, g.dropped, g.acks, g.forwarded
}
