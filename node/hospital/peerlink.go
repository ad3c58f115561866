package hospital

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// peerHub is the hospital's backhaul between gateways (the session
// handover's peer messages, gateway.ServePeers) in memory: a datagram
// written to a peer is handed to its reader through a channel, so the
// reader wakes at once. Over loopback UDP the wake-up waits for the
// runtime's network poller, up to milliseconds of wall time while the
// virtual clock steps on the mesh, and the same seed would not give the
// same run.
type peerHub struct {
	activity *atomic.Uint64

	mu    sync.Mutex
	conns map[netip.AddrPort]*peerConn
}

type peerDatagram struct {
	b    []byte
	from *net.UDPAddr
}

// listen opens gateway i's peer socket, at 192.0.2.1:(i+1) (TEST-NET-1,
// RFC 5737: an address that is never bound).
func (h *peerHub) listen(i int) *peerConn {
	ap := netip.AddrPortFrom(netip.AddrFrom4([4]byte{192, 0, 2, 1}), uint16(i+1))
	c := &peerConn{hub: h, ap: ap, addr: net.UDPAddrFromAddrPort(ap), in: make(chan peerDatagram, 256),
		done: make(chan struct{}), dl: make(chan struct{})}
	h.mu.Lock()
	if h.conns == nil {
		h.conns = map[netip.AddrPort]*peerConn{}
	}
	h.conns[ap] = c
	h.mu.Unlock()
	return c
}

// peerConn is one gateway's peer socket on a peerHub. It implements
// net.PacketConn.
type peerConn struct {
	hub  *peerHub
	ap   netip.AddrPort
	addr *net.UDPAddr
	in   chan peerDatagram
	once sync.Once
	done chan struct{}

	mu    sync.Mutex
	dl    chan struct{} // closed when the read deadline has passed
	timer *time.Timer
}

func (c *peerConn) ReadFrom(b []byte) (int, net.Addr, error) {
	c.mu.Lock()
	dl := c.dl
	c.mu.Unlock()
	select {
	case d := <-c.in:
		return copy(b, d.b), d.from, nil
	case <-c.done:
		return 0, nil, net.ErrClosed
	case <-dl:
		return 0, nil, os.ErrDeadlineExceeded
	}
}

func (c *peerConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.AddrError{Err: "not a UDP address", Addr: addr.String()}
	}
	ap := ua.AddrPort()
	ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	c.hub.mu.Lock()
	dst := c.hub.conns[ap]
	c.hub.mu.Unlock()
	if dst == nil {
		return len(b), nil // nobody there: lost, as UDP
	}
	if c.hub.activity != nil {
		c.hub.activity.Add(1)
	}
	select {
	case dst.in <- peerDatagram{b: append([]byte(nil), b...), from: c.addr}:
	default: // the reader's queue is full: dropped, as UDP
	}
	return len(b), nil
}

func (c *peerConn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.hub.mu.Lock()
		delete(c.hub.conns, c.ap)
		c.hub.mu.Unlock()
		c.mu.Lock()
		if c.timer != nil {
			c.timer.Stop()
		}
		c.mu.Unlock()
	})
	return nil
}

func (c *peerConn) LocalAddr() net.Addr { return c.addr }

// SetReadDeadline implements net.PacketConn (wall clock, as a socket's).
func (c *peerConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
	select {
	case <-c.dl:
		c.dl = make(chan struct{}) // a new deadline replaces a passed one
	default:
	}
	if t.IsZero() {
		return nil
	}
	dl := c.dl
	if d := time.Until(t); d <= 0 {
		close(dl)
	} else {
		c.timer = time.AfterFunc(d, func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.dl == dl {
				close(dl)
			}
		})
	}
	return nil
}

func (c *peerConn) SetDeadline(t time.Time) error { return c.SetReadDeadline(t) }

func (c *peerConn) SetWriteDeadline(time.Time) error { return nil }
