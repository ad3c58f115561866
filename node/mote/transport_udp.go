package mote

import (
	"fmt"
	"net"
	"sync"

	"github.com/lsmqtt/lsmqtt/rpl/stack"
)

// UDPTransport carries the mote's datagrams over a plain UDP socket, so a
// mote can drive any MQTT-SN gateway, third-party ones included. There is no
// radio: the frames each datagram would take are ESTIMATED with a LinkModel
// (a one-hop 6LoWPAN link to a border router) and accounted as if sent and
// acknowledged on it. Lost datagrams and link-layer retransmissions are not
// seen, so over UDP they are not accounted.
type UDPTransport struct {
	accountRef
	conn  *countingConn
	owned bool

	mu      sync.Mutex
	gw      net.Addr
	onMoved func()
}

// DialUDP opens a UDP socket on an ephemeral port of the gateway address's
// family and returns a transport to the gateway at addr (host:port).
func DialUDP(addr string, model LinkModel) (*UDPTransport, error) {
	gw, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("mote: gateway address: %w", err)
	}
	network := "udp4"
	if gw.IP.To4() == nil {
		network = "udp6"
	}
	pc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, err
	}
	t := NewUDPTransport(pc, gw, model)
	t.owned = true
	return t, nil
}

// NewUDPTransport wraps a packet connection to the gateway at gw. Close does
// not close conn.
func NewUDPTransport(conn net.PacketConn, gw net.Addr, model LinkModel) *UDPTransport {
	t := &UDPTransport{gw: gw}
	t.conn = &countingConn{PacketConn: conn, model: model, ref: &t.accountRef}
	return t
}

// Conn implements Transport.
func (t *UDPTransport) Conn() net.PacketConn { return t.conn }

func (t *UDPTransport) dutyCycled() bool { return false }

// Gateway implements Transport.
func (t *UDPTransport) Gateway() net.Addr {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.gw
}

// SetGateway points the transport at another gateway: the node's owner
// tells it that it is in another area now. A running mote (Run) moves its
// session there at once (Mote.Move).
func (t *UDPTransport) SetGateway(gw net.Addr) {
	if f := t.setGateway(gw); f != nil {
		f()
	}
}

func (t *UDPTransport) setGateway(gw net.Addr) (notify func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gw = gw
	return t.onMoved
}

func (t *UDPTransport) notify(f func()) {
	t.mu.Lock()
	t.onMoved = f
	t.mu.Unlock()
}

// Ready implements Transport: a UDP socket is always ready.
func (t *UDPTransport) Ready() bool { return true }

// Kind implements Transport.
func (t *UDPTransport) Kind() string { return "udp" }

// Close implements Transport; it closes the socket if DialUDP opened it.
func (t *UDPTransport) Close() error {
	if t.owned {
		return t.conn.PacketConn.Close()
	}
	return nil
}

// Datagrams returns the datagrams and octets (UDP payloads) the transport
// carried each way.
func (t *UDPTransport) Datagrams() (sent, sentOctets, received, receivedOctets uint64) {
	c := t.conn
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent, c.sentOctets, c.recv, c.recvOctets
}

func (t *UDPTransport) sync() {}

// countingConn accounts the estimated frames of every datagram.
type countingConn struct {
	net.PacketConn
	model LinkModel
	ref   *accountRef

	mu                                 sync.Mutex
	sent, sentOctets, recv, recvOctets uint64
	scratch                            []int
}

func (c *countingConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	n, err := c.PacketConn.WriteTo(b, addr)
	if err == nil {
		c.account(len(b), true)
	}
	return n, err
}

func (c *countingConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil {
		c.account(n, false)
	}
	return n, addr, err
}

// account: an outgoing datagram is our frames out and their ACKs in; an
// incoming one is frames in and our ACKs out.
func (c *countingConn) account(n int, out bool) {
	c.mu.Lock()
	if out {
		c.sent++
		c.sentOctets += uint64(n)
	} else {
		c.recv++
		c.recvOctets += uint64(n)
	}
	c.scratch = c.model.Frames(c.scratch[:0], n)
	frames := c.scratch
	a := c.ref.get()
	if a != nil {
		data, ack := stack.Rx, stack.Tx
		if out {
			data, ack = stack.Tx, stack.Rx
		}
		for _, f := range frames {
			a.frame(data, f)
			a.frame(ack, ackPSDU)
		}
	}
	c.mu.Unlock()
}
