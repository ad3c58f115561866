package client

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/lsmqtt/lsmqtt/internal/clock"
	"github.com/lsmqtt/lsmqtt/mqttsn"
)

// fakeGW is a scripted gateway on a real loopback UDP socket: the test reads
// what the client sent and answers by hand.
type fakeGW struct {
	t    *testing.T
	conn net.PacketConn
	peer net.Addr // the client, learned from its first datagram
}

// safety bounds a read so a broken test fails instead of hanging; it is a
// deadline, not a wait: reads return as soon as a datagram arrives.
const safety = 10 * time.Second

func newFakeGW(t *testing.T) *fakeGW {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &fakeGW{t: t, conn: conn}
}

func (g *fakeGW) addr() net.Addr { return g.conn.LocalAddr() }

// recvRaw returns the next datagram the gateway receives.
func (g *fakeGW) recvRaw() []byte {
	g.t.Helper()
	buf := make([]byte, 65536)
	g.conn.SetReadDeadline(time.Now().Add(safety))
	n, from, err := g.conn.ReadFrom(buf)
	if err != nil {
		g.t.Fatalf("fake gateway: no datagram from the client: %v", err)
	}
	g.peer = from
	return buf[:n]
}

func (g *fakeGW) recv() mqttsn.Message {
	g.t.Helper()
	b := g.recvRaw()
	m, err := mqttsn.DecodeDatagram(b)
	if err != nil {
		g.t.Fatalf("fake gateway: client sent malformed % x: %v", b, err)
	}
	return m
}

// expect receives the next message and checks its type.
func (g *fakeGW) expect(t mqttsn.MsgType) mqttsn.Message {
	g.t.Helper()
	m := g.recv()
	if m.Type() != t {
		g.t.Fatalf("fake gateway: got %v %#v, want %v", m.Type(), m, t)
	}
	return m
}

func (g *fakeGW) send(m mqttsn.Message) {
	g.t.Helper()
	b, err := mqttsn.Marshal(m)
	if err != nil {
		g.t.Fatal(err)
	}
	g.sendRaw(b)
}

func (g *fakeGW) sendRaw(b []byte) {
	g.t.Helper()
	if g.peer == nil {
		g.t.Fatal("fake gateway: client address unknown")
	}
	if _, err := g.conn.WriteTo(b, g.peer); err != nil {
		g.t.Fatal(err)
	}
}

type harness struct {
	c    *Client
	gw   *fakeGW
	clk  *clock.Virtual
	pubs chan Message
	ext  chan mqttsn.Message
	disc chan error
	adv  chan Gateway
	conn net.PacketConn
}

// setup starts a client on a loopback socket against a fake gateway, with a
// virtual clock so no timer fires unless the test advances it.
func setup(t *testing.T, cfg Config) *harness {
	t.Helper()
	h := &harness{
		gw: newFakeGW(t), clk: clock.NewVirtual(time.Unix(1000, 0)),
		pubs: make(chan Message, 64), ext: make(chan mqttsn.Message, 16),
		disc: make(chan error, 4), adv: make(chan Gateway, 4),
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.conn = conn
	if cfg.ClientID == "" {
		cfg.ClientID = "sensor-1"
	}
	if cfg.Clock == nil {
		cfg.Clock = h.clk
	}
	cfg.OnPublish = func(m Message) { h.pubs <- m }
	cfg.OnUnsolicited = func(m mqttsn.Message, _ net.Addr) { h.ext <- m }
	cfg.OnDisconnect = func(err error) { h.disc <- err }
	cfg.OnAdvertise = func(g Gateway) { h.adv <- g }
	h.c = New(conn, h.gw.addr(), cfg)
	t.Cleanup(func() {
		h.c.Close()
		conn.Close()
	})
	return h
}

// async runs f on its own goroutine and returns its error on a channel.
func async(f func() error) chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

func wait(t *testing.T, ch chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(safety):
		t.Fatal("call did not return")
		return nil
	}
}

func waitOK(t *testing.T, ch chan error) {
	t.Helper()
	if err := wait(t, ch); err != nil {
		t.Fatal(err)
	}
}

func recvPub(t *testing.T, ch chan Message) Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(safety):
		t.Fatal("no PUBLISH delivered")
		return Message{}
	}
}

// connect runs a plain CONNECT/CONNACK exchange.
func (h *harness) connect(t *testing.T) *mqttsn.Connect {
	t.Helper()
	done := async(func() error { return h.c.Connect(context.Background()) })
	m := h.gw.expect(mqttsn.TypeConnect).(*mqttsn.Connect)
	h.gw.send(&mqttsn.Connack{ReturnCode: mqttsn.Accepted})
	waitOK(t, done)
	return m
}

func isTimeout(err error) bool { return errors.Is(err, ErrTimeout) }
